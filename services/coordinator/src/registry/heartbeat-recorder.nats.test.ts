/**
 * Two coordinators' recorders share the heartbeats (a NATS queue group). When one of them is cut
 * off from Postgres, the heartbeats it gets must still be recorded, by the other: otherwise the
 * leader takes live workers for dead. Real NATS and Postgres; the cut is a TCP proxy reset.
 */
import { subjectsFor } from "@taskorch/bus";
import { Heartbeat } from "@taskorch/proto";
import { createPool, migrate, type Pool } from "@taskorch/store";
import { createLogger } from "@taskorch/telemetry";
import { createTestDatabase, createTestNats, eventually, startTcpProxy, TEST_NATS_URL, type TcpProxy, type TestDatabase, type TestNats } from "@taskorch/testkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HeartbeatRecorder } from "./heartbeat-recorder.js";

let db: TestDatabase;
let nats: TestNats;
let proxy: TcpProxy;
let direct: Pool;
let viaProxy: Pool;
const connections: NatsConnection[] = [];
const logger = createLogger({ service: "test", nodeId: "test", debug: false });

beforeAll(async () => {
  db = await createTestDatabase();
  nats = createTestNats();
  direct = createPool({ databaseUrl: db.url, maxConnections: 2, applicationName: "recorder-test-a" }, () => undefined);
  await migrate(direct);
  const url = new URL(db.url);
  proxy = await startTcpProxy(Number(url.port || 5432), url.hostname);
  url.port = String(proxy.port);
  viaProxy = createPool({ databaseUrl: url.toString(), maxConnections: 2, applicationName: "recorder-test-b" }, () => undefined);
});

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
  await viaProxy.end().catch(() => undefined);
  await direct.end();
  await proxy.close();
  await nats.cleanup();
  await db.drop();
});

async function recorder(pool: Pool, gaps: string[]): Promise<HeartbeatRecorder> {
  const nc = await connect({ servers: TEST_NATS_URL });
  connections.push(nc);
  const r = new HeartbeatRecorder({ nc, subjects: subjectsFor(nats.prefix), pool, workerTimeoutMs: 30_000, capacityFunc: () => {}, gapFunc: (why) => gaps.push(why), logger });
  r.start();
  await nc.flush();
  return r;
}

const recorded = async (prefix: string) => Number((await direct.query("SELECT count(*) AS n FROM workers WHERE id LIKE $1", [`${prefix}%`])).rows[0].n);

describe("HeartbeatRecorder with a replica cut off from Postgres", () => {
  it("hands that replica's heartbeats to the other, and takes its share again once Postgres answers", async () => {
    const gapsA: string[] = [];
    const gapsB: string[] = [];
    const a = await recorder(direct, gapsA);
    const b = await recorder(viaProxy, gapsB);
    const publisher = await connect({ servers: TEST_NATS_URL });
    connections.push(publisher);
    const beat = (workerId: string) => publisher.publish(subjectsFor(nats.prefix).heartbeats, Heartbeat.encode({ workerId, hostname: "h", queues: ["default"], capacity: 1, active: 0, version: "x" }).finish());

    proxy.cut();
    // Spread out, so both replicas get some (the queue group picks one per message).
    for (let i = 0; i < 20; i++) {
      beat(`cut-${i}`);
      await publisher.flush();
      await new Promise((r) => setTimeout(r, 20));
    }
    await eventually(async () => (await recorded("cut-")) === 20, { timeoutMs: 10_000, what: "all 20 heartbeats recorded" });
    expect(b.recording).toBe(false);
    expect(gapsB).toEqual(["recording heartbeats failed"]);
    expect(a.recording).toBe(true);
    expect(gapsA).toEqual([]);

    proxy.restore();
    await eventually(() => b.recording, { timeoutMs: 10_000, what: "B recording again" });
    expect(gapsB).toEqual(["recording heartbeats failed", "recording heartbeats resumed"]);
    for (let i = 0; i < 20; i++) beat(`back-${i}`);
    await publisher.flush();
    await eventually(async () => (await recorded("back-")) === 20, { timeoutMs: 10_000, what: "all 20 heartbeats recorded after the cut" });
    await a.stop();
    await b.stop();
  });

  it("backs off from rejoining when Postgres answers a replica but refuses its writes", async () => {
    // A role that may connect (the probe passes) but not write the workers table.
    const role = `ro_${db.name}`.slice(0, 63);
    await direct.query(`CREATE ROLE "${role}" LOGIN`);
    const url = new URL(db.url);
    url.username = role;
    url.password = "";
    const refusing = createPool({ databaseUrl: url.toString(), maxConnections: 2, applicationName: "recorder-test-c" }, () => undefined);
    try {
      const gapsA: string[] = [];
      const gapsC: string[] = [];
      const a = await recorder(direct, gapsA);
      const c = await recorder(refusing, gapsC);
      const publisher = await connect({ servers: TEST_NATS_URL });
      connections.push(publisher);
      const started = performance.now();
      for (let i = 0; i < 60; i++) {
        publisher.publish(subjectsFor(nats.prefix).heartbeats, Heartbeat.encode({ workerId: `ro-${i}`, hostname: "h", queues: ["default"], capacity: 1, active: 0, version: "x" }).finish());
        await publisher.flush();
        await new Promise((r) => setTimeout(r, 50));
      }
      const elapsedMs = performance.now() - started;
      await eventually(async () => (await recorded("ro-")) === 60, { timeoutMs: 10_000, what: "all 60 heartbeats recorded by the replica that can write" });
      const left = gapsC.filter((g) => g === "recording heartbeats failed").length;
      expect(left).toBeGreaterThanOrEqual(2); // it did try again
      // Rejoining after each probe (every 250 ms) would have left ~elapsed/250 times; backing off
      // (0, 0.5, 1, 2, 4 s...) leaves about log2 of that.
      expect(left).toBeLessThanOrEqual(Math.ceil(Math.log2(elapsedMs / 250)) + 1);
      expect(gapsA).toEqual([]);
      await a.stop();
      await c.stop();
    } finally {
      await refusing.end().catch(() => undefined);
      await direct.query(`DROP ROLE IF EXISTS "${role}"`);
    }
  });
});
