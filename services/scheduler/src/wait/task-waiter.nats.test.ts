import { randomUUID } from "node:crypto";
import { subjectsFor } from "@taskorch/bus";
import { createLogger } from "@taskorch/telemetry";
import { createTestNats, type TestNats } from "@taskorch/testkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskWaiter } from "./task-waiter.js";

let nats: TestNats;
let replica: NatsConnection;
let announcer: NatsConnection;
const logger = createLogger({ service: "test", nodeId: "test", debug: false });

beforeAll(async () => {
  nats = createTestNats();
  replica = await connect({ servers: nats.url });
  announcer = await connect({ servers: nats.url });
});

afterAll(async () => {
  await replica.close();
  await announcer.close();
  await nats.cleanup();
});

const LINGER_MS = 100;
/** Longer than the test's own timeout: a waiter that was not woken by its event fails the test. */
const NEVER_MS = 120_000;

/** Messages the replica's connection has received, after a round trip (so nothing is in flight). */
async function receivedByReplica(): Promise<number> {
  await announcer.flush();
  await replica.flush();
  return replica.stats().inMsgs;
}

describe("TaskWaiter against a real NATS", () => {
  const subjects = () => subjectsFor(nats.prefix);

  it("receives no announcements while none of its callers waits", async () => {
    const waiter = new TaskWaiter(replica, subjects(), logger, LINGER_MS);
    const from = new TaskWaiter(announcer, subjects(), logger, LINGER_MS);
    const before = await receivedByReplica();
    for (let i = 0; i < 50; i++) from.announce([randomUUID()]);
    expect(await receivedByReplica()).toBe(before);
    expect(waiter.listening).toBe(false);
    waiter.stop();
  });

  it("is subscribed at the server when listen() resolves: a task finished right after wakes its waiter", { timeout: 20_000 }, async () => {
    for (let round = 0; round < 20; round++) {
      const waiter = new TaskWaiter(replica, subjects(), logger, LINGER_MS);
      const from = new TaskWaiter(announcer, subjects(), logger, LINGER_MS);
      const id = randomUUID();
      const release = await waiter.listen();
      const woken = waiter.waitForEvent(id, NEVER_MS, new AbortController().signal);
      from.announce([id]);
      await woken;
      release();
      waiter.stop();
    }
  });

  it("listen() resolves only once the server has confirmed the subscription (its PONG after the SUB)", async () => {
    let confirm: (() => void) | undefined;
    // The replica's connection, with flush() held until the test lets it finish.
    const gated = Object.create(replica, { flush: { value: () => new Promise<void>((resolve) => (confirm = resolve)) } }) as NatsConnection;
    const waiter = new TaskWaiter(gated, subjects(), logger, LINGER_MS);
    let resolved = false;
    const listening = waiter.listen().then((release) => {
      resolved = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(waiter.listening).toBe(true);
    expect(resolved).toBe(false);
    confirm?.();
    (await listening)();
    expect(resolved).toBe(true);
    waiter.stop();
  });

  it("wakes group waiters on any announcement, and stops listening a linger time after the last caller left", async () => {
    const waiter = new TaskWaiter(replica, subjects(), logger, LINGER_MS);
    const from = new TaskWaiter(announcer, subjects(), logger, LINGER_MS);
    const first = await waiter.listen();
    const second = await waiter.listen();
    const woken = waiter.waitForAnyEvent(NEVER_MS, new AbortController().signal);
    from.announce([randomUUID()]);
    await woken;
    first();
    first(); // releasing twice counts once
    expect(waiter.listening).toBe(true);
    second();
    expect(waiter.listening).toBe(true); // lingers: the next caller need not subscribe again
    await new Promise((r) => setTimeout(r, LINGER_MS * 3));
    expect(waiter.listening).toBe(false);
    const before = await receivedByReplica();
    from.announce([randomUUID()]);
    expect(await receivedByReplica()).toBe(before);
    waiter.stop();
  });

  it("a caller arriving within the linger time keeps the subscription", async () => {
    const waiter = new TaskWaiter(replica, subjects(), logger, LINGER_MS);
    (await waiter.listen())();
    await new Promise((r) => setTimeout(r, LINGER_MS / 2));
    const again = await waiter.listen();
    await new Promise((r) => setTimeout(r, LINGER_MS * 2));
    expect(waiter.listening).toBe(true);
    again();
    waiter.stop();
    expect(waiter.listening).toBe(false);
  });
});
