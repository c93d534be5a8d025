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
    const { tasks, more } = await listTasks(pool, { status, type, queue, afterId, pageSize: size });
    ids.push(...tasks.map((r) => r.id));
    if (status !== null) expect(tasks.every((r) => r.status === status)).toBe(true);
    if (!more) return ids;
    expect(tasks).toHaveLength(size);
    afterId = tasks[tasks.length - 1]!.id;
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

  it("ends a page before its payloads, results and errors pass max_bytes, with at least one task", async () => {
    const big = (i: number): TaskSpec => ({ ...spec(i), type: "big", payloadJson: JSON.stringify("p".repeat(1000)) });
    const inserted = await insertTasks(pool, Array.from({ length: 10 }, (_, i) => big(i)), { workerTimeoutMs: 30_000, factor: 1, extra: 0 });
    const newestFirst = inserted.map((t) => t.id).sort().reverse();
    // Each payload is 1,002 bytes of JSON text: three fit in 3,500 bytes, the fourth would pass them.
    const first = await listTasks(pool, { status: null, type: "big", queue: null, afterId: null, pageSize: 100, maxBytes: 3500 });
    expect(first.tasks.map((t) => t.id)).toEqual(newestFirst.slice(0, 3));
    expect(first.more).toBe(true);
    // A budget smaller than one task still makes progress, one task a page.
    const tiny = await listTasks(pool, { status: null, type: "big", queue: null, afterId: null, pageSize: 100, maxBytes: 10 });
    expect(tiny.tasks.map((t) => t.id)).toEqual(newestFirst.slice(0, 1));
    expect(tiny.more).toBe(true);
    // The last page says so.
    const rest = await listTasks(pool, { status: null, type: "big", queue: null, afterId: newestFirst[6]!, pageSize: 100, maxBytes: 3500 });
    expect(rest.tasks.map((t) => t.id)).toEqual(newestFirst.slice(7));
    expect(rest.more).toBe(false);
  });
});
