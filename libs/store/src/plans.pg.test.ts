import { newTaskId, type TaskSpec } from "@taskorch/domain";
import { createTestDatabase, type TestDatabase } from "@taskorch/testkit";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool, insertTasks, migrate } from "./index.js";
import { sql } from "./sql.js";

let db: TestDatabase;
let pool: pg.Pool;

const spec = (i: number): TaskSpec => ({
  id: newTaskId(),
  type: "example.noop",
  queue: "default",
  payloadJson: JSON.stringify({ i }),
  priority: 0,
  maxAttempts: 3,
  runAt: null,
  delayMs: 0,
  timeoutMs: null,
  idempotencyKey: null,
  traceparent: null,
  groupId: null,
});

/** The generic plan (the pool forces generic plans) of a stored statement, as EXPLAIN's JSON. */
async function genericPlan(name: string, params: string): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query(`PREPARE plan_probe AS ${sql(name).text}`);
    const res = await client.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) EXECUTE plan_probe${params === "" ? "" : `(${params})`}`);
    return JSON.stringify(res.rows[0]!["QUERY PLAN"]);
  } finally {
    await client.query("DEALLOCATE plan_probe").catch(() => undefined);
    client.release();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url, maxConnections: 2, applicationName: "plans-test" }, () => undefined);
  await migrate(pool);
  // A young table (1,000 tasks): with Postgres' default random_page_cost the claim and outcome
  // UPDATEs scanned all of it until it held ~5,000 rows.
  const window = { workerTimeoutMs: 30_000, factor: 2, extra: 0 };
  await insertTasks(pool, Array.from({ length: 1000 }, (_, i) => spec(i)), window);
  await pool.query("ANALYZE tasks");
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

describe("plans of the per-task statements on the pool's connections", () => {
  const id = "00000000-0000-7000-8000-000000000000";
  it("TaskClaimMany probes the primary key per claim instead of scanning the table", async () => {
    const plan = await genericPlan("TaskClaimMany", `'{${id}}', '{1}', '{w}'`);
    expect(plan).toContain('"Index Name":"tasks_pkey"');
    expect(plan).not.toContain('"Node Type":"Seq Scan"');
  });

  it("TaskRecordOutcomes probes the primary key per report instead of scanning the table", async () => {
    const plan = await genericPlan("TaskRecordOutcomes", `'{${id}}', '{1}', '{w}', '{t}', '{null}', '{null}', '{f}', 1000, 60000`);
    expect(plan).toContain('"Index Name":"tasks_pkey"');
    expect(plan).not.toContain('"Node Type":"Seq Scan"');
  });

  it("TaskNextDueAt walks idx_tasks_claimable per queue instead of reading every pending task", async () => {
    const plan = await genericPlan("TaskNextDueAt", "");
    expect(plan).toContain('"Index Name":"idx_tasks_claimable"');
    expect(plan).not.toContain('"Node Type":"Seq Scan"');
    expect(plan).not.toContain('"Node Type":"Bitmap Heap Scan"');
  });
});
