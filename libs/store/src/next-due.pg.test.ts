import { newTaskId, type TaskSpec } from "@taskorch/domain";
import { createTestDatabase, type TestDatabase } from "@taskorch/testkit";
import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPool, insertTasks, migrate, nextDueInMs } from "./index.js";

let db: TestDatabase;
let pool: pg.Pool;
const window = { workerTimeoutMs: 30_000, factor: 2, extra: 0 };

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url, maxConnections: 2, applicationName: "next-due-test" }, () => undefined);
  await migrate(pool);
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

beforeEach(async () => {
  await pool.query("TRUNCATE tasks");
});

/** Tasks of `queue` due in `delayMs` (no workers are alive, so all are stored PENDING). */
async function pending(queue: string, delayMs: number, n = 1): Promise<string[]> {
  const specs: TaskSpec[] = Array.from({ length: n }, () => ({
    id: newTaskId(), type: "t", queue, payloadJson: "{}", priority: 0, maxAttempts: 3, runAt: null,
    delayMs, timeoutMs: null, idempotencyKey: null, traceparent: null, groupId: null,
  }));
  const stored = await insertTasks(pool, specs, window);
  expect(stored.every((t) => t.status === "pending")).toBe(true);
  return stored.map((t) => t.id);
}

describe("nextDueInMs (the leader's sleep until the next delayed task)", () => {
  it("is null when no task is pending", async () => {
    expect(await nextDueInMs(pool)).toBeNull();
  });

  it("finds the earliest due time across queues, whichever queue holds it and however many wait", async () => {
    await pending("a-late", 120_000, 50);
    await pending("m-soon", 5_000, 3);
    await pending("z-later", 60_000, 50);
    const ms = (await nextDueInMs(pool))!;
    expect(ms).toBeGreaterThan(3_000);
    expect(ms).toBeLessThanOrEqual(5_000);
  });

  it("is at most zero once a task is due, and ignores tasks that are no longer pending", async () => {
    const [due] = await pending("b", 0);
    await pending("c", 30_000);
    expect(await nextDueInMs(pool)).toBeLessThanOrEqual(0);
    await pool.query("UPDATE tasks SET status = 'canceled', finished_at = now() WHERE id = $1", [due]);
    const ms = (await nextDueInMs(pool))!;
    expect(ms).toBeGreaterThan(25_000);
    expect(ms).toBeLessThanOrEqual(30_000);
  });
});
