import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { NotFoundError } from "@taskorch/domain";
import { CancelTaskRequest, EnqueueTaskRequest, GetTaskRequest, ListTasksRequest, SchedulerServiceClient, SchedulerServiceService } from "@taskorch/proto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertQueueAccess, parseTokensFile, permissionFor, TokenStore } from "./auth.js";
import { startGrpcServer, type GrpcServer } from "./server.js";
import { unary } from "./unary.js";

const SUBMIT_TOKEN = "submit-token-0123456789abcdef";
const OPS_TOKEN = "ops-token-0123456789abcdef";
const BILLING_TOKEN = "billing-token-0123456789abcdef";
const sha = (t: string) => createHash("sha256").update(t).digest("hex");

function tokensDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "taskorch-auth-"));
  writeFileSync(join(dir, "ops.token"), `${OPS_TOKEN}\n`);
  writeFileSync(
    join(dir, "tokens.yaml"),
    [
      "tokens:",
      "  - name: app",
      `    sha256: ${sha(SUBMIT_TOKEN)}`,
      "    permissions: [submit]",
      "  - name: oncall",
      "    secretFile: ops.token",
      "    permissions: [submit, operate]",
      "  - name: billing",
      `    sha256: ${sha(BILLING_TOKEN)}`,
      "    permissions: [submit, operate]",
      "    queues: [billing]",
    ].join("\n"),
  );
  return dir;
}

describe("parseTokensFile", () => {
  it("rejects bad entries naming the entry, never the secret", () => {
    const bad = (text: string) => () => parseTokensFile(text, "/x/tokens.json", () => "short");
    expect(bad("{}")).toThrow(/non-empty list "tokens"/);
    expect(bad(JSON.stringify({ tokens: [{ name: "a", sha256: "zz", permissions: ["submit"] }] }))).toThrow(/tokens\[0\] \(a\)\.sha256 must be 64 hex/);
    expect(bad(JSON.stringify({ tokens: [{ name: "a", secretFile: "s", permissions: ["submit"] }] }))).toThrow(/at least 16 characters/);
    expect(bad(JSON.stringify({ tokens: [{ name: "a", sha256: sha("x"), permissions: ["root"] }] }))).toThrow(/permissions must be/);
    expect(bad(JSON.stringify({ tokens: [{ name: "a", sha256: sha("x"), permissions: ["submit"], queues: ["no spaces"] }] }))).toThrow(/queues/);
    expect(bad(JSON.stringify([{ name: "a", sha256: sha("x"), permissions: ["submit"] }, { name: "a", sha256: sha("y"), permissions: ["submit"] }]))).toThrow(/used twice/);
    try {
      parseTokensFile(JSON.stringify({ tokens: [{ name: "a", secretFile: "s", permissions: ["submit"] }] }), "/x/t.json", () => "hunter2");
    } catch (err) {
      expect(String(err)).not.toContain("hunter2");
    }
  });

  it("maps methods to permissions, closed by default", () => {
    expect(permissionFor("/taskorch.v1.SchedulerService/EnqueueTask")).toBe("submit");
    expect(permissionFor("/taskorch.v1.SchedulerService/CancelTask")).toBe("operate");
    expect(permissionFor("/taskorch.v1.SchedulerService/FrobnicateSchedule")).toBe("operate");
    expect(permissionFor("/taskorch.v1.SchedulerService/DropEverything")).toBe("admin");
  });
});

describe("auth interceptor (in-process server)", () => {
  let server: GrpcServer;
  let store: TokenStore;
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  let client: SchedulerServiceClient;

  let dir: string;

  beforeAll(async () => {
    dir = tokensDir();
    store = new TokenStore({ file: join(dir, "tokens.yaml"), pollIntervalMs: 60_000 });
    expect(store.names).toEqual(["app", "oncall", "billing"]);
    store.close();
    const ok = <T>(v: T) => async () => v;
    server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      logger,
      auth: { file: join(dir, "tokens.yaml"), pollIntervalMs: 60_000 },
      services: [
        {
          name: "taskorch.v1.SchedulerService",
          definition: SchedulerServiceService,
          implementation: {
            enqueueTask: unary(logger, ok({})),
            getTask: unary(logger, async (req: { id: string }, call) => {
              // Pretend every task lives in queue "default".
              assertQueueAccess(call, "default", "GetTask");
              throw new NotFoundError(`task ${req.id} not found`);
            }),
            cancelTask: unary(logger, ok({})),
            listTasks: unary(logger, ok({ tasks: [], nextPageToken: "" })),
          },
        },
      ],
    });
    client = new SchedulerServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await server?.close(100);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = (method: "enqueueTask" | "getTask" | "cancelTask" | "listTasks", req: object, token?: string) =>
    new Promise<ServiceError | null>((resolve) => {
      const md = new Metadata();
      if (token !== undefined) md.set("authorization", token);
      const full = { enqueueTask: EnqueueTaskRequest, getTask: GetTaskRequest, cancelTask: CancelTaskRequest, listTasks: ListTasksRequest }[method].fromPartial(req);
      (client[method] as unknown as (r: object, m: Metadata, cb: (e: ServiceError | null) => void) => void).call(client, full, md, (e) => resolve(e));
    });

  it("UNAUTHENTICATED without a token or with a wrong one, never echoing it", async () => {
    const none = await call("enqueueTask", { type: "a" });
    expect(none?.code).toBe(status.UNAUTHENTICATED);
    expect(none?.details).toMatch(/authorization: Bearer/);
    const wrong = await call("enqueueTask", { type: "a" }, "Bearer not-a-real-token-at-all");
    expect(wrong?.code).toBe(status.UNAUTHENTICATED);
    expect(wrong?.details).not.toContain("not-a-real-token");
    expect((await call("enqueueTask", { type: "a" }, `Basic ${SUBMIT_TOKEN}`))?.code).toBe(status.UNAUTHENTICATED);
    expect(JSON.stringify(lines)).not.toContain("not-a-real-token");
  });

  it("PERMISSION_DENIED names the permission; audit lines name the token", async () => {
    expect(await call("enqueueTask", { type: "a" }, `Bearer ${SUBMIT_TOKEN}`)).toBeNull();
    const denied = await call("cancelTask", { id: "x" }, `bearer ${SUBMIT_TOKEN}`);
    expect(denied?.code).toBe(status.PERMISSION_DENIED);
    expect(denied?.details).toContain('"operate"');
    expect(denied?.details).not.toContain(SUBMIT_TOKEN);
    expect(await call("cancelTask", { id: "abc" }, `Bearer ${OPS_TOKEN}`)).toBeNull();
    const audit = lines.filter((l) => l.audit === true);
    expect(audit).toContainEqual(expect.objectContaining({ token: "oncall", method: "/taskorch.v1.SchedulerService/CancelTask", task_id: "abc", grpc_code: "OK" }));
    expect(audit).toContainEqual(expect.objectContaining({ token: "app", grpc_code: "PERMISSION_DENIED" }));
    expect(JSON.stringify(lines)).not.toContain(OPS_TOKEN);
  });

  it("queue-limited tokens: other queues are PERMISSION_DENIED, in requests and in handlers", async () => {
    expect(await call("enqueueTask", { type: "a", queue: "billing" }, `Bearer ${BILLING_TOKEN}`)).toBeNull();
    const other = await call("enqueueTask", { type: "a", queue: "emails" }, `Bearer ${BILLING_TOKEN}`);
    expect(other?.code).toBe(status.PERMISSION_DENIED);
    expect(other?.details).toMatch(/queue "emails".*limited to billing/);
    expect((await call("enqueueTask", { type: "a" }, `Bearer ${BILLING_TOKEN}`))?.code).toBe(status.PERMISSION_DENIED);
    expect((await call("listTasks", {}, `Bearer ${BILLING_TOKEN}`))?.code).toBe(status.PERMISSION_DENIED);
    expect(await call("listTasks", { queue: "billing" }, `Bearer ${BILLING_TOKEN}`)).toBeNull();
    expect((await call("getTask", { id: "x" }, `Bearer ${BILLING_TOKEN}`))?.code).toBe(status.PERMISSION_DENIED);
    expect((await call("getTask", { id: "x" }, `Bearer ${OPS_TOKEN}`))?.code).toBe(status.NOT_FOUND);
  });

  it("health stays open without a token", async () => {
    const { Client } = await import("@grpc/grpc-js");
    const raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const res = await new Promise<ServiceError | null>((resolve) =>
      raw.makeUnaryRequest("/grpc.health.v1.Health/Check", (x: Buffer) => x, (b: Buffer) => b, Buffer.alloc(0), (e) => resolve(e)),
    );
    raw.close();
    expect(res).toBeNull();
  });

  it("a garbage request body is INVALID_ARGUMENT, not INTERNAL", async () => {
    const { Client } = await import("@grpc/grpc-js");
    const raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const md = new Metadata();
    md.set("authorization", `Bearer ${OPS_TOKEN}`);
    const res = await new Promise<ServiceError | null>((resolve) =>
      raw.makeUnaryRequest("/taskorch.v1.SchedulerService/GetTask", (x: Buffer) => x, (b: Buffer) => b, Buffer.from([0xff, 0xff, 0xff, 0x0f]), md, (e) => resolve(e)),
    );
    raw.close();
    expect(res?.code).toBe(status.INVALID_ARGUMENT);
  });
});
