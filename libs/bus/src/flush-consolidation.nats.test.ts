import { createTestNats, type TestNats } from "@taskorch/testkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consolidateFlushes, flushPromptly } from "./flush-consolidation.js";

let nats: TestNats;
let receiver: NatsConnection;

beforeAll(async () => {
  nats = createTestNats();
  receiver = await connect({ servers: nats.url });
});

afterAll(async () => {
  await receiver.close();
  await nats.cleanup();
});

/** Counts the socket writes of a connection (nats.js' transport.send, one write each). */
function countWrites(nc: NatsConnection): () => number {
  const transport = (nc as unknown as { protocol: { transport: { send(frame: Uint8Array): void } } }).protocol.transport;
  const send = transport.send.bind(transport);
  let writes = 0;
  transport.send = (frame) => {
    writes++;
    send(frame);
  };
  return () => writes;
}

/** Publishes `n` messages, each from its own callback of one turn (as replies, acks and events are). */
async function publishFromSeparateCallbacks(nc: NatsConnection, subject: string, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      await Promise.resolve();
      for (let k = 0; k < i; k++) await Promise.resolve(); // each publish a few microtasks after the last
      nc.publish(subject, String(i));
    }),
  );
}

/** Fails instead of hanging when messages never arrive. */
function within(ms: number, p: Promise<void>): Promise<void> {
  return Promise.race([p, new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`not all messages arrived within ${ms} ms`)), ms))]);
}

async function collect(subject: string, n: number): Promise<{ received: string[]; done: Promise<void> }> {
  const received: string[] = [];
  const sub = receiver.subscribe(subject, { max: n });
  const done = (async () => {
    for await (const m of sub) received.push(m.string());
  })();
  await receiver.flush();
  return { received, done };
}

describe("consolidateFlushes against a real nats-server", () => {
  it("recognises the shipped nats.js (a version without the internals would silently lose the merging)", async () => {
    const nc = await connect({ servers: nats.url });
    expect(consolidateFlushes(nc)).toBe(true);
    await nc.close();
  });

  it("sends what one turn publishes in one write, in order, where plain nats.js needs several", async () => {
    const writesFor = async (consolidate: boolean) => {
      const nc = await connect({ servers: nats.url });
      if (consolidate) consolidateFlushes(nc);
      const subject = `${nats.prefix}.turn.${consolidate}`;
      const { received, done } = await collect(subject, 10);
      const writes = countWrites(nc);
      await publishFromSeparateCallbacks(nc, subject, 10);
      await nc.flush();
      await within(2000, done);
      await nc.close();
      expect(received).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
      return writes();
    };
    // The turn's ten publishes plus flush()'s PING: one write; without consolidation, one each.
    expect(await writesFor(true)).toBe(1);
    expect(await writesFor(false)).toBeGreaterThan(5);
  });

  it("writes at once, within the current microtasks, what a sender asks to flush promptly", async () => {
    const nc = await connect({ servers: nats.url });
    consolidateFlushes(nc);
    const subject = `${nats.prefix}.prompt`;
    const { received, done } = await collect(subject, 2);
    const writes = countWrites(nc);
    const microtasks = async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    nc.publish(subject, "deferred");
    await microtasks();
    expect(writes()).toBe(0); // waits for the end of the turn
    nc.publish(subject, "prompt");
    flushPromptly(nc);
    await microtasks();
    expect(writes()).toBe(1); // both, before the turn ends
    await within(2000, done);
    expect(received).toEqual(["deferred", "prompt"]);
    await nc.close();
  });

  it("writes what is buffered when the connection closes right after publishing", async () => {
    const nc = await connect({ servers: nats.url });
    consolidateFlushes(nc);
    const subject = `${nats.prefix}.close`;
    const { received, done } = await collect(subject, 3);
    for (const m of ["a", "b", "c"]) nc.publish(subject, m);
    await nc.close();
    await within(2000, done).catch(() => undefined);
    expect(received).toEqual(["a", "b", "c"]);
  });

  it("keeps request/reply and drain working", async () => {
    const nc = await connect({ servers: nats.url });
    consolidateFlushes(nc);
    const subject = `${nats.prefix}.echo`;
    const sub = receiver.subscribe(subject, { callback: (_err, m) => m.respond(m.data) });
    await receiver.flush();
    const replies = await Promise.all(["x", "y", "z"].map((s) => nc.request(subject, s, { timeout: 2000 })));
    expect(replies.map((r) => r.string())).toEqual(["x", "y", "z"]);
    nc.publish(`${nats.prefix}.after`, "last");
    await nc.drain();
    expect(nc.isClosed()).toBe(true);
    sub.unsubscribe();
  });
});
