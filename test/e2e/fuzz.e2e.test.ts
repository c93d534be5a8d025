/**
 * Hostile input: thousands of invalid and random requests at every RPC and random or forged bytes
 * at every NATS subject of the cluster, then: every process is up and healthy, every answer was a
 * proper gRPC status (never INTERNAL or UNKNOWN), and no task changed state.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Client, credentials, Metadata, status, type ServiceDefinition, type ServiceError } from "@grpc/grpc-js";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { subjectsFor } from "@taskorch/bus";
import { CancelNotice, ClaimRequest, CoordinatorServiceService, DispatchBatch, DispatchMessage, Heartbeat, ReportBatch, SchedulerServiceService } from "@taskorch/proto";
import { eventually } from "@taskorch/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./cluster.js";

let seed = 0x5eed;
/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
function rnd(): number {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const int = (max: number) => Math.floor(rnd() * max);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
/** Strings that are never a valid name (a space or a forbidden character in each), of any length. */
const LONG = "x".repeat(5000);
const HUGE = "x".repeat(1_100_000);
const badString = () => pick(["", " ", "a b", "../../etc/passwd", LONG, "\u0000\uffff", "💥".repeat(int(50)), "%s%n", "' OR 1=1 --", "q/.*>"]);
const anyString = () => pick([badString(), randomUUID(), randomUUID().toUpperCase(), "default", String(int(1e9))]);
const anyInt = () => pick([0, -1, 1, 2 ** 31 - 1, -(2 ** 31), int(1e6), -int(1e6)]);
const anyDuration = () => pick([undefined, { seconds: anyInt(), nanos: anyInt() }, { seconds: -5, nanos: 0 }, { seconds: 1e9, nanos: 999_999_999 }]);
const anyJson = (): unknown => pick([null, 1, "s", [1, [2, [3]]], { a: { b: { c: badString() } } }, HUGE]);

const TINY_INVALID = { type: "no spaces allowed", queue: "", payload: null, priority: 0, idempotencyKey: "" };

/** A request of random field values: every field name our requests use, all wrong in some way. */
function randomRequest(): Record<string, unknown> {
  const task = (big = true) => ({
    // Always invalid somewhere (the type), so no enqueue can succeed.
    type: badString(),
    queue: anyString(),
    payload: big ? anyJson() : pick([null, { a: badString().slice(0, 100) }]),
    priority: anyInt(),
    maxAttempts: pick([undefined, 0, -3, 1000]),
    idempotencyKey: anyString(),
    delay: anyDuration(),
    timeout: anyDuration(),
    runAt: pick([undefined, new Date(NaN), new Date(8.64e15)]),
  });
  return {
    ...task(),
    id: anyString(),
    reason: anyString(),
    status: anyInt(),
    pageSize: anyInt(),
    pageToken: anyString(),
    tasks: pick([[], Array.from({ length: int(5) + 1 }, () => task(false)), Array.from({ length: 12_000 }, () => TINY_INVALID), Array.from({ length: 3 }, () => TINY_INVALID)]),
  };
}

function callRaw(client: Client, path: string, body: Buffer): Promise<ServiceError | null> {
  // Waits on real tasks may block until their deadline: keep it short (DEADLINE_EXCEEDED is fine there).
  const ms = /\/Wait/.test(path) ? 1500 : 15_000;
  return new Promise((resolve) =>
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, new Metadata(), { deadline: Date.now() + ms }, (err) => resolve(err)),
  );
}

describe("fuzz: every RPC and every NATS subject", () => {
  let c: Cluster;
  let before: Map<string, string>;
  let running: { id: string; attempts: number };

  const snapshot = async () =>
    new Map(((await c.sql.query("SELECT id, status, attempts, worker_id FROM tasks")).rows as Array<{ id: string; status: string; attempts: number; worker_id: string | null }>).map((r) => [r.id, `${r.status}/${r.attempts}/${r.worker_id}`]));

  beforeAll(async () => {
    c = await startCluster({ workers: 1, env: { MAX_PAYLOAD_BYTES: "1048576" } });
    const ok = await c.api.enqueueTask({ type: "example.noop", queue: "", payload: { a: 1 }, priority: 0, idempotencyKey: "", runAt: undefined, delay: undefined, timeout: undefined, maxAttempts: undefined } as never);
    const dead = await c.api.enqueueTask({ type: "example.fail", queue: "", payload: {}, priority: 0, idempotencyKey: "", maxAttempts: 1 } as never);
    await c.api.enqueueTask({ type: "example.noop", queue: "", payload: {}, priority: 0, idempotencyKey: "", delay: { seconds: 3600, nanos: 0 } } as never);
    await c.api.enqueueTask({ type: "example.noop", queue: "nobody", payload: {}, priority: 0, idempotencyKey: "" } as never);
    const slow = await c.api.enqueueTask({ type: "example.sleep", queue: "", payload: { ms: 120_000 }, priority: 0, idempotencyKey: "" } as never);
    await c.api.waitTask({ id: ok.task!.id, timeout: { seconds: 20, nanos: 0 } });
    await c.api.waitTask({ id: dead.task!.id, timeout: { seconds: 20, nanos: 0 } });
    await eventually(async () => (await c.api.getTask({ id: slow.task!.id })).task?.status === 3 /* RUNNING */ || (await c.sql.query("SELECT 1 FROM tasks WHERE id = $1 AND status = 'running'", [slow.task!.id])).rowCount === 1, { what: "slow task running" });
    const row = (await c.sql.query("SELECT attempts FROM tasks WHERE id = $1", [slow.task!.id])).rows[0] as { attempts: number };
    running = { id: slow.task!.id, attempts: row.attempts };
    before = await snapshot();
  });
  afterAll(async () => {
    await c?.teardown();
  });

  it("survives thousands of hostile calls and messages without a task changing", async () => {
    const started = Date.now();
    const lap = (what: string) => console.log(`fuzz: ${what} after ${Date.now() - started}ms`);
    const knownIds = [...before.keys()];
    // --- gRPC: random bytes and random field values at every method of both services ---
    const targets: Array<[number, ServiceDefinition]> = [
      [c.scheduler.grpcPort, SchedulerServiceService as unknown as ServiceDefinition],
      [c.coordinator.grpcPort, CoordinatorServiceService as unknown as ServiceDefinition],
    ];
    const bad: string[] = [];
    let calls = 0;
    for (const [port, def] of targets) {
      const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), { "grpc.max_send_message_length": 64 * 1024 * 1024 });
      for (const [name, method] of Object.entries(def)) {
        const mutating = !/^(Get|List|Wait)/.test(method.originalName ? String(method.originalName) : name) && !/^(get|list|wait)/.test(name);
        const bodies: Buffer[] = [];
        for (let i = 0; i < 60; i++) bodies.push(Buffer.from(bytes(int(64))));
        for (let i = 0; i < 10; i++) bodies.push(Buffer.from(bytes(int(100_000))));
        for (let i = 0; i < 60; i++) {
          const req = randomRequest();
          // Reads may name real tasks; writes only ever name ids that do not exist.
          if (!mutating && rnd() < 0.3) req.id = pick(knownIds);
          try {
            bodies.push(method.requestSerialize(req) as Buffer);
          } catch {
            bodies.push(Buffer.from(bytes(16)));
          }
        }
        const t0 = Date.now();
        for (let i = 0; i < bodies.length; i += 40) {
          const results = await Promise.all(bodies.slice(i, i + 40).map((b) => callRaw(client, method.path, b)));
          calls += results.length;
          for (const err of results) {
            if (err === null) {
              if (mutating) bad.push(`${method.path}: a write succeeded`);
              continue;
            }
            if (err.code === status.DEADLINE_EXCEEDED && /\/Wait/.test(method.path)) continue;
            if (typeof err.code !== "number" || err.code === status.INTERNAL || err.code === status.UNKNOWN || err.code === status.UNIMPLEMENTED) {
              bad.push(`${method.path}: ${err.code} ${err.details}`);
            }
          }
        }
        if (Date.now() - t0 > 3000) lap(`${method.path} took ${Date.now() - t0}ms`);
      }
      client.close();
    }
    lap(`${calls} gRPC calls`);
    expect(bad.slice(0, 10)).toEqual([]);
    expect(calls).toBeGreaterThan(2000);

    // --- NATS: random bytes and forged messages at every subject ---
    const s = subjectsFor(c.nats.prefix);
    const nc = await connect({ servers: c.nats.url });
    const subjects = [s.dispatch("default"), s.dispatch("nobody"), s.reports, s.claims, s.heartbeats, s.cancels, s.finished, s.leaderEvents, `${c.nats.prefix}.events.capacity`];
    let messages = 0;
    for (const subject of subjects) for (let i = 0; i < 150; i++, messages++) nc.publish(subject, bytes(int(2048)));
    const forged: Array<[string, Uint8Array]> = [];
    for (const id of knownIds) {
      const attempts = Number(before.get(id)!.split("/")[1]);
      for (const attempt of [0, -1, attempts + 1, attempts + 7, 2 ** 31 - 1]) {
        forged.push([s.reports, ReportBatch.encode({ workerId: "forger", reports: [{ taskId: id, attempt, type: "x", traceparent: "", resultJson: Buffer.from("{}"), duration: undefined }] }).finish()]);
        forged.push([s.claims, ClaimRequest.encode({ workerId: "forger", claims: [{ taskId: id, attempt }] }).finish()]);
        forged.push([s.cancels, CancelNotice.encode({ taskId: id, attempt }).finish()]);
      }
      // The right attempt from the wrong worker: the guard names the worker too.
      forged.push([s.reports, ReportBatch.encode({ workerId: "someone-else", reports: [{ taskId: id, attempt: attempts, type: "x", traceparent: "", failure: { message: "forged", nonRetryable: true }, duration: undefined }] }).finish()]);
    }
    forged.push([s.reports, ReportBatch.encode({ workerId: "", reports: [{ taskId: running.id, attempt: running.attempts, type: "x", traceparent: "", resultJson: Buffer.from("not json{"), duration: undefined }] }).finish()]);
    forged.push([s.heartbeats, Heartbeat.encode({ workerId: "w".repeat(10_000), hostname: "h".repeat(100_000), queues: Array.from({ length: 5000 }, () => "q"), capacity: -5, active: 2 ** 31 - 1, version: "v" }).finish()]);
    for (let i = 0; i < 50; i++) {
      forged.push([s.dispatch("default"), DispatchMessage.encode({ taskId: randomUUID(), attempt: 1, type: "example.noop", queue: "default", payloadJson: Buffer.alloc(0), timeout: undefined, maxAttempts: 1, traceparent: "" }).finish()]);
      forged.push([s.dispatch("default"), DispatchMessage.encode({ taskId: pick(knownIds), attempt: anyInt(), type: badString(), queue: "default", payloadJson: Buffer.from(bytes(40)), timeout: undefined, maxAttempts: anyInt(), traceparent: badString() }).finish()]);
    }
    // Batches (header Taskorch-Dispatch: batch): random bytes, an empty batch, forged attempts.
    const batchHeaders = () => {
      const h = natsHeaders();
      h.set("Taskorch-Dispatch", "batch");
      return h;
    };
    const batches: Uint8Array[] = [bytes(300), DispatchBatch.encode({ items: [] }).finish()];
    for (let i = 0; i < 20; i++) {
      const item = () => ({ taskId: pick([...knownIds, randomUUID()]), attempt: anyInt(), type: badString(), queue: "default", payloadJson: Buffer.from(bytes(20)), timeout: undefined, maxAttempts: anyInt(), traceparent: badString() });
      batches.push(DispatchBatch.encode({ items: Array.from({ length: 1 + int(40) }, item) }).finish());
    }
    for (const data of batches) {
      nc.publish(s.dispatch("default"), data, { headers: batchHeaders() });
      messages++;
    }
    for (const [subject, data] of forged) {
      if (subject === s.claims) await nc.request(subject, data, { timeout: 2000 }).catch(() => undefined);
      else nc.publish(subject, data);
      messages++;
    }
    await nc.flush();
    await nc.close();
    lap(`${messages} NATS messages`);
    expect(messages).toBeGreaterThan(1000);

    // --- afterwards: everyone up and healthy, nothing changed ---
    // Give the report applier and the worker time to chew through what was published.
    await new Promise((r) => setTimeout(r, 2000));
    for (const p of [c.scheduler, c.coordinator, ...c.workers]) {
      expect(p.child.exitCode, `${p.command} exited:\n${p.output().slice(-3000)}`).toBeNull();
      await eventually(async () => (await fetch(`http://127.0.0.1:${p.metricsPort}/health`)).status === 200, { what: `${p.command} healthy` });
    }
    const after = await snapshot();
    expect(after.size).toBe(before.size);
    for (const [id, state] of before) expect(`${id} ${after.get(id)}`).toBe(`${id} ${state}`);
    // And the cluster still works.
    const fresh = await c.api.enqueueTask({ type: "example.noop", queue: "", payload: { after: "fuzz" }, priority: 0, idempotencyKey: "" } as never);
    const done = await c.api.waitTask({ id: fresh.task!.id, timeout: { seconds: 20, nanos: 0 } });
    expect(done.timedOut).toBe(false);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
