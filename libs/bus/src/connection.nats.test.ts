/**
 * A NATS server that goes silent without closing the connection (here: a proxy that stops
 * forwarding on it, while new connections still go through) must be noticed and the connection
 * re-made, within seconds rather than nats.js' default of minutes. Real NATS.
 */
import { createLogger } from "@taskorch/telemetry";
import { createTestNats, startTcpProxy, TEST_NATS_URL, type TcpProxy, type TestNats } from "@taskorch/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectBus } from "./connection.js";

let nats: TestNats;
let proxy: TcpProxy;

beforeAll(async () => {
  nats = createTestNats();
  const url = new URL(TEST_NATS_URL);
  proxy = await startTcpProxy(Number(url.port || 4222), url.hostname);
});

afterAll(async () => {
  await proxy.close();
  await nats.cleanup();
});

describe("connectBus", () => {
  it("takes a silent server's connection for dead within ~15 s and connects again", async () => {
    const nc = await connectBus({ natsUrl: `nats://127.0.0.1:${proxy.port}`, name: "silent-test", logger: createLogger({ service: "test", nodeId: "test", debug: false }) });
    try {
      const seen: string[] = [];
      const reconnected = (async () => {
        for await (const s of nc.status()) {
          seen.push(s.type);
          if (s.type === "reconnect") return true;
        }
        return false;
      })();
      await nc.flush();
      proxy.freeze();
      const outcome = await Promise.race([reconnected, new Promise<false>((r) => setTimeout(() => r(false), 25_000))]);
      expect(outcome, `statuses seen: ${seen.join(", ")}`).toBe(true);
      expect(seen).toContain("staleConnection");
      // The coordinator's HeartbeatSight goes blind on "disconnect": a stale connection must say so.
      expect(seen.indexOf("disconnect")).toBeGreaterThan(seen.indexOf("staleConnection"));
      // And the new connection works: a round trip through the server.
      const sub = nc.subscribe(`${nats.prefix}.silent`, { max: 1 });
      nc.publish(`${nats.prefix}.silent`, "after");
      for await (const m of sub) expect(m.string()).toBe("after");
    } finally {
      await nc.close();
    }
  }, 40_000);
});
