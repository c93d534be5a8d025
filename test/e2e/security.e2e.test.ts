/**
 * Security end to end: scheduler, coordinator and worker as processes, over mutual TLS (gRPC and
 * NATS), with API tokens, on a throwaway nats-server whose users have only the permissions
 * docs/security.md lists, then limits, and that no secret reaches a log.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentials, Metadata, status, type ServiceError, Client } from "@grpc/grpc-js";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createUser } from "@nats-io/nkeys";
import { connectBus } from "@taskorch/bus";
import { TaskorchClient, type TaskorchClientError } from "@taskorch/client";
import { listServicesViaReflection } from "@taskorch/rpc";
import { createTestDatabase, createTestPki, eventually, spawnService, startThrowawayNats, type ServiceProcess, type TestDatabase, type TestPki, type ThrowawayNats } from "@taskorch/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAST_ENV } from "./cluster.js";

/** The NATS authorization block of docs/security.md for one prefix: each role gets only what it uses. */
export function natsAuthorization(p: string, users: { scheduler: string; coordinator: string; workerNkey: string; passwordOf: (u: string) => string }): string {
  const q = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(", ")}]`;
  const streams = [`${p}_dispatch`, `${p}_reports`];
  const streamAdmin = ["$JS.API.INFO", ...streams.flatMap((s) => [`$JS.API.STREAM.INFO.${s}`, `$JS.API.STREAM.CREATE.${s}`, `$JS.API.STREAM.UPDATE.${s}`])];
  const scheduler = {
    publish: [...streamAdmin, `$JS.API.CONSUMER.INFO.${p}_reports.reports`, `$JS.API.CONSUMER.CREATE.${p}_reports.>`, `$JS.API.CONSUMER.DURABLE.CREATE.${p}_reports.>`,
      `$JS.API.CONSUMER.MSG.NEXT.${p}_reports.reports`, `$JS.ACK.${p}_reports.>`, `${p}.dispatch.>`, `${p}.cancels`, `${p}.events.finished`, `${p}.events.capacity`],
    subscribe: [`${p}.claims`, `${p}.events.finished`, "_INBOX.>"],
  };
  const coordinator = {
    publish: [...streamAdmin, `${p}.dispatch.>`, `${p}.events.>`],
    subscribe: [`${p}.heartbeats`, `${p}.events.leader`, `${p}.events.capacity`, "_INBOX.>"],
  };
  const worker = {
    publish: [...streamAdmin, `$JS.API.CONSUMER.INFO.${p}_dispatch.>`, `$JS.API.CONSUMER.CREATE.${p}_dispatch.>`, `$JS.API.CONSUMER.DURABLE.CREATE.${p}_dispatch.>`,
      `$JS.API.CONSUMER.UPDATE.${p}_dispatch.>`, `$JS.API.CONSUMER.MSG.NEXT.${p}_dispatch.>`, `$JS.ACK.${p}_dispatch.>`, `${p}.reports`, `${p}.heartbeats`, `${p}.claims`],
    subscribe: [`${p}.cancels`, "_INBOX.>"],
  };
  const perms = (r: { publish: string[]; subscribe: string[] }, responses = false) =>
    `permissions: { publish: { allow: ${q(r.publish)} }, subscribe: { allow: ${q(r.subscribe)} }${responses ? ", allow_responses: true" : ""} }`;
  return `authorization {
  users: [
    { user: ${users.scheduler}, password: ${JSON.stringify(users.passwordOf(users.scheduler))}, ${perms(scheduler, true)} }
    { user: ${users.coordinator}, password: ${JSON.stringify(users.passwordOf(users.coordinator))}, ${perms(coordinator)} }
    { nkey: ${users.workerNkey}, ${perms(worker)} }
  ]
}`;
}

const secret = () => randomBytes(24).toString("base64url");

describe("security: mTLS, tokens, NATS auth, limits", () => {
  let pki: TestPki;
  let nats: ThrowawayNats;
  let db: TestDatabase;
  let procs: ServiceProcess[] = [];
  let scheduler: ServiceProcess;
  let coordinator: ServiceProcess;
  const prefix = `sec${randomBytes(3).toString("hex")}`;
  const tokens = { admin: secret(), app: secret(), billing: secret(), ops: secret() };
  const passwords: Record<string, string> = { scheduler: secret(), coordinator: secret() };
  const worker = createUser();
  let dir: string;
  let clientCert: { certFile: string; keyFile: string };
  const clients: TaskorchClient[] = [];
  const client = (token?: string, tls: object | false = { caFile: pki.caFile, ...clientCert }) => {
    const c = new TaskorchClient({ address: `localhost:${scheduler.grpcPort}`, coordinatorAddress: `localhost:${coordinator.grpcPort}`, tls: tls as never, token, retry: { maxAttempts: 1 } });
    clients.push(c);
    return c;
  };
  const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: TaskorchClientError) => `${e.codeName}: ${e.message}`);

  beforeAll(async () => {
    pki = createTestPki();
    dir = pki.dir;
    const sha = (t: string) => createHash("sha256").update(t).digest("hex");
    writeFileSync(join(dir, "ops.token"), tokens.ops);
    writeFileSync(
      join(dir, "tokens.json"),
      JSON.stringify({
        tokens: [
          { name: "admin", sha256: sha(tokens.admin), permissions: ["admin"] },
          { name: "app", sha256: sha(tokens.app), permissions: ["submit"] },
          { name: "billing", sha256: sha(tokens.billing), permissions: ["submit", "operate"], queues: ["billing"] },
          { name: "oncall", secretFile: "ops.token", permissions: ["submit", "operate"] },
        ],
      }),
    );
    for (const [u, pw] of Object.entries(passwords)) writeFileSync(join(dir, `${u}.password`), pw);
    writeFileSync(join(dir, "worker.nk"), new TextDecoder().decode(worker.getSeed()));
    const natsCert = pki.issue("nats");
    nats = await startThrowawayNats(
      `tls { cert_file: "${natsCert.certFile}", key_file: "${natsCert.keyFile}", ca_file: "${pki.caFile}", verify: true }\n` +
        natsAuthorization(prefix, { scheduler: "scheduler", coordinator: "coordinator", workerNkey: worker.getPublicKey(), passwordOf: (u) => passwords[u]! }),
    );
    const grpcCert = pki.issue("grpc");
    clientCert = pki.issue("operator", { client: true });
    const serviceCert = pki.issue("service", { client: true });
    db = await createTestDatabase();
    const common = {
      ...FAST_ENV,
      NATS_URL: `tls://localhost:${nats.port}`,
      NATS_PREFIX: prefix,
      NATS_TLS_CA_FILE: pki.caFile,
      NATS_TLS_CERT_FILE: serviceCert.certFile,
      NATS_TLS_KEY_FILE: serviceCert.keyFile,
      GRPC_TLS_CERT_FILE: grpcCert.certFile,
      GRPC_TLS_KEY_FILE: grpcCert.keyFile,
      GRPC_TLS_CLIENT_CA_FILE: pki.caFile,
      AUTH_TOKENS_FILE: join(dir, "tokens.json"),
      MAX_PAYLOAD_BYTES: "2048",
      GRPC_MAX_RECEIVE_BYTES: "65536",
      MAX_BATCH_SIZE: "5",
      MAX_IDEMPOTENCY_KEY_LENGTH: "40",
    };
    scheduler = await spawnService("scheduler", { env: { ...common, DATABASE_URL: db.url, NATS_USER: "scheduler", NATS_PASSWORD_FILE: join(dir, "scheduler.password") } });
    coordinator = await spawnService("coordinator", { env: { ...common, DATABASE_URL: db.url, DISTRIBUTED_MODE: "true", NATS_USER: "coordinator", NATS_PASSWORD_FILE: join(dir, "coordinator.password") } });
    const w = await spawnService("worker", { env: { ...common, NATS_NKEY_SEED_FILE: join(dir, "worker.nk"), WORKER_QUEUES: "default,billing" } });
    procs = [scheduler, coordinator, w];
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(procs.map((p) => p.stop()));
    await nats?.stop();
    await db?.drop();
    pki?.cleanup();
  });

  it("runs a task end to end over mTLS gRPC and mTLS + scoped NATS users", async () => {
    const api = client(tokens.admin);
    const task = await api.enqueue("example.noop", { hello: "secure" });
    const done = await api.wait(task.id, { timeoutMs: 20_000 });
    expect(done.status).toBe("succeeded");
    // A batch answered with its ids only (read_mask), through the same client.
    const { ids, groupId } = await api.enqueueManyIds([{ type: "example.noop", payload: { i: 1 } }, { type: "example.noop", payload: { i: 2 } }]);
    expect(ids).toHaveLength(2);
    expect((await api.waitGroup(groupId, { timeoutMs: 20_000 })).succeeded).toBe(2);
    expect((await api.get(ids[1]!)).payload).toEqual({ i: 2 });
    expect(await api.listWorkers()).toHaveLength(1);
    // No permission violation on the server for any of the three roles.
    expect(nats.output()).not.toMatch(/Permissions Violation/);
  });

  it("refuses clients without a certificate from the CA, and plaintext", async () => {
    expect(await codeOf(client(tokens.admin, { caFile: pki.caFile }).get("00000000-0000-4000-8000-000000000000"))).toMatch(/^UNAVAILABLE/);
    expect(await codeOf(client(tokens.admin, false).get("00000000-0000-4000-8000-000000000000"))).toMatch(/^UNAVAILABLE/);
  });

  it("UNAUTHENTICATED without a valid token, PERMISSION_DENIED without the permission or the queue", async () => {
    expect(await codeOf(client().enqueue("example.noop", {}))).toMatch(/^UNAUTHENTICATED: .*Bearer/);
    const wrong = await codeOf(client("not-a-token-but-long-enough").enqueue("example.noop", {}));
    expect(wrong).toMatch(/^UNAUTHENTICATED/);
    expect(wrong).not.toContain("not-a-token");
    const app = client(tokens.app);
    const t = await app.enqueue("example.sleep", { ms: 60_000 }, { queue: "slow" });
    expect(await codeOf(app.cancel(t.id))).toMatch(/^PERMISSION_DENIED: .*"operate"/);
    expect(await codeOf(client(tokens.app).listWorkers())).toMatch(/^PERMISSION_DENIED/);
    const billing = client(tokens.billing);
    expect(await codeOf(billing.enqueue("example.noop", {}, { queue: "billing" }))).toBe("OK");
    expect(await codeOf(billing.enqueue("example.noop", {}))).toMatch(/^PERMISSION_DENIED: .*queue "default"/);
    expect(await codeOf(billing.get(t.id))).toMatch(/^PERMISSION_DENIED: .*queue "slow"/);
    expect(await codeOf(billing.cancel(t.id))).toMatch(/^PERMISSION_DENIED/);
    expect(await codeOf(billing.list({ queue: "slow" }))).toMatch(/^PERMISSION_DENIED/);
    expect((await client(tokens.admin).get(t.id)).status).not.toBe("canceled");
    // The secretFile token can operate: the cancel goes through and is audited.
    expect((await client(tokens.ops).cancel(t.id, "security test")).status).toBe("canceled");
    await eventually(() => /"audit":true[^\n]*"token":"oncall"[^\n]*CancelTask/.test(scheduler.output()) && new RegExp(`"task_id":"${t.id}"`).test(scheduler.output()), { what: "audit line" });
    expect(scheduler.output()).toMatch(/"audit":true[^\n]*"token":"app"[^\n]*"grpc_code":"PERMISSION_DENIED"/);
  });

  it("keeps health and reflection open (no token)", async () => {
    const creds = credentials.createSsl(readFileSync(pki.caFile), readFileSync(clientCert.keyFile), readFileSync(clientCert.certFile));
    const services = await listServicesViaReflection(`localhost:${scheduler.grpcPort}`, { credentials: creds });
    expect(services).toContain("taskorch.v1.SchedulerService");
    const raw = new Client(`localhost:${scheduler.grpcPort}`, creds);
    const err = await new Promise<ServiceError | null>((resolve) =>
      raw.makeUnaryRequest("/grpc.health.v1.Health/Check", (x: Buffer) => x, (b: Buffer) => b, Buffer.alloc(0), new Metadata(), (e) => resolve(e)),
    );
    raw.close();
    expect(err).toBeNull();
  });

  it("limits: INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the limit, before any write", async () => {
    const api = client(tokens.admin);
    const before = (await api.list({ pageSize: 1000 })).tasks.length;
    expect(await codeOf(api.enqueue("example.noop", { blob: "x".repeat(3000) }))).toMatch(/^INVALID_ARGUMENT: .*2048 bytes.*MAX_PAYLOAD_BYTES/);
    expect(await codeOf(api.enqueue("example.noop", { blob: "x".repeat(70_000) }))).toMatch(/^RESOURCE_EXHAUSTED: .*65536/);
    expect(await codeOf(api.enqueueMany(Array.from({ length: 6 }, () => ({ type: "example.noop" }))))).toMatch(/^INVALID_ARGUMENT: .*limit is 5 \(MAX_BATCH_SIZE\)/);
    expect(await codeOf(api.enqueue("example.noop", {}, { idempotencyKey: "k".repeat(41) }))).toMatch(/MAX_IDEMPOTENCY_KEY_LENGTH/);
    expect(await codeOf(api.enqueue("t".repeat(129), {}))).toMatch(/^INVALID_ARGUMENT: type: .*MAX_TYPE_LENGTH/);
    expect(await codeOf(api.list({ pageSize: 5000 }))).toMatch(/^INVALID_ARGUMENT: .*MAX_PAGE_SIZE/);
    expect((await api.list({ pageSize: 1000 })).tasks.length).toBe(before);
  });

  it("NATS: wrong credentials are refused; a worker may not publish dispatches or read claims", async () => {
    const tls = { caFile: pki.caFile, certFile: clientCert.certFile, keyFile: clientCert.keyFile };
    await expect(connect({ servers: `tls://localhost:${nats.port}`, tls, user: "scheduler", pass: "wrong", reconnect: false })).rejects.toThrow(/Authorization/i);
    await expect(connect({ servers: `tls://localhost:${nats.port}`, user: "scheduler", pass: passwords.scheduler!, reconnect: false })).rejects.toThrow();
    const logger = pino({ level: "silent" });
    const nc: NatsConnection = await connectBus({
      natsUrl: `tls://localhost:${nats.port}`,
      name: "intruder",
      logger,
      auth: { nkeySeedFile: join(dir, "worker.nk"), tlsCaFile: pki.caFile, tlsCertFile: clientCert.certFile, tlsKeyFile: clientCert.keyFile },
    });
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === "error") errors.push(String((s as { error?: unknown }).error));
    })();
    nc.publish(`${prefix}.dispatch.default`, new Uint8Array([1, 2, 3]));
    nc.subscribe(`${prefix}.claims`);
    await nc.flush();
    await eventually(() => errors.some((e) => /Permissions Violation for Publish/.test(e)) && errors.some((e) => /Permissions Violation for Subscription/.test(e)), { what: "violations", timeoutMs: 5000 });
    await nc.close();
    // The server logs violations, so the first test's "no violation" check means something.
    expect(nats.output()).toMatch(/Violation/);
  });

  it("NATS token authentication from NATS_TOKEN_FILE", async () => {
    const token = secret();
    const tnats = await startThrowawayNats(`authorization { token: "${token}" }`);
    try {
      writeFileSync(join(dir, "nats.token"), `${token}\n`);
      const nc = await connectBus({ natsUrl: tnats.url, name: "t", logger: pino({ level: "silent" }), auth: { tokenFile: join(dir, "nats.token") } });
      await nc.flush();
      await nc.close();
      writeFileSync(join(dir, "bad.token"), "nope");
      await expect(connectBus({ natsUrl: tnats.url, name: "t", logger: pino({ level: "silent" }), auth: { tokenFile: join(dir, "bad.token") } })).rejects.toThrow();
    } finally {
      await tnats.stop();
    }
  });

  it("no secret in any log, /health or /metrics", async () => {
    const secrets = [...Object.values(tokens), ...Object.values(passwords), new TextDecoder().decode(worker.getSeed())];
    for (const p of procs) {
      const health = await (await fetch(`http://127.0.0.1:${p.metricsPort}/health`)).text();
      const text = p.output() + health + (await p.metricsText());
      for (const s of secrets) expect(text).not.toContain(s);
      expect(p.child.exitCode).toBeNull();
    }
  });
});
