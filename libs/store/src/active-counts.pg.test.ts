import { newTaskId, type TaskSpec } from "@taskorch/domain";
import { createTestDatabase, type TestDatabase } from "@taskorch/testkit";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimTasks, createPool, insertTasks, migrate, recordOutcomes, upsertWorkers } from "./index.js";
import { sql } from "./sql.js";

/**
 * Counts of waiting and in-flight tasks run all the time: the dispatch window's count of queued
 * and running tasks on every enqueue (TaskInsertMany's fast path) and every admission round
 * (TaskAdmitCandidates), and the queue gauges' count by type every few seconds (TaskCountActive).
 * Every claim and every outcome leaves a dead row version behind until a vacuum, and finished tasks
 * stay in the table. A bitmap scan of the in-flight index visits the heap for each dead version on
 * every count (an enqueue grew slower with every task run since the last vacuum); an index scan
 * marks the dead entries it meets, and the next count skips them. The gauges' count read the whole
 * table, history included.
 */
let db: TestDatabase;
let pool: pg.Pool;

const CAPACITY = 100;
const WINDOW = { workerTimeoutMs: 30_000, factor: 2, extra: 0 };
const ROUNDS = 15;

const spec = (): TaskSpec => ({ id: newTaskId(), type: "example.noop", queue: "default", payloadJson: "1", priority: 0, maxAttempts: 3, runAt: null, delayMs: 0, timeoutMs: null, idempotencyKey: null, traceparent: null, groupId: null });

/** Shared buffers one execution of a stored statement touches (run in a transaction that is rolled back). */
async function buffersOf(name: string, params: string): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`PREPARE buffers_probe AS ${sql(name).text}`);
    const res = await client.query<{ "QUERY PLAN": [{ Plan: { "Shared Hit Blocks": number; "Shared Read Blocks": number } }] }>(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE buffers_probe${params === "" ? "" : `(${params})`}`,
    );
    const plan = res.rows[0]!["QUERY PLAN"][0].Plan;
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"];
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    await client.query("DEALLOCATE buffers_probe").catch(() => undefined);
    client.release();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url, maxConnections: 2, applicationName: "active-counts-test" }, () => undefined);
  await migrate(pool);
  // Only the counts may clean up after the churn: a vacuum would hide what they do.
  await pool.query("ALTER TABLE tasks SET (autovacuum_enabled = false)");
  await upsertWorkers(pool, [{ workerId: "w1", hostname: "test", queues: ["default"], capacity: CAPACITY, active: 0, version: "test" }], WINDOW.workerTimeoutMs);
  // Tasks through the fast path: queued at enqueue, claimed, succeeded; two dead versions each in idx_tasks_inflight.
  for (let round = 0; round < ROUNDS; round++) {
    const tasks = await insertTasks(pool, Array.from({ length: CAPACITY * WINDOW.factor }, spec), WINDOW);
    expect(tasks.every((t) => t.status === "queued")).toBe(true);
    const granted = await claimTasks(pool, tasks.map((t) => ({ taskId: t.id, attempt: t.attempts, workerId: "w1", type: t.type })));
    expect(granted).toHaveLength(tasks.length);
    const reports = granted.map((g) => ({ ...g, durationMs: 1, traceparent: null, outcome: { kind: "success" as const, resultJson: "null" } }));
    expect(await recordOutcomes(pool, reports, { baseMs: 1000, maxMs: 60_000 })).toHaveLength(tasks.length);
  }
}, 60_000);

afterAll(async () => {
  await pool.end();
  await db.drop();
});

describe("counting waiting and in-flight tasks after many have run", () => {
  /** Pages of the tasks table: a count that visits every dead version reads about all of them. */
  const heapPages = async () => (await pool.query<{ n: string }>("SELECT pg_relation_size('tasks') / current_setting('block_size')::int AS n")).rows[0]!.n;

  it("an enqueue into a queue with room does not read the dead versions' pages", async () => {
    const pages = Number(await heapPages());
    expect(pages).toBeGreaterThan(100);
    const input = JSON.stringify([{ id: newTaskId(), type: "example.noop", queue: "default", payload: "1", priority: 0, max_attempts: 3, run_at: null, delay_ms: 0, timeout_ms: null, idempotency_key: null, traceparent: null, group_id: null }]);
    const buffers = await buffersOf("TaskInsertMany", `'${input}', ${WINDOW.workerTimeoutMs}, ${WINDOW.factor}, ${WINDOW.extra}`);
    expect(buffers, `${buffers} buffers for one enqueue, ${pages} heap pages`).toBeLessThan(pages / 4);
  });

  it("an admission round does not read the dead versions' pages", async () => {
    const pages = Number(await heapPages());
    const buffers = await buffersOf("TaskAdmitCandidates", `${WINDOW.workerTimeoutMs}, ${WINDOW.factor}, ${WINDOW.extra}, 2000, 0`);
    expect(buffers, `${buffers} buffers for one admission round, ${pages} heap pages`).toBeLessThan(pages / 4);
  });

  it("the queue gauges' count reads the waiting and in-flight tasks, not the finished ones", async () => {
    const pages = Number(await heapPages());
    const buffers = await buffersOf("TaskCountActive", "");
    expect(buffers, `${buffers} buffers for the gauges' count, ${pages} heap pages`).toBeLessThan(pages / 4);
  });
});
