/**
 * The dashboard as an operator uses it: Debian's Chromium (driven by playwright-core) against the
 * dashboard process and a real cluster (scheduler, coordinator, workers, Postgres, NATS).
 *
 * What it shows:
 *   1. A task that always fails (example.fail, max_attempts 1) appears under Dead letters without a
 *      page reload (the server-sent stream drives the list).
 *   2. A retried dead letter that then SUCCEEDS. RetryTask grants a fresh budget of attempts, so
 *      retrying a task whose handler fails by its payload (example.fail) fails again: that is not a
 *      success story. What does succeed on retry is a task that
 *      died of an infrastructure fault, the real reason operators retry: an example.sleep task
 *      (max_attempts 1) runs on a worker of queue "fragile"; we SIGKILL that worker mid-run; the
 *      leader's orphan rescue dead-letters the task (its one attempt was spent); a healthy worker for
 *      "fragile" starts; the operator clicks Retry in the UI; the task runs and succeeds, and the task
 *      page shows "succeeded" with the handler's result — live, without a reload.
 *   3. Retry selected, retry all of a type, cancel, workers alive/dead, schedules "not available yet"
 *      (or the list, once the RPCs exist), the Jaeger link, CSRF refusal, keyboard navigation, dark
 *      mode at a narrow width.
 *
 * Screenshots go to docs/images/ when UPDATE_SCREENSHOTS=1 (so routine runs leave the tree clean),
 * otherwise to a temporary directory.
 * Needs /usr/bin/chromium (`apt-get install -y chromium`); SKIP_BROWSER_TESTS=1 skips it.
 * No timing is asserted here: responsiveness at 100k tasks belongs to the benchmark (docs/dashboard.md).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TaskorchClient } from "@taskorch/client";
import { eventually, freePort, startOtlpReceiver, type OtlpReceiver } from "@taskorch/testkit";
import { chromium, type BrowserContext, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./cluster.js";

const CHROMIUM = "/usr/bin/chromium";
const SKIP = process.env.SKIP_BROWSER_TESTS === "1";
const DASHBOARD_MAIN = fileURLToPath(new URL("../../services/dashboard/dist/main.js", import.meta.url));
const DOCS_IMAGES = fileURLToPath(new URL("../../docs/images/", import.meta.url));
const JAEGER = "http://jaeger.example.invalid:16686";

describe.skipIf(SKIP)("dashboard in a real browser", () => {
  let c: Cluster;
  let receiver: OtlpReceiver;
  let client: TaskorchClient;
  let dash: ChildProcess;
  let dashOut = "";
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let shots: string;

  const shot = async (name: string) => {
    // Toasts of earlier steps would cover the picture.
    await page.evaluate("document.getElementById('toasts').replaceChildren()");
    await page.screenshot({ path: join(shots, name), fullPage: false });
  };
  /** Fails with the dashboard's and cluster's logs, which say why far better than a timeout. */
  const until = async <T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 30_000): Promise<T> => {
    try {
      return await eventually(fn, { timeoutMs, intervalMs: 200, what });
    } catch (err) {
      throw new Error(`${String(err)}\n--- dashboard ---\n${dashOut.slice(-3000)}\n${await c.diagnostics()}`);
    }
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the dashboard's browser test needs Debian's Chromium. Install it with \`apt-get update && apt-get install -y chromium\` (as root), or set SKIP_BROWSER_TESTS=1 to skip this test.`);
    }
    if (!existsSync(DASHBOARD_MAIN)) throw new Error(`${DASHBOARD_MAIN} is missing: run \`npx tsc -b\` first`);
    shots = process.env.UPDATE_SCREENSHOTS === "1" ? DOCS_IMAGES : mkdtempSync(join(tmpdir(), "taskorch-dashboard-shots-"));
    mkdirSync(shots, { recursive: true });
    receiver = await startOtlpReceiver();
    c = await startCluster({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint } });
    client = new TaskorchClient({ address: `127.0.0.1:${c.scheduler.grpcPort}`, coordinatorAddress: `127.0.0.1:${c.coordinator.grpcPort}` });

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    dash = spawn(process.execPath, [DASHBOARD_MAIN], {
      env: {
        PATH: process.env.PATH ?? "",
        SCHEDULER_ADDR: `127.0.0.1:${c.scheduler.grpcPort}`,
        COORDINATOR_ADDR: `127.0.0.1:${c.coordinator.grpcPort}`,
        DASHBOARD_PORT: String(port),
        DASHBOARD_POLL_INTERVAL: "500ms",
        DASHBOARD_RATE_WINDOW: "10s",
        JAEGER_UI_URL: JAEGER,
        METRICS_URLS: [c.scheduler, c.coordinator, ...c.workers].map((p) => `http://127.0.0.1:${p.metricsPort}/metrics`).join(","),
        LOG_FORMAT: "json",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    dash.stdout?.on("data", (d: Buffer) => (dashOut += d.toString()));
    dash.stderr?.on("data", (d: Buffer) => (dashOut += d.toString()));
    await until("dashboard healthy", async () => (await fetch(`${base}/health`).catch(() => undefined))?.ok);

    userDataDir = mkdtempSync(join(tmpdir(), "taskorch-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
      viewport: { width: 1440, height: 900 },
      colorScheme: "light",
    });
    page = context.pages()[0] ?? (await context.newPage());
    // Confirmation dialogs (cancel, retry all) are accepted as an operator would.
    page.on("dialog", (d) => void d.accept());
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    if (shots && shots !== DOCS_IMAGES) rmSync(shots, { recursive: true, force: true });
    if (dash && dash.exitCode === null) {
      dash.kill("SIGTERM");
      await new Promise((r) => dash.once("exit", r));
    }
    client?.close();
    await c?.teardown();
    await receiver?.close();
  });

  it("shows the cluster on the overview, live", async () => {
    await page.goto(base);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.locator('[data-testid="leader"]').getByText(/epoch \d+/).waitFor();
    await page.locator("#live.live").getByText("live").waitFor();
    // Live: the sample time changes while the page stays loaded.
    const first = await page.locator("#live").getAttribute("data-sampled-at");
    await until("a second sample", async () => (await page.locator("#live").getAttribute("data-sampled-at")) !== first);
    await expect(page.locator(".card").filter({ hasText: "Workers" }).innerText()).resolves.toMatch(/1 alive/);
  });

  it("shows a failing task under Dead letters without a reload", async () => {
    await page.getByRole("link", { name: "Dead letters" }).click();
    await page.getByRole("heading", { name: "Dead letters" }).waitFor();
    await page.evaluate("window.__sameDocument = true");
    const task = await client.enqueue("example.fail", { message: "boom from the e2e test" }, { maxAttempts: 1 });
    const row = page.locator(`tr[data-task-id="${task.id}"]`);
    await row.waitFor({ timeout: 30_000 });
    await expect(row.innerText()).resolves.toContain("boom from the e2e test");
    expect(await page.evaluate("window.__sameDocument === true")).toBe(true);
    await shot("dashboard-dead-letters.png");
  });

  it("retries a dead letter from the UI and sees it succeed", async () => {
    const fragile = await c.startWorker({ WORKER_QUEUES: "fragile" });
    const task = await client.enqueue("example.sleep", { ms: 4000 }, { queue: "fragile", maxAttempts: 1 });
    await until("task running on the fragile worker", async () => (await client.get(task.id)).status === "running");
    fragile.signal("SIGKILL");
    await fragile.exited;

    // The leader notices the dead worker and dead-letters its task (its only attempt was spent).
    await page.goto(`${base}/#/dead-letters?queue=fragile`);
    const row = page.locator(`tr[data-task-id="${task.id}"]`);
    await row.waitFor({ timeout: 45_000 });
    await c.startWorker({ WORKER_QUEUES: "fragile" });

    await row.getByRole("button", { name: "Retry" }).click();
    await page.getByText(/Retried .* back in queue fragile/).waitFor();
    await page.goto(`${base}/#/tasks/${task.id}`);
    await page.locator('[data-testid="task-status"]').getByText("succeeded").waitFor({ timeout: 45_000 });
    await expect(page.locator('[data-testid="task-result"]').innerText()).resolves.toContain('"sleptMs": 4000');
    // The retry got a fresh budget of one attempt, numbered on from the lost one.
    await expect(page.locator('[data-testid="task-attempts"]').innerText()).resolves.toBe("2 of 2");
    expect((await client.get(task.id)).status).toBe("succeeded");
    // One task is one trace, linked to Jaeger.
    const href = await page.locator('[data-testid="trace-link"]').getAttribute("href");
    expect(href).toBe(`${JAEGER}/trace/${(await client.get(task.id)).traceId}`);
    await shot("dashboard-task.png");
  });

  it("retries selected dead letters and all of a type", async () => {
    const tasks = await Promise.all([1, 2, 3].map((i) => client.enqueue("example.fail", { message: `bulk ${i}` }, { maxAttempts: 1 })));
    await until("three dead letters", async () => (await Promise.all(tasks.map((t) => client.get(t.id)))).every((t) => t.status === "dead_letter"));
    const before = await client.get(tasks[0]!.id);

    await page.goto(`${base}/#/dead-letters?type=example.fail`);
    await page.locator(`tr[data-task-id="${tasks[0]!.id}"]`).waitFor();
    await page.getByRole("checkbox", { name: `select ${tasks[0]!.id}` }).check();
    await page.getByRole("button", { name: "Retry selected (1)" }).click();
    await page.getByText("Retried 1 task.").waitFor();
    // example.fail fails again on its reset attempt: it went back to the queue and dead-lettered once more.
    await until("selected task retried", async () => {
      const t = await client.get(tasks[0]!.id);
      return t.status === "dead_letter" && t.updatedAt!.getTime() > before.updatedAt!.getTime();
    });

    await until("all three dead again", async () => (await Promise.all(tasks.map((t) => client.get(t.id)))).every((t) => t.status === "dead_letter"));
    await page.getByRole("button", { name: "Retry all example.fail" }).click();
    await page.getByText(/Retried [3-9] tasks\./).waitFor();
  });

  it("cancels a task from its page", async () => {
    const task = await client.enqueue("example.noop", { later: true }, { delayMs: 3_600_000 });
    await page.goto(`${base}/#/tasks/${task.id}`);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.locator('[data-testid="task-status"]').getByText("canceled").waitFor();
    expect((await client.get(task.id)).status).toBe("canceled");
    await page.getByRole("button", { name: "Retry" }).waitFor();
  });

  it("filters, finds and pages tasks", async () => {
    const many = await client.enqueueMany(Array.from({ length: 60 }, (_, i) => ({ type: "example.noop", payload: { i }, queue: "paging" })));
    const ids = new Set(many.map((t) => t.id));
    const shownIds = () => page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-task-id")!));
    await page.goto(`${base}/#/tasks?queue=paging`);
    await until("first page of 50", async () => (await shownIds()).length === 50);
    const first = await shownIds();
    await page.getByRole("button", { name: "Older →" }).click();
    await until("second page of 10", async () => (await shownIds()).length === 10);
    const second = await shownIds();
    expect(new Set([...first, ...second])).toEqual(ids);
    await page.getByRole("button", { name: "← Newer" }).click();
    await until("back on the first page", async () => (await shownIds()).length === 50);

    await page.getByLabel("Task id").fill(many[5]!.id);
    await page.getByLabel("Task id").press("Enter");
    await page.locator('[data-testid="task-status"]').waitFor();
    expect(page.url()).toContain(`#/tasks/${many[5]!.id}`);
  });

  it("lists workers alive and dead, and schedules gracefully", async () => {
    await page.goto(`${base}/#/workers`);
    await page.getByRole("heading", { name: "Workers" }).waitFor();
    await page.locator("tbody tr").filter({ hasText: "fragile" }).filter({ hasText: "dead" }).first().waitFor({ timeout: 30_000 });
    await page.locator("tbody tr").filter({ hasText: "default" }).filter({ hasText: "alive" }).first().waitFor();
    await shot("dashboard-workers.png");

    await page.goto(`${base}/#/schedules`);
    await page.getByRole("heading", { name: "Schedules" }).waitFor();
    await page.locator('[data-testid="schedules-unavailable"], pre.json, main p.muted:text("No schedules.")').first().waitFor();
    expect(await page.locator("main .alert").count()).toBe(0);
  });

  it("is keyboard-navigable and refuses cross-site actions", async () => {
    await page.goto(`${base}/#/`);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    await page.keyboard.press("g");
    await page.keyboard.press("d");
    await page.getByRole("heading", { name: "Dead letters" }).waitFor();
    // A POST without the session's CSRF header is refused, even from the page itself.
    const status = await page.evaluate(async () => (await fetch("/api/tasks/retry", { method: "POST", headers: { "content-type": "application/json" }, body: '{"ids":["x"]}' })).status);
    expect(status).toBe(403);
    // And another site cannot post at all (Origin check), nor read the API (no CORS headers).
    const res = await fetch(`${base}/api/tasks/retry`, { method: "POST", headers: { origin: "https://evil.example", "content-type": "application/json", "x-taskorch-csrf": "guess" }, body: '{"ids":["x"]}' });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("takes the overview screenshots (wide light, narrow dark)", async () => {
    // Some traffic, so the rates and depth table have something to show.
    await client.enqueueMany(Array.from({ length: 40 }, (_, i) => ({ type: i % 2 ? "example.noop" : "example.sleep", payload: { ms: 3000 } })));
    await client.enqueue("example.noop", {}, { delayMs: 3_600_000, queue: "reports" });
    await page.goto(`${base}/#/`);
    await page.locator('[data-testid="rate-enqueued"]').getByText(/\/s/).waitFor();
    await until("rates computed", async () => /[1-9]/.test(await page.locator('[data-testid="rate-enqueued"] .value').innerText()));
    // The snapshot after the enqueues: the delayed task's queue shows up in the depth table.
    await page.locator("table td", { hasText: /^reports$/ }).waitFor();
    await shot("dashboard-overview.png");

    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    const bg = await page.evaluate("getComputedStyle(document.body).backgroundColor");
    expect(bg).toBe("rgb(15, 18, 22)");
    // Nothing wider than the screen but the tables' own scroll boxes.
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await shot("dashboard-overview-dark-narrow.png");
  });
});

/**
 * With API tokens on (AUTH_TOKENS_FILE), the dashboard asks for one, forwards it, and an action needs
 * the operate permission: a submit-only token may look but not cancel.
 */
describe.skipIf(SKIP)("dashboard with API tokens", () => {
  const VIEWER = "viewer-token-for-the-dashboard-e2e";
  const ONCALL = "oncall-token-for-the-dashboard-e2e";
  let startDashboard: () => Promise<void>;
  let c: Cluster;
  let dir: string;
  let oncall: TaskorchClient;
  let dash: ChildProcess;
  let base: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get update && apt-get install -y chromium\`, or set SKIP_BROWSER_TESTS=1`);
    dir = mkdtempSync(join(tmpdir(), "taskorch-dashboard-auth-"));
    const sha = (t: string) => createHash("sha256").update(t).digest("hex");
    const tokensFile = join(dir, "tokens.json");
    writeFileSync(tokensFile, JSON.stringify({ tokens: [{ name: "viewer", sha256: sha(VIEWER), permissions: ["submit"] }, { name: "oncall", sha256: sha(ONCALL), permissions: ["submit", "operate"] }] }));
    c = await startCluster({ env: { AUTH_TOKENS_FILE: tokensFile }, workers: 0 });
    oncall = new TaskorchClient({ address: `127.0.0.1:${c.scheduler.grpcPort}`, coordinatorAddress: `127.0.0.1:${c.coordinator.grpcPort}`, token: ONCALL });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    startDashboard = async () => {
      dash = spawn(process.execPath, [DASHBOARD_MAIN], {
        env: { PATH: process.env.PATH ?? "", SCHEDULER_ADDR: `127.0.0.1:${c.scheduler.grpcPort}`, COORDINATOR_ADDR: `127.0.0.1:${c.coordinator.grpcPort}`, DASHBOARD_PORT: String(port), DASHBOARD_POLL_INTERVAL: "500ms" },
        stdio: "ignore",
      });
      await eventually(async () => (await fetch(`${base}/health`).catch(() => undefined))?.ok, { timeoutMs: 30_000, what: "dashboard healthy" });
    };
    await startDashboard();
    context = await chromium.launchPersistentContext(join(dir, "chromium"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
      viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("dialog", (d) => void d.accept());
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (dash && dash.exitCode === null) {
      dash.kill("SIGTERM");
      await new Promise((r) => dash.once("exit", r));
    }
    oncall?.close();
    await c?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Signs in through the token dialog; when the dialog stays open, the failure says what it shows. */
  const signIn = async (dialog: Locator, token: string) => {
    await dialog.getByLabel("Token").fill(token);
    await dialog.getByRole("button", { name: "Sign in" }).click();
    try {
      await dialog.waitFor({ state: "hidden" });
    } catch (err) {
      // A string, not a function: this file compiles without the DOM's types.
      const shown = await page.evaluate(`({
        reason: document.querySelector("#token-reason")?.textContent,
        error: document.querySelector("#token-error")?.textContent,
        auth: document.querySelector("#auth")?.textContent,
        openings: window.__dialogLog,
      })`);
      throw new Error(`the token dialog stayed open after signing in: ${JSON.stringify(shown)}`, { cause: err });
    }
  };

  it("asks for a token, refuses a wrong one, and needs operate for actions", async () => {
    const task = await oncall.enqueue("example.noop", {}, { delayMs: 3_600_000 });
    // Each time the token dialog opens or closes, and why, for the failure message of signIn.
    await page.addInitScript(`
      const log = (window.__dialogLog = []);
      document.addEventListener("DOMContentLoaded", () => {
        const d = document.querySelector("#token-dialog");
        new MutationObserver(() => {
          const why = d.querySelector("#token-reason")?.textContent ?? "";
          log.push(Math.round(performance.now()) + "ms " + (d.hasAttribute("open") ? "opened: " + why : "closed"));
        }).observe(d, { attributes: true, attributeFilter: ["open"] });
      });
    `);
    await page.goto(base);
    const dialog = page.getByRole("dialog", { name: "API token" });
    await dialog.waitFor();
    await dialog.getByLabel("Token").fill("not-a-token");
    await dialog.getByRole("button", { name: "Sign in" }).click();
    await dialog.getByText("The cluster refused this token.").waitFor();

    await signIn(dialog, VIEWER);
    await page.goto(`${base}/#/tasks/${task.id}`);
    await page.locator('[data-testid="task-status"]').getByText("pending").waitFor();
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByText(/Not allowed: this API token lacks the permission/).waitFor();
    expect((await oncall.get(task.id)).status).toBe("pending");

    // Signed out, the cluster refuses the anonymous session again and the dialog comes back by itself.
    await page.getByRole("button", { name: "Sign out" }).click();
    await dialog.waitFor();
    await signIn(dialog, ONCALL);
    await page.goto(`${base}/#/tasks/${task.id}`);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.locator('[data-testid="task-status"]').getByText("canceled").waitFor();
    expect((await oncall.get(task.id)).status).toBe("canceled");
    // The overview's workers and leader need operate too: with the on-call token they are there.
    await page.goto(`${base}/#/`);
    await page.locator('[data-testid="leader"]').getByText(/epoch \d+/).waitFor();
  });

  it("signs in again without a reload after the dashboard restarted and forgot the session", async () => {
    // Signed in with the on-call token (above). A restart (a rolling deploy) loses every session.
    dash.kill("SIGTERM");
    await new Promise((r) => dash.once("exit", r));
    await startDashboard();
    // The live stream reconnects on its own, without a token now, and the dialog comes back.
    const dialog = page.getByRole("dialog", { name: "API token" });
    await dialog.waitFor({ timeout: 30_000 });
    // The page's CSRF token belongs to the lost session: the sign-in renews it and goes through.
    await signIn(dialog, ONCALL);
    await page.locator('[data-testid="leader"]').getByText(/epoch \d+/).waitFor();
  });
});
