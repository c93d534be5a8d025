import { newTaskId, type TaskSpec } from "@taskorch/domain";
import { createTestDatabase, type TestDatabase } from "@taskorch/testkit";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  attemptElect,
  cancelTask,
  claimTasks,
  deleteDeadWorkers,
  getLease,
  getTask,
  getTasks,
  insertTasks,
  migrate,
  admitTasks,
  deleteQueueLimit,
  setQueueLimit,
  setRateLimit,
  recordOutcomes,
  redispatchStale,
  renewLease,
  rescueOrphans,
  resignLease,
  retryTask,
  upsertWorkers,
  type LeaderTerm,
} from "./index.js";

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  // DROP DATABASE ... WITH (FORCE) at the end may reach a connection still closing; that is expected.
  pool.on("error", () => undefined);
  await Promise.all([migrate(pool), migrate(pool), migrate(pool)]);
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

beforeEach(async () => {
  await pool.query("TRUNCATE tasks, workers, leader_lease, rate_limits, queue_limits, schedules");
  // A live worker gives the default queue room, so tasks due now are admitted at insert.
  await upsertWorkers(pool, [{ workerId: "w", hostname: "h", queues: ["default"], capacity: 100, active: 0, version: "x" }], 30_000);
});

const WINDOW = { workerTimeoutMs: 30_000, factor: 1, extra: 0 };

function spec(over: Partial<TaskSpec> = {}): TaskSpec {
  return { id: newTaskId(), type: "t", queue: "default", payloadJson: "{}", priority: 0, maxAttempts: 3, runAt: null, delayMs: 0, timeoutMs: null, idempotencyKey: null, traceparent: null, groupId: null, ...over };
}

/** A deposed leader: A held epoch 1, its lease ran out, B took epoch 2. */
async function deposedAndCurrent(): Promise<{ old: LeaderTerm; current: LeaderTerm }> {
  const a = await attemptElect(pool, "A", 30_000, false);
  expect(a?.epoch).toBe(1);
  expect(await attemptElect(pool, "B", 30_000, false)).toBeUndefined();
  await pool.query("UPDATE leader_lease SET expires_at = now() - interval '1 second'");
  const b = await attemptElect(pool, "B", 30_000, false);
  expect(b?.epoch).toBe(2);
  return { old: { leaderId: "A", epoch: 1 }, current: { leaderId: "B", epoch: 2 } };
}

describe("migrate", () => {
  it("is applied exactly once when processes start at the same time", async () => {
    const rows = (await pool.query("SELECT version FROM taskorch_migrations")).rows;
    expect(rows.map((r) => r.version)).toEqual(["0001_init.sql", "0002_flow_control.sql", "0003_attempt_base.sql", "0004_list_indexes.sql", "0005_claimable_by_queue.sql"]);
  });
});

describe("leader lease", () => {
  it("only grows epochs, renews only its own term, and resigns so a successor takes over at once", async () => {
    const { old, current } = await deposedAndCurrent();
    expect(await renewLease(pool, old.leaderId, old.epoch, 30_000)).toBeUndefined();
    expect(await renewLease(pool, current.leaderId, current.epoch, 30_000)).toBeInstanceOf(Date);
    await resignLease(pool, old.leaderId, old.epoch);
    expect((await getLease(pool))?.held).toBe(true);
    await resignLease(pool, current.leaderId, current.epoch);
    expect((await getLease(pool))?.held).toBe(false);
    expect((await attemptElect(pool, "C", 30_000, false))?.epoch).toBe(3);
  });

  it("lets a single instance take its own unexpired lease at start (force) at the next epoch", async () => {
    await attemptElect(pool, "solo-1", 30_000, false);
    expect((await attemptElect(pool, "solo-2", 30_000, true))?.epoch).toBe(2);
  });
});

describe("leader-only writes are fenced by term", () => {
  it("a deposed leader admits nothing; the current one admits", async () => {
    const { old, current } = await deposedAndCurrent();
    await insertTasks(pool, [spec({ delayMs: 1 }), spec({ delayMs: 1 })], WINDOW);
    await pool.query("UPDATE tasks SET run_at = now() - interval '1 second'");
    expect(await admitTasks(pool, old, WINDOW, 100)).toEqual([]);
    const promoted = await admitTasks(pool, current, WINDOW, 100);
    expect(promoted).toHaveLength(2);
    expect(promoted.every((p) => p.attempt === 1)).toBe(true);
    expect((await pool.query("SELECT DISTINCT leader_epoch FROM tasks")).rows).toEqual([{ leader_epoch: "2" }]);
  });

  it("a deposed leader rescues nothing, re-dispatches nothing and deletes no worker", async () => {
    const { old, current } = await deposedAndCurrent();
    const [t] = await insertTasks(pool, [spec()], WINDOW);
    await claimTasks(pool, [{ taskId: t!.id, attempt: 1, workerId: "ghost" }]);
    await pool.query("UPDATE tasks SET started_at = now() - interval '1 hour'");
    const [q] = await insertTasks(pool, [spec()], WINDOW);
    await pool.query("UPDATE tasks SET dispatched_at = now() - interval '1 hour' WHERE id = $1", [q!.id]);
    await upsertWorkers(pool, [{ workerId: "gone", hostname: "h", queues: ["default"], capacity: 1, active: 0, version: "x" }], 30_000);
    await pool.query("UPDATE workers SET last_heartbeat = now() - interval '2 days' WHERE id = 'gone'");
    const params = { workerTimeoutMs: 30_000, defaultTimeoutMs: 7_200_000, graceMs: 0, limit: 100, suspectWorkerIds: [], judgeSilence: true };
    expect(await rescueOrphans(pool, old, params)).toEqual([]);
    expect(await redispatchStale(pool, old, 60_000, 100)).toEqual([]);
    expect(await deleteDeadWorkers(pool, old, 86_400_000)).toEqual([]);
    const rescued = await rescueOrphans(pool, current, params);
    expect(rescued.map((r) => [r.taskId, r.status, r.reason])).toEqual([[t!.id, "pending", "worker lost"]]);
    expect((await redispatchStale(pool, current, 60_000, 100)).map((d) => d.taskId)).toEqual([q!.id]);
    expect(await deleteDeadWorkers(pool, current, 86_400_000)).toEqual(["gone"]);
  });
});

describe("rescue while heartbeats may have gone unrecorded", () => {
  it("takes no silent or unknown worker for dead and no timed-out attempt for lost, but still rescues known-gone workers", async () => {
    const { current } = await deposedAndCurrent();
    const [silent, unknown, timedOut, suspect] = await insertTasks(pool, [spec(), spec(), spec({ timeoutMs: 1000 }), spec()], WINDOW);
    await claimTasks(pool, [
      { taskId: silent!.id, attempt: 1, workerId: "silent" },
      { taskId: unknown!.id, attempt: 1, workerId: "never-registered" },
      { taskId: timedOut!.id, attempt: 1, workerId: "alive" },
      { taskId: suspect!.id, attempt: 1, workerId: "gone" },
    ]);
    const beat = (id: string) => ({ workerId: id, hostname: "h", queues: ["default"], capacity: 1, active: 1, version: "x" });
    await upsertWorkers(pool, [beat("silent"), beat("alive"), beat("gone")], 30_000);
    await pool.query("UPDATE workers SET last_heartbeat = now() - interval '1 minute' WHERE id = 'silent'");
    await pool.query("UPDATE tasks SET started_at = now() - interval '1 minute'");
    const params = { workerTimeoutMs: 30_000, defaultTimeoutMs: 7_200_000, graceMs: 0, limit: 100, suspectWorkerIds: ["gone"] };

    const blind = await rescueOrphans(pool, current, { ...params, judgeSilence: false });
    // The timed-out attempt's report may be waiting in JetStream: it is not taken for lost yet.
    expect(blind.map((r) => [r.taskId, r.reason])).toEqual([[suspect!.id, "worker lost"]]);
    const seeing = await rescueOrphans(pool, current, { ...params, judgeSilence: true });
    expect(new Map(seeing.map((r) => [r.taskId, r.reason]))).toEqual(
      new Map([
        [silent!.id, "worker lost"],
        [unknown!.id, "worker lost"],
        [timedOut!.id, "attempt timed out"],
      ]),
    );
  });
});

describe("admission", () => {
  const L = { leaderId: "L", epoch: 1 };
  beforeEach(async () => {
    await attemptElect(pool, "L", 30_000, false);
  });

  it("admits at insert only as far as the queue's window reaches, highest priority first", async () => {
    await pool.query("UPDATE workers SET capacity = 3");
    const rows = await insertTasks(pool, [0, 5, 9, 1, 7].map((priority) => spec({ priority })), WINDOW);
    const byPriority = new Map(rows.map((r) => [r.priority, r.status]));
    expect([9, 7, 5].map((p) => byPriority.get(p))).toEqual(["queued", "queued", "queued"]);
    expect([1, 0].map((p) => byPriority.get(p))).toEqual(["pending", "pending"]);
    expect(await admitTasks(pool, L, WINDOW, 100)).toEqual([]);
    // Room frees while tasks wait: a newer task does not take it at insert; it waits in Postgres
    // and is admitted with the others, by priority.
    await pool.query("UPDATE tasks SET status = 'succeeded' WHERE priority = 9");
    const [late] = await insertTasks(pool, [spec({ priority: 100 })], WINDOW);
    expect(late!.status).toBe("pending");
    expect((await admitTasks(pool, L, WINDOW, 100)).map((a) => a.taskId)).toEqual([late!.id]);
  });

  it("judges each task of a mixed batch at insert by its own queue: room, no workers, delayed, rate-limited", async () => {
    await pool.query("UPDATE workers SET capacity = 3");
    await setRateLimit(pool, { type: "limited", limit: 100, periodMs: 1000 });
    const batch = [
      spec({ type: "limited", priority: 9 }),
      spec({ priority: 8, delayMs: 60_000 }),
      spec({ queue: "nobody-serves", priority: 10 }),
      ...[1, 2, 3, 0].map((priority) => spec({ priority })),
    ];
    const rows = await insertTasks(pool, batch, WINDOW);
    const statusOf = new Map(rows.map((r) => [r.id, r.status]));
    // The window of 3 is ranked over the queue's due tasks by priority: the rate-limited type
    // ranks first but waits for the leader (its tokens are taken there), priorities 3 and 2 go now.
    expect(batch.map((s) => statusOf.get(s.id))).toEqual(["pending", "pending", "pending", "pending", "queued", "queued", "pending"]);
    // With no room anywhere, every task is stored PENDING.
    await pool.query("UPDATE workers SET capacity = 0");
    const none = await insertTasks(pool, [spec({ priority: 99 }), spec({ queue: "nobody-serves" })], WINDOW);
    expect(none.map((r) => r.status)).toEqual(["pending", "pending"]);
  });

  it("never lets a queue limit or a rate limit be exceeded, and keeps an oldest-first share", async () => {
    await setQueueLimit(pool, { queue: "default", maxConcurrency: 4 });
    await setRateLimit(pool, { type: "limited", limit: 2, periodMs: 3_600_000 });
    const old = await insertTasks(pool, [spec({ type: "limited", priority: -5 })], WINDOW);
    expect(old[0]!.status).toBe("pending");
    await insertTasks(pool, Array.from({ length: 20 }, () => spec({ priority: 10 })), WINDOW);
    const admitted = await admitTasks(pool, L, WINDOW, 100, true);
    expect(admitted).toHaveLength(4);
    // On an age turn the oldest ready task gets a slot despite its low priority.
    expect(admitted.map((a) => a.taskId)).toContain(old[0]!.id);
    expect(await admitTasks(pool, L, WINDOW, 100)).toEqual([]);
    await deleteQueueLimit(pool, "default");
    await insertTasks(pool, Array.from({ length: 5 }, () => spec({ type: "limited", priority: 50 })), WINDOW);
    const next = await admitTasks(pool, L, WINDOW, 100);
    expect(next.filter((a) => a.type === "limited")).toHaveLength(1);
  });
});

describe("attempts are fenced", () => {
  it("grants one claim per attempt and rejects reports of stale attempts or other workers", async () => {
    const [t] = await insertTasks(pool, [spec({ maxAttempts: 2 })], WINDOW);
    const granted = await claimTasks(pool, [
      { taskId: t!.id, attempt: 1, workerId: "w1" },
      { taskId: t!.id, attempt: 1, workerId: "w2" },
    ]);
    expect(granted).toHaveLength(1);
    const winner = granted[0]!.workerId;
    const loser = winner === "w1" ? "w2" : "w1";
    expect(await claimTasks(pool, [{ taskId: t!.id, attempt: 1, workerId: loser }])).toEqual([]);
    // The winner asking again (its grant went unheard) gets the same attempt, with its start kept.
    const startedAt = (await getTask(pool, t!.id))!.startedAt;
    expect(await claimTasks(pool, [{ taskId: t!.id, attempt: 1, workerId: winner }])).toEqual([{ taskId: t!.id, attempt: 1, workerId: winner, type: "t" }]);
    expect((await getTask(pool, t!.id))!.startedAt).toEqual(startedAt);
    expect(await claimTasks(pool, [{ taskId: t!.id, attempt: 2, workerId: winner }])).toEqual([]);
    const backoff = { baseMs: 10, maxMs: 10 };
    const report = (workerId: string, attempt: number) => ({ taskId: t!.id, attempt, workerId, type: "t", durationMs: 1, traceparent: null, outcome: { kind: "success" as const, resultJson: '"ok"' } });
    expect(await recordOutcomes(pool, [report(loser, 1)], backoff)).toEqual([]);
    expect(await recordOutcomes(pool, [report(winner, 2)], backoff)).toEqual([]);
    expect(await recordOutcomes(pool, [report(winner, 1)], backoff)).toHaveLength(1);
    expect(await recordOutcomes(pool, [report(winner, 1)], backoff)).toEqual([]);
    expect(await claimTasks(pool, [{ taskId: t!.id, attempt: 1, workerId: winner }])).toEqual([]);
    expect((await getTask(pool, t!.id))?.resultJson).toBe('"ok"');
  });

  it("sends a failed attempt back to pending with backoff while attempts remain, then dead-letters", async () => {
    const [t] = await insertTasks(pool, [spec({ maxAttempts: 2 })], WINDOW);
    const fail = (attempt: number) => ({ taskId: t!.id, attempt, workerId: "w", type: "t", durationMs: 1, traceparent: null, outcome: { kind: "failure" as const, message: `boom ${attempt}`, nonRetryable: false } });
    await claimTasks(pool, [{ taskId: t!.id, attempt: 1, workerId: "w" }]);
    expect((await recordOutcomes(pool, [fail(1)], { baseMs: 60_000, maxMs: 60_000 }))[0]?.status).toBe("pending");
    const after1 = await getTask(pool, t!.id);
    expect(after1!.runAt.getTime()).toBeGreaterThan(Date.now() + 25_000);
    await pool.query("UPDATE tasks SET run_at = now()");
    await attemptElect(pool, "L", 30_000, false);
    expect(await admitTasks(pool, { leaderId: "L", epoch: 1 }, WINDOW, 10)).toHaveLength(1);
    await claimTasks(pool, [{ taskId: t!.id, attempt: 2, workerId: "w" }]);
    expect((await recordOutcomes(pool, [fail(2)], { baseMs: 1, maxMs: 1 }))[0]?.status).toBe("dead_letter");
    expect((await getTask(pool, t!.id))?.lastError).toBe("boom 2");
  });

  it("records successes, retries and dead letters of one batch in one statement, each by its own rule", async () => {
    const tasks = await insertTasks(pool, [spec({ maxAttempts: 3 }), spec({ maxAttempts: 3 }), spec({ maxAttempts: 3 }), spec({ maxAttempts: 3 })], WINDOW);
    await claimTasks(pool, tasks.map((t) => ({ taskId: t.id, attempt: 1, workerId: "w" })));
    const base = { attempt: 1, workerId: "w", type: "t", durationMs: 1, traceparent: null };
    const [ok, retry, fatal, stale] = tasks.map((t) => t.id) as [string, string, string, string];
    const outcomes = await recordOutcomes(
      pool,
      [
        { ...base, taskId: ok, outcome: { kind: "success", resultJson: '{"n":1}' } },
        { ...base, taskId: retry, outcome: { kind: "failure", message: "try again", nonRetryable: false } },
        { ...base, taskId: fatal, outcome: { kind: "failure", message: "give up", nonRetryable: true } },
        { ...base, taskId: stale, attempt: 2, outcome: { kind: "success", resultJson: "null" } },
      ],
      { baseMs: 60_000, maxMs: 60_000 },
    );
    expect(new Map(outcomes.map((o) => [o.taskId, o.status]))).toEqual(new Map([[ok, "succeeded"], [retry, "pending"], [fatal, "dead_letter"]]));
    const byId = new Map((await getTasks(pool, tasks.map((t) => t.id))).map((t) => [t.id, t]));
    expect(byId.get(ok)).toMatchObject({ resultJson: '{"n": 1}', lastError: null });
    expect(byId.get(ok)!.finishedAt).not.toBeNull();
    expect(byId.get(retry)).toMatchObject({ status: "pending", lastError: "try again", resultJson: null, finishedAt: null });
    expect(byId.get(retry)!.runAt.getTime()).toBeGreaterThan(Date.now() + 25_000);
    expect(byId.get(fatal)).toMatchObject({ status: "dead_letter", lastError: "give up", resultJson: null });
    expect(byId.get(stale)).toMatchObject({ status: "running", resultJson: null });
  });

  it("continues attempt numbers across RetryTask, so the old run's late report cannot pass for the new one", async () => {
    await attemptElect(pool, "L", 30_000, false);
    const [t] = await insertTasks(pool, [spec({ maxAttempts: 1 })], WINDOW);
    expect(await claimTasks(pool, [{ taskId: t!.id, attempt: 1, workerId: "w" }])).toHaveLength(1);
    // The leader gives up on the run (worker presumed lost) while its handler in fact goes on.
    const params = { workerTimeoutMs: 30_000, defaultTimeoutMs: 7_200_000, graceMs: 0, limit: 100, suspectWorkerIds: ["w"], judgeSilence: true };
    expect((await rescueOrphans(pool, { leaderId: "L", epoch: 1 }, params)).map((r) => r.status)).toEqual(["dead_letter"]);
    const retried = await retryTask(pool, t!.id);
    expect(retried).toMatchObject({ status: "queued", attempts: 2, maxAttempts: 2 });
    // The same worker process claims the retried run; the old attempt's claim and report are stale.
    expect(await claimTasks(pool, [{ taskId: t!.id, attempt: 1, workerId: "w" }])).toEqual([]);
    expect(await claimTasks(pool, [{ taskId: t!.id, attempt: 2, workerId: "w" }])).toHaveLength(1);
    const report = (attempt: number, ok: boolean) => ({
      taskId: t!.id, attempt, workerId: "w", type: "t", durationMs: 1, traceparent: null,
      outcome: ok ? { kind: "success" as const, resultJson: `"run ${attempt}"` } : { kind: "failure" as const, message: `run ${attempt} failed`, nonRetryable: false },
    });
    const backoff = { baseMs: 1, maxMs: 1 };
    expect(await recordOutcomes(pool, [report(1, true)], backoff)).toEqual([]);
    expect(await getTask(pool, t!.id)).toMatchObject({ status: "running", attempts: 2, resultJson: null });
    // The retry got the task's original budget (one attempt): its failure dead-letters it again,
    // and a second retry grants one more, numbered 3.
    expect((await recordOutcomes(pool, [report(2, false)], backoff)).map((o) => o.status)).toEqual(["dead_letter"]);
    expect(await retryTask(pool, t!.id)).toMatchObject({ status: "queued", attempts: 3, maxAttempts: 3 });
    await claimTasks(pool, [{ taskId: t!.id, attempt: 3, workerId: "w" }]);
    expect((await recordOutcomes(pool, [report(2, true), report(3, true)], backoff)).map((o) => [o.attempts, o.status])).toEqual([[3, "succeeded"]]);
    expect((await getTask(pool, t!.id))?.resultJson).toBe('"run 3"');
  });

  it("gives a task canceled before it ran the same attempts on retry as a new one", async () => {
    const [t] = await insertTasks(pool, [spec({ maxAttempts: 3, delayMs: 60_000 })], WINDOW);
    expect((await cancelTask(pool, t!.id, "canceled by request"))?.previousStatus).toBe("pending");
    expect(await retryTask(pool, t!.id)).toMatchObject({ status: "queued", attempts: 1, maxAttempts: 3 });
  });
});
