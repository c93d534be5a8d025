import { createTestNats, type TestNats } from "@taskorch/testkit";
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subscribeConfirmed } from "./confirmed-subscription.js";

let nats: TestNats;
let listener: NatsConnection;
let publisher: NatsConnection;

beforeAll(async () => {
  nats = createTestNats();
  listener = await connect({ servers: nats.url });
  publisher = await connect({ servers: nats.url });
});

afterAll(async () => {
  await listener.close();
  await publisher.close();
  await nats.cleanup();
});

describe("subscribeConfirmed against a real NATS", () => {
  it("once confirmed, a message another connection publishes at once is delivered", async () => {
    for (let round = 0; round < 20; round++) {
      const subject = `${nats.prefix}.confirmed.${round}`;
      let deliver: (m: Msg) => void = () => {};
      const delivered = new Promise<Msg>((resolve) => (deliver = resolve));
      const { sub, confirmed } = subscribeConfirmed(listener, subject, { callback: (err, m) => { if (!err) deliver(m); } });
      expect(await confirmed).toBe(true);
      publisher.publish(subject, "now");
      expect((await delivered).string()).toBe("now");
      sub.unsubscribe();
    }
  });

  it("reports false, without hanging, when the server does not answer in time", async () => {
    // The listener's connection, with a flush that never finishes (a server that does not answer).
    const silent = Object.create(listener, { flush: { value: () => new Promise<void>(() => {}) } }) as NatsConnection;
    const { sub, confirmed } = subscribeConfirmed(silent, `${nats.prefix}.confirmed.silent`, {}, 50);
    expect(await confirmed).toBe(false);
    sub.unsubscribe();
  });
});
