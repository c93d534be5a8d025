import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { TaskorchClientError, type Task } from "@taskorch/client";
import { loadDashboardConfig } from "./config.js";
import { startDashboard, type DashboardServer } from "./server.js";
import type { DashboardClient } from "./sampler.js";

const UNAUTH = 16;
const DENIED = 7;
const UNIMPLEMENTED = 12;

const task = (id: string, status: Task["status"] = "dead_letter"): Task => ({ id, type: "t", queue: "default", payload: null, priority: 0, status, attempts: 1, maxAttempts: 1 });

/** A fake cluster: tokens "read" and "operate" are valid; retries need "operate". Records the token of every call. */
function fakeCluster(opts: { authRequired?: boolean; schedules?: "missing" | "unimplemented" | "ok" } = {}) {
  const calls: { method: string; token: string | undefined }[] = [];
  const factory = (token: string | undefined) => {
    const check = (method: string, operate = false) => {
      calls.push({ method, token });
      if (opts.authRequired && token !== "read" && token !== "operate") throw new TaskorchClientError(UNAUTH, "missing or unknown API token");
      if (opts.authRequired && operate && token !== "operate") throw new TaskorchClientError(DENIED, "token lacks operate");
    };
    const client: DashboardClient & { close(): void; listSchedules?: () => Promise<unknown> } = {
      async list(filter = {}) {
        check("list");
        return { tasks: filter.status === "dead_letter" ? [task("a"), task("b")] : [] };
      },
      async get(id) {
        check("get");
        return task(id);
      },
      async retry(id) {
        check("retry", true);
        return task(id, "queued");
      },
      async cancel(id) {
        check("cancel", true);
        return task(id, "canceled");
      },
      async listWorkers() {
        check("listWorkers");
        return [];
      },
      async getLeader() {
        check("getLeader");
        return { epoch: 3, held: true, leaderId: "c1" };
      },
      close() {},
    };
    if (opts.schedules === "unimplemented") client.listSchedules = async () => Promise.reject(new TaskorchClientError(UNIMPLEMENTED, "no"));
    if (opts.schedules === "ok") client.listSchedules = async () => ({ schedules: [{ id: "s1" }] });
    return client;
  };
  return { calls, factory };
}

let dash: DashboardServer | undefined;
afterEach(async () => {
  await dash?.close();
  dash = undefined;
});

async function setup(env: Record<string, string> = {}, cluster = fakeCluster()) {
  dash = await startDashboard(loadDashboardConfig({ DASHBOARD_PORT: "0", ...env }), { clientFunc: cluster.factory });
  const base = dash.url;
  let cookie = "";
  const req = async (method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { ...(cookie ? { cookie } : {}), ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const set = res.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0]!;
    return { status: res.status, headers: res.headers, json: (await res.json().catch(() => undefined)) as Record<string, any> };
  };
  const session = await req("GET", "/api/session");
  return { base, req, csrf: session.json.csrfToken as string, cluster, cookie: () => cookie };
}

describe("dashboard HTTP API", () => {
  it("serves the page with a strict CSP and answers health", async () => {
    const { base } = await setup();
    const page = await fetch(base + "/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain('src="/assets/app.js"');
    expect((await fetch(base + "/assets/style.css")).status).toBe(200);
    expect((await fetch(base + "/assets/..%2Fpackage.json")).status).toBe(404);
    expect((await fetch(base + "/health")).status).toBe(200);
  });

  it("refuses POSTs without the CSRF token, from another origin, or without a JSON body", async () => {
    const { req, csrf } = await setup();
    expect((await req("POST", "/api/tasks/a/retry", { body: {} })).json.error.code).toBe("CSRF");
    expect((await req("POST", "/api/tasks/a/retry", { body: {}, headers: { "x-taskorch-csrf": "nope" } })).status).toBe(403);
    expect((await req("POST", "/api/tasks/a/retry", { body: {}, headers: { "x-taskorch-csrf": csrf, origin: "https://evil.example" } })).json.error.code).toBe("ORIGIN");
    expect((await req("POST", "/api/tasks/a/retry", { body: {}, headers: { "x-taskorch-csrf": csrf, "sec-fetch-site": "cross-site" } })).status).toBe(403);
    expect((await req("POST", "/api/tasks/a/retry", { headers: { "x-taskorch-csrf": csrf, "content-type": "text/plain" } })).status).toBe(415);
    const ok = await req("POST", "/api/tasks/a/retry", { body: {}, headers: { "x-taskorch-csrf": csrf } });
    expect(ok.status).toBe(200);
    expect(ok.json.task.status).toBe("queued");
  });

  it("keeps CORS closed unless the origin is configured", async () => {
    const { base } = await setup({ DASHBOARD_CORS_ORIGINS: "https://ops.example.com" });
    const closed = await fetch(base + "/api/session", { headers: { origin: "https://evil.example" } });
    expect(closed.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await fetch(base + "/api/tasks/retry", { method: "OPTIONS", headers: { origin: "https://evil.example" } });
    expect(pre.status).toBe(403);
    const open = await fetch(base + "/api/tasks/retry", { method: "OPTIONS", headers: { origin: "https://ops.example.com" } });
    expect(open.status).toBe(204);
    expect(open.headers.get("access-control-allow-origin")).toBe("https://ops.example.com");
    expect(open.headers.get("access-control-allow-headers")).toContain("x-taskorch-csrf");
  });

  it("refuses Host names other than loopback when bound to loopback (DNS rebinding)", async () => {
    const { base } = await setup();
    // fetch will not send a foreign Host header; node:http will, like a rebound browser.
    const status = await new Promise<number | undefined>((resolve, reject) =>
      request(base + "/api/session", { headers: { host: "attacker.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on("error", reject)
        .end(),
    );
    expect(status).toBe(421);
  });

  it("asks for a token when the cluster requires one, forwards it, and maps missing permission to 403", async () => {
    const cluster = fakeCluster({ authRequired: true });
    const { req, csrf } = await setup({}, cluster);
    expect((await req("GET", "/api/tasks")).status).toBe(401);
    expect((await req("GET", "/api/tasks")).json.error.code).toBe("UNAUTHENTICATED");
    // A refused token is reported at sign-in and not kept.
    expect((await req("POST", "/api/session", { body: { token: "wrong" }, headers: { "x-taskorch-csrf": csrf } })).status).toBe(401);
    const signed = await req("POST", "/api/session", { body: { token: "read" }, headers: { "x-taskorch-csrf": csrf } });
    expect(signed.status).toBe(200);
    expect(signed.json.hasToken).toBe(true);
    expect(signed.json.csrfToken).not.toBe(csrf); // a new session on sign-in
    expect((await req("GET", "/api/tasks")).status).toBe(200);
    expect(cluster.calls.filter((c) => c.method === "list").at(-1)!.token).toBe("read");
    // The old CSRF token died with the old session.
    expect((await req("POST", "/api/tasks/a/retry", { body: {}, headers: { "x-taskorch-csrf": csrf } })).status).toBe(403);
    const denied = await req("POST", "/api/tasks/a/retry", { body: {}, headers: { "x-taskorch-csrf": signed.json.csrfToken } });
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe("PERMISSION_DENIED");
    const bulkDenied = await req("POST", "/api/tasks/retry", { body: { ids: ["a", "b"] }, headers: { "x-taskorch-csrf": signed.json.csrfToken } });
    expect(bulkDenied.json.error.code).toBe("PERMISSION_DENIED");

    const operate = await req("POST", "/api/session", { body: { token: "operate" }, headers: { "x-taskorch-csrf": signed.json.csrfToken } });
    const all = await req("POST", "/api/dead-letters/retry-all", { body: { type: "t" }, headers: { "x-taskorch-csrf": operate.json.csrfToken } });
    expect(all.json).toEqual({ retried: 2, failed: [] });
    expect(cluster.calls.filter((c) => c.method === "retry").every((c) => c.token !== undefined)).toBe(true);
  });

  it("a request sent just before a sign-in or sign-out does not undo it when it arrives after", async () => {
    const { base, req, csrf, cookie } = await setup({}, fakeCluster({ authRequired: true }));
    // A request already on its way carries the cookie the page had when it was sent.
    const late = (sentWith: string) => fetch(base + "/api/tasks", { headers: { cookie: sentWith } });

    const anonymous = cookie();
    const signed = await req("POST", "/api/session", { body: { token: "read" }, headers: { "x-taskorch-csrf": csrf } });
    expect(signed.json.hasToken).toBe(true);
    const afterSignIn = await late(anonymous);
    expect(afterSignIn.status).toBe(401); // answered as it was sent: signed out
    expect(afterSignIn.headers.get("set-cookie")).toBeNull(); // and the browser keeps the new session
    expect((await req("GET", "/api/tasks")).status).toBe(200);

    const withToken = cookie();
    const out = await req("POST", "/api/session/logout", { body: {}, headers: { "x-taskorch-csrf": signed.json.csrfToken } });
    expect(out.json.hasToken).toBe(false);
    const afterSignOut = await late(withToken);
    expect(afterSignOut.status).toBe(401); // a replaced session's token is not used any more
    expect(afterSignOut.headers.get("set-cookie")).toBeNull();
    expect((await req("GET", "/api/session")).json.csrfToken).toBe(out.json.csrfToken);

    // A cookie the server never issued (or forgot: restart, idle) still gets a new session.
    expect((await fetch(base + "/api/session", { headers: { cookie: "taskorch_dashboard=unknown" } })).headers.get("set-cookie")).toContain("HttpOnly");
  });

  it("validates bulk retry input", async () => {
    const { req, csrf } = await setup();
    const h = { "x-taskorch-csrf": csrf };
    expect((await req("POST", "/api/tasks/retry", { body: { ids: [] }, headers: h })).status).toBe(400);
    expect((await req("POST", "/api/dead-letters/retry-all", { body: {}, headers: h })).status).toBe(400);
    expect((await req("GET", "/api/tasks?status=bogus")).status).toBe(400);
    expect((await req("POST", "/api/tasks/retry", { body: { ids: ["a", "b"] }, headers: h })).json).toEqual({ retried: 2, failed: [] });
  });

  it("says schedules are not available yet when the RPCs are missing or unimplemented", async () => {
    expect((await (await setup({}, fakeCluster({ schedules: "missing" }))).req("GET", "/api/schedules")).json.available).toBe(false);
    await dash!.close();
    expect((await (await setup({}, fakeCluster({ schedules: "unimplemented" }))).req("GET", "/api/schedules")).json.available).toBe(false);
    await dash!.close();
    expect((await (await setup({}, fakeCluster({ schedules: "ok" }))).req("GET", "/api/schedules")).json).toEqual({ available: true, schedules: [{ id: "s1" }] });
  });

  it("streams overview snapshots over SSE", async () => {
    const { base, req } = await setup({ DASHBOARD_POLL_INTERVAL: "250ms" });
    await req("GET", "/api/session");
    const ctrl = new AbortController();
    const res = await fetch(base + "/api/events", { signal: ctrl.signal });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    let text = "";
    while ((text.match(/event: overview/g) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
    ctrl.abort();
    const data = JSON.parse(/event: overview\ndata: (.*)\n/.exec(text)![1]!);
    expect(data.leader).toEqual({ epoch: 3, held: true, leaderId: "c1" });
    expect(data.totals.dead_letter).toBe(2);
  });
});
