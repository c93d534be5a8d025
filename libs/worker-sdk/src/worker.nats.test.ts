/**
 * The worker's handling of DispatchBatch messages against a real NATS/JetStream. The scheduler's
 * side of the claim protocol is played by a responder that grants each attempt once (what the
 * guarded UPDATE does), so the test sees every claim the worker makes.
 */
import { randomUUID } from "node:crypto";
import type { DispatchItem } from "@taskorch/domain";
import { Dispatcher, subjectsFor } from "@taskorch/bus";
import { ClaimRequest, ClaimResponse, ReportBatch } from "@taskorch/proto";
import { createLogger } from "@taskorch/telemetry";
import { createTestNats, eventually, type TestNats } from "@taskorch/testkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Worker } from "./worker.js";

let nats: TestNats;
let nc: NatsConnection;

beforeAll(async () => {
  nats = createTestNats();
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc.close();
  await nats.cleanup();
});

describe("Worker with dispatch batches", () => {
  it("runs every attempt of batches larger than its pool exactly once, never more at a time than its pool", async () => {
    const subjects = subjectsFor(nats.prefix);
    const granted = new Set<string>();
    let claimsAsked = 0;
    let rejected = 0;
    nc.subscribe(subjects.claims, {
      callback: (_err, msg) => {
        const req = ClaimRequest.decode(msg.data);
        claimsAsked += req.claims.length;
        const results = req.claims.map((c) => {
          const key = `${c.taskId}:${c.attempt}`;
          const ok = !granted.has(key);
          if (ok) granted.add(key);
          else rejected++;
          return { taskId: c.taskId, attempt: c.attempt, granted: ok };
        });
        msg.respond(ClaimResponse.encode({ results }).finish());
      },
    });
    const logger = createLogger({ service: "test", nodeId: "test", debug: false });
    const worker = new Worker({ nc, natsPrefix: nats.prefix, workerId: "w1", queues: ["batch"], poolSize: 3, heartbeatIntervalMs: 60_000, defaultTimeoutMs: 10_000, shutdownTimeoutMs: 1000, maxResultBytes: 1 << 20, logger });
    const runs: string[] = [];
    let active = 0;
    let maxActive = 0;
    worker.registerHandler("t", async ({ taskId }) => {
      runs.push(taskId);
      maxActive = Math.max(maxActive, ++active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
    });
    await worker.start();
    const items: DispatchItem[] = Array.from({ length: 45 }, (_, i) => ({ taskId: randomUUID(), attempt: 1, type: "t", queue: "batch", payloadJson: String(i), timeoutMs: null, maxAttempts: 1, traceparent: null }));
    const dispatcher = new Dispatcher(nc, subjects);
    expect(await dispatcher.dispatch(items)).toEqual([]); // two batches: 32 + 13
    dispatcher.close();
    await eventually(() => runs.length === items.length, { what: "every attempt ran", timeoutMs: 15_000 });
    await worker.stop();
    expect(new Set(runs).size).toBe(items.length);
    expect([...new Set(runs)].sort()).toEqual(items.map((i) => i.taskId).sort());
    expect(maxActive).toBeLessThanOrEqual(3);
    // A batch that came back for its rest did not claim again what this worker already holds.
    expect(rejected).toBe(0);
    expect(claimsAsked).toBe(items.length);
  });

  it("claims a batch again when its first claim request went unanswered (no scheduler at the time)", async () => {
    const prefix = `${nats.prefix}-2`;
    const subjects = subjectsFor(prefix);
    let requests = 0;
    const sub = nc.subscribe(subjects.claims, {
      callback: (_err, msg) => {
        // The first request is lost, as if no scheduler were up; later ones grant everything.
        if (++requests === 1) return;
        const req = ClaimRequest.decode(msg.data);
        msg.respond(ClaimResponse.encode({ results: req.claims.map((c) => ({ taskId: c.taskId, attempt: c.attempt, granted: true })) }).finish());
      },
    });
    const logger = createLogger({ service: "test", nodeId: "test", debug: false });
    const worker = new Worker({ nc, natsPrefix: prefix, workerId: "w2", queues: ["batch"], poolSize: 10, heartbeatIntervalMs: 60_000, defaultTimeoutMs: 10_000, shutdownTimeoutMs: 1000, maxResultBytes: 1 << 20, logger });
    const runs: string[] = [];
    worker.registerHandler("t", ({ taskId }) => void runs.push(taskId));
    await worker.start();
    const items: DispatchItem[] = Array.from({ length: 5 }, (_, i) => ({ taskId: randomUUID(), attempt: 1, type: "t", queue: "batch", payloadJson: String(i), timeoutMs: null, maxAttempts: 1, traceparent: null }));
    const dispatcher = new Dispatcher(nc, subjects);
    expect(await dispatcher.dispatch(items)).toEqual([]);
    dispatcher.close();
    await eventually(() => runs.length === items.length, { what: "every attempt ran after the redelivery", timeoutMs: 20_000 });
    await worker.stop();
    sub.unsubscribe();
    await nc.flush();
    expect(requests).toBeGreaterThanOrEqual(2);
    expect([...runs].sort()).toEqual(items.map((i) => i.taskId).sort());
    const jsm = await jetstreamManager(nc);
    for (const stream of [subjects.dispatchStream, subjects.reportsStream]) await jsm.streams.delete(stream).catch(() => false);
  }, 30_000);

  it("claims an attempt once while its claim is on its way, while it runs and after: a second message for it is not claimed", async () => {
    // The scheduler grants a worker the attempt it already holds (TaskClaimMany re-claims), so
    // only the worker keeps one attempt from running twice here. Replies come late, as from a
    // busy Postgres, so the second message arrives while the first claim is unanswered.
    const prefix = `${nats.prefix}-4`;
    const subjects = subjectsFor(prefix);
    const claimed: string[] = [];
    const sub = nc.subscribe(subjects.claims, {
      callback: (_err, msg) => {
        const req = ClaimRequest.decode(msg.data);
        claimed.push(...req.claims.map((c) => c.taskId));
        setTimeout(() => msg.respond(ClaimResponse.encode({ results: req.claims.map((c) => ({ taskId: c.taskId, attempt: c.attempt, granted: true })) }).finish()), 300);
      },
    });
    const logger = createLogger({ service: "test", nodeId: "test", debug: false });
    const worker = new Worker({ nc, natsPrefix: prefix, workerId: "w4", queues: ["batch"], poolSize: 4, heartbeatIntervalMs: 60_000, defaultTimeoutMs: 10_000, shutdownTimeoutMs: 1000, maxResultBytes: 1 << 20, logger });
    const runs: string[] = [];
    worker.registerHandler("t", async ({ taskId }) => {
      runs.push(taskId);
      await new Promise((r) => setTimeout(r, 500));
    });
    await worker.start();
    const item: DispatchItem = { taskId: randomUUID(), attempt: 1, type: "t", queue: "batch", payloadJson: "1", timeoutMs: null, maxAttempts: 1, traceparent: null };
    const dispatcher = new Dispatcher(nc, subjects);
    const jsm = await jetstreamManager(nc);
    const send = async () => expect(await dispatcher.dispatch([item])).toEqual([]);
    // Every message sent so far was handled: delivered and acknowledged.
    const handled = () =>
      eventually(
        async () => {
          const info = await jsm.consumers.info(subjects.dispatchStream, subjects.dispatchConsumer("batch"));
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
        { what: "every dispatch message handled", intervalMs: 20 },
      );
    await send();
    await eventually(() => claimed.length === 1, { what: "the first claim" });
    await send(); // while the first claim is unanswered
    await eventually(() => runs.length === 1, { what: "the attempt running" });
    await send(); // while it runs
    await handled();
    // Its report stored: the run is over.
    await eventually(async () => (await jsm.streams.info(subjects.reportsStream)).state.messages === 1, { what: "the report stored", intervalMs: 20 });
    await send(); // after it ran
    await handled();
    dispatcher.close();
    await worker.stop();
    sub.unsubscribe();
    await nc.flush();
    expect(runs).toEqual([item.taskId]);
    expect(claimed).toEqual([item.taskId]);
    for (const stream of [subjects.dispatchStream, subjects.reportsStream]) await jsm.streams.delete(stream).catch(() => false);
  });

  it("frees a slot once its handler settles, and stop() still waits until the reports stream stored every report", async () => {
    const prefix = `${nats.prefix}-3`;
    const subjects = subjectsFor(prefix);
    const sub = nc.subscribe(subjects.claims, {
      callback: (_err, msg) => {
        const req = ClaimRequest.decode(msg.data);
        msg.respond(ClaimResponse.encode({ results: req.claims.map((c) => ({ taskId: c.taskId, attempt: c.attempt, granted: true })) }).finish());
      },
    });
    const logger = createLogger({ service: "test", nodeId: "test", debug: false });
    const worker = new Worker({ nc, natsPrefix: prefix, workerId: "w3", queues: ["batch"], poolSize: 1, heartbeatIntervalMs: 60_000, defaultTimeoutMs: 10_000, shutdownTimeoutMs: 1000, maxResultBytes: 1 << 20, logger });
    let stopping: Promise<void> | undefined;
    const runs: string[] = [];
    const jsm = await jetstreamManager(nc);
    worker.registerHandler("t", async ({ taskId }) => {
      runs.push(taskId);
      if (runs.length === 3) {
        // The last report cannot be stored at first (its stream is gone until the worker's
        // repairer recreates it), and shutdown is asked for from inside the handler: the slot
        // frees the moment the report is handed over, so only stop()'s wait delivers it.
        await jsm.streams.delete(subjects.reportsStream);
        stopping = worker.stop();
      }
      return { n: runs.length };
    });
    await worker.start();
    const items: DispatchItem[] = Array.from({ length: 3 }, (_, i) => ({ taskId: randomUUID(), attempt: 1, type: "t", queue: "batch", payloadJson: String(i), timeoutMs: null, maxAttempts: 1, traceparent: null }));
    const dispatcher = new Dispatcher(nc, subjects);
    expect(await dispatcher.dispatch(items)).toEqual([]);
    dispatcher.close();
    await eventually(() => stopping !== undefined, { what: "the last task ran", timeoutMs: 15_000 });
    await stopping;
    sub.unsubscribe();
    const stored = (await jsm.streams.info(subjects.reportsStream)).state.messages;
    const reports = [];
    for (let seq = 1; seq <= stored; seq++) reports.push(...ReportBatch.decode((await jsm.streams.getMessage(subjects.reportsStream, { seq }))!.data).reports);
    expect(reports.map((r) => r.taskId)).toEqual([items[2]!.taskId]);
    for (const stream of [subjects.dispatchStream, subjects.reportsStream]) await jsm.streams.delete(stream).catch(() => false);
  }, 30_000);
});
