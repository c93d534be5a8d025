import { randomUUID } from "node:crypto";
import type { DispatchItem } from "@taskorch/domain";
import { DispatchBatch, DispatchMessage } from "@taskorch/proto";
import { createTestNats, type TestNats } from "@taskorch/testkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DISPATCH_BATCH_HEADER, Dispatcher, MAX_DISPATCH_BATCH } from "./dispatcher.js";
import { ensureDispatchConsumer, ensureStreams } from "./streams.js";
import { subjectsFor } from "./subjects.js";

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

const item = (queue: string, i: number): DispatchItem => ({
  taskId: randomUUID(),
  attempt: 1 + (i % 3),
  type: "example.noop",
  queue,
  payloadJson: JSON.stringify({ i }),
  timeoutMs: i % 2 === 0 ? null : 1500,
  maxAttempts: 3,
  traceparent: null,
});

describe("Dispatcher against a real JetStream", () => {
  it("sends attempts committed together as batches per queue, and a lone attempt as one DispatchMessage", async () => {
    const subjects = subjectsFor(nats.prefix);
    const jsm = await ensureStreams(nc, subjects);
    for (const q of ["bulk", "lone"]) await ensureDispatchConsumer(jsm, subjects, q, 1000);
    const bulk = Array.from({ length: MAX_DISPATCH_BATCH + 8 }, (_, i) => item("bulk", i));
    const lone = item("lone", 1);
    const dispatcher = new Dispatcher(nc, subjects);
    // Interleaved on purpose: batches are per queue, in the order given.
    expect(await dispatcher.dispatch([bulk[0]!, lone, ...bulk.slice(1)])).toEqual([]);
    dispatcher.close();

    const js = jetstream(nc);
    const read = async (queue: string, expected: number) => {
      const consumer = await js.consumers.get(subjects.dispatchStream, subjects.dispatchConsumer(queue));
      const out: Array<{ batch: boolean; items: DispatchMessage[] }> = [];
      const msgs = await consumer.fetch({ max_messages: 10, expires: 1000 });
      for await (const m of msgs) {
        const batch = m.headers?.get(DISPATCH_BATCH_HEADER) === "batch";
        out.push({ batch, items: batch ? DispatchBatch.decode(m.data).items : [DispatchMessage.decode(m.data)] });
        m.ack();
        if (out.length === expected) break;
      }
      return out;
    };
    const bulkMessages = await read("bulk", 2);
    expect(bulkMessages.map((m) => [m.batch, m.items.length])).toEqual([
      [true, MAX_DISPATCH_BATCH],
      [true, 8],
    ]);
    const sent = bulkMessages.flatMap((m) => m.items);
    expect(sent.map((d) => d.taskId)).toEqual(bulk.map((b) => b.taskId));
    expect(sent[1]).toMatchObject({ attempt: bulk[1]!.attempt, queue: "bulk", maxAttempts: 3, timeout: { seconds: 1, nanos: 500_000_000 } });
    expect(Buffer.from(sent[1]!.payloadJson).toString()).toBe('{"i":1}');

    const loneMessages = await read("lone", 1);
    expect(loneMessages).toHaveLength(1);
    expect(loneMessages[0]!.batch).toBe(false);
    expect(loneMessages[0]!.items[0]!.taskId).toBe(lone.taskId);
    expect((await (await jetstreamManager(nc)).streams.info(subjects.dispatchStream)).state.messages).toBe(0);
  });
});
