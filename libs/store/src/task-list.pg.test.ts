import { newTaskId, TASK_STATUSES, type TaskSpec, type TaskStatus } from "@taskorch/domain";
import { createTestDatabase, type TestDatabase } from "@taskorch/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool, insertTasks, listTasks, migrate } from "./index.js";

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  // The pool taskorch runs with (generic plans forced), so the per-status statements are what
  // production prepares.
  pool = createPool({ databaseUrl: db.url, maxConnections: 2, applicationName: "task-list-test" }, () => undefined);
  await migrate(pool);
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

function spec(i: number): TaskSpec {
  return { id: newTaskId(), type: i % 2 === 0 ? "even" : "odd", queue: i % 3 === 0 ? "q3" : "default", payloadJson: String(i), priority: 0, maxAttempts: 3, runAt: null, delayMs: 60_000, timeoutMs: null, idempotencyKey: null, traceparent: null, groupId: null };
}

async function page(status: TaskStatus | null, type: string | null, queue: string | null, size: number): Promise<string[]> {
  const ids: string[] = [];
  let afterId: string | null = null;
  for (;;) {
    const rows = await listTasks(pool, { status, type, queue, afterId, limit: size });
    ids.push(...rows.map((r) => r.id));
    if (status !== null) expect(rows.every((r) => r.status === status)).toBe(true);
    if (rows.length < size) return ids;
    afterId = rows[rows.length - 1]!.id;
  }
}

describe("listTasks", () => {
  it("pages through each status (and type and queue) newest first, exactly as a plain query sees them", async () => {
    const inserted = await insertTasks(pool, Array.from({ length: 120 }, (_, i) => spec(i)), { workerTimeoutMs: 30_000, factor: 1, extra: 0 });
    // Spread the tasks over every status, as the transitions would leave them.
    await pool.query(
      `UPDATE tasks SET status = (ARRAY['pending','queued','running','succeeded','dead_letter','canceled'])[1 + (payload::text::int % 6)],
                        attempts = CASE WHEN payload::text::int % 6 = 0 THEN 0 ELSE 1 END`,
    );
    expect(inserted).toHaveLength(120);
    for (const status of [null, ...TASK_STATUSES]) {
      for (const [type, queue] of [[null, null], ["even", null], [null, "q3"], ["odd", "q3"]] as const) {
        const expected = (
          await pool.query<{ id: string }>(
            "SELECT id FROM tasks WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR queue = $3) ORDER BY id DESC",
            [status, type, queue],
          )
        ).rows.map((r) => r.id);
        expect(await page(status, type, queue, 7), `${status} ${type} ${queue}`).toEqual(expected);
      }
    }
  });
});
