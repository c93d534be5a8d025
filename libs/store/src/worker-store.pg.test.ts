import { createTestDatabase, type TestDatabase } from "@taskorch/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, upsertWorkers, type WorkerHeartbeat } from "./index.js";

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  // DROP DATABASE ... WITH (FORCE) at the end may reach a connection still closing; that is expected.
  pool.on("error", () => undefined);
  await migrate(pool);
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

const TIMEOUT_MS = 30_000;

function beat(over: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return { workerId: "w1", hostname: "h", queues: ["default"], capacity: 10, active: 0, version: "x", ...over };
}

describe("upsertWorkers: which heartbeats add capacity", () => {
  it("names a worker on its first heartbeat, and not on the next ones that change nothing but its load", async () => {
    expect(await upsertWorkers(pool, [beat()], TIMEOUT_MS)).toEqual(["w1"]);
    expect(await upsertWorkers(pool, [beat({ active: 7 })], TIMEOUT_MS)).toEqual([]);
    expect(await upsertWorkers(pool, [beat({ capacity: 5, active: 7 })], TIMEOUT_MS)).toEqual([]);
    const [row] = (await pool.query("SELECT capacity, active FROM workers WHERE id = 'w1'")).rows;
    expect(row).toEqual({ capacity: 5, active: 7 });
  });

  it("names a worker that grows its pool or serves another queue", async () => {
    await upsertWorkers(pool, [beat({ workerId: "w2" })], TIMEOUT_MS);
    expect(await upsertWorkers(pool, [beat({ workerId: "w2", capacity: 11 })], TIMEOUT_MS)).toEqual(["w2"]);
    expect(await upsertWorkers(pool, [beat({ workerId: "w2", capacity: 11, queues: ["default", "mail"] })], TIMEOUT_MS)).toEqual(["w2"]);
    expect(await upsertWorkers(pool, [beat({ workerId: "w2", capacity: 11, queues: ["mail"] })], TIMEOUT_MS)).toEqual([]);
  });

  it("names a worker back after WORKER_TIMEOUT without a heartbeat, and only that one of a batch", async () => {
    await upsertWorkers(pool, [beat({ workerId: "w3" }), beat({ workerId: "w4" })], TIMEOUT_MS);
    await pool.query("UPDATE workers SET last_heartbeat = now() - interval '31 seconds' WHERE id = 'w3'");
    expect(await upsertWorkers(pool, [beat({ workerId: "w3" }), beat({ workerId: "w4" })], TIMEOUT_MS)).toEqual(["w3"]);
    const { rows } = await pool.query("SELECT id FROM workers WHERE last_heartbeat < now() - interval '1 second'");
    expect(rows).toEqual([]);
  });
});
