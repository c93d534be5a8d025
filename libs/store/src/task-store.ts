import type { AttemptReport, DispatchItem, TaskRecord, TaskSpec, TaskStatus } from "@taskorch/domain";
import type pg from "pg";
import { sql } from "./sql.js";

/** Anything that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, "query">;

interface TaskRow {
  id: string;
  type: string;
  queue: string;
  payload: string;
  priority: number;
  status: TaskStatus;
  attempts: number;
  max_attempts: number;
  run_at: Date;
  timeout_ms: number | null;
  idempotency_key: string | null;
  result: string | null;
  last_error: string | null;
  worker_id: string | null;
  traceparent: string | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

function toTask(r: TaskRow): TaskRecord {
  return {
    id: r.id,
    type: r.type,
    queue: r.queue,
    payloadJson: r.payload,
    priority: r.priority,
    status: r.status,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    runAt: r.run_at,
    timeoutMs: r.timeout_ms,
    idempotencyKey: r.idempotency_key,
    resultJson: r.result,
    lastError: r.last_error,
    workerId: r.worker_id,
    traceparent: r.traceparent,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

interface DispatchRow {
  id: string;
  attempts: number;
  type: string;
  queue: string;
  payload: string;
  timeout_ms: number | null;
  max_attempts: number;
  traceparent: string | null;
}

function toDispatch(r: DispatchRow): DispatchItem {
  return {
    taskId: r.id,
    attempt: r.attempts,
    type: r.type,
    queue: r.queue,
    payloadJson: r.payload,
    timeoutMs: r.timeout_ms,
    maxAttempts: r.max_attempts,
    traceparent: r.traceparent,
  };
}

/** Inserts tasks in one statement; rows whose idempotency key is taken are skipped (not returned). */
export async function insertTasks(db: Queryable, specs: readonly TaskSpec[]): Promise<TaskRecord[]> {
  const res = await db.query<TaskRow>({
    ...sql("TaskInsertMany"),
    values: [
      specs.map((s) => s.id),
      specs.map((s) => s.type),
      specs.map((s) => s.queue),
      specs.map((s) => s.payloadJson),
      specs.map((s) => s.priority),
      specs.map((s) => s.maxAttempts),
      specs.map((s) => s.runAt),
      specs.map((s) => s.delayMs),
      specs.map((s) => s.timeoutMs),
      specs.map((s) => s.idempotencyKey),
      specs.map((s) => s.traceparent),
    ],
  });
  return res.rows.map(toTask);
}

export async function getTasksByIdempotencyKeys(db: Queryable, keys: readonly string[]): Promise<TaskRecord[]> {
  if (keys.length === 0) return [];
  const res = await db.query<TaskRow>({ ...sql("TaskGetByIdempotencyKeys"), values: [keys] });
  return res.rows.map(toTask);
}

export async function getTasks(db: Queryable, ids: readonly string[]): Promise<TaskRecord[]> {
  if (ids.length === 0) return [];
  const res = await db.query<TaskRow>({ ...sql("TaskGetMany"), values: [ids] });
  return res.rows.map(toTask);
}

export async function getTask(db: Queryable, id: string): Promise<TaskRecord | undefined> {
  return (await getTasks(db, [id]))[0];
}

export interface TaskListFilter {
  status: TaskStatus | null;
  type: string | null;
  queue: string | null;
  /** Last id of the previous page. */
  afterId: string | null;
  limit: number;
}

export async function listTasks(db: Queryable, f: TaskListFilter): Promise<TaskRecord[]> {
  const res = await db.query<TaskRow>({
    ...sql("TaskList"),
    values: [f.status, f.type, f.queue, f.afterId, f.limit],
  });
  return res.rows.map(toTask);
}

export interface ClaimInput {
  taskId: string;
  attempt: number;
  workerId: string;
}

export interface GrantedClaim {
  taskId: string;
  attempt: number;
  workerId: string;
  type: string;
}

/** Grants the claims that name a QUEUED task's current attempt; the rest are rejected. */
export async function claimTasks(db: Queryable, claims: readonly ClaimInput[]): Promise<GrantedClaim[]> {
  if (claims.length === 0) return [];
  const res = await db.query<{ id: string; attempts: number; worker_id: string; type: string }>({
    ...sql("TaskClaimMany"),
    values: [claims.map((c) => c.taskId), claims.map((c) => c.attempt), claims.map((c) => c.workerId)],
  });
  return res.rows.map((r) => ({ taskId: r.id, attempt: r.attempts, workerId: r.worker_id, type: r.type }));
}

export interface RecordedOutcome {
  taskId: string;
  type: string;
  status: TaskStatus;
  attempts: number;
}

export interface BackoffParams {
  baseMs: number;
  maxMs: number;
}

/**
 * Applies a batch of attempt reports: successes and failures, each in one statement, both in one
 * transaction. Reports for stale attempts change nothing and are not returned.
 */
export async function recordOutcomes(
  pool: pg.Pool,
  reports: readonly AttemptReport[],
  backoff: BackoffParams,
): Promise<RecordedOutcome[]> {
  const ok = reports.filter((r) => r.outcome.kind === "success");
  const failed = reports.filter((r) => r.outcome.kind === "failure");
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const out: RecordedOutcome[] = [];
    if (ok.length > 0) {
      const res = await client.query<{ id: string; type: string }>({
        ...sql("TaskCompleteMany"),
        values: [
          ok.map((r) => r.taskId),
          ok.map((r) => r.attempt),
          ok.map((r) => r.workerId),
          ok.map((r) => (r.outcome.kind === "success" ? r.outcome.resultJson : "null")),
        ],
      });
      const attemptOf = new Map(ok.map((r) => [r.taskId, r.attempt]));
      for (const row of res.rows) out.push({ taskId: row.id, type: row.type, status: "succeeded", attempts: attemptOf.get(row.id) ?? 0 });
    }
    if (failed.length > 0) {
      const res = await client.query<{ id: string; type: string; status: TaskStatus; attempts: number }>({
        ...sql("TaskFailMany"),
        values: [
          failed.map((r) => r.taskId),
          failed.map((r) => r.attempt),
          failed.map((r) => r.workerId),
          failed.map((r) => (r.outcome.kind === "failure" ? r.outcome.message : "")),
          failed.map((r) => r.outcome.kind === "failure" && r.outcome.nonRetryable),
          backoff.baseMs,
          backoff.maxMs,
        ],
      });
      for (const row of res.rows) out.push({ taskId: row.id, type: row.type, status: row.status, attempts: row.attempts });
    }
    await client.query("COMMIT");
    return out;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export async function cancelTask(
  db: Queryable,
  id: string,
  reason: string,
): Promise<{ task: TaskRecord; previousStatus: TaskStatus } | undefined> {
  const res = await db.query<TaskRow & { prev_status: TaskStatus }>({ ...sql("TaskCancel"), values: [id, reason] });
  const row = res.rows[0];
  return row ? { task: toTask(row), previousStatus: row.prev_status } : undefined;
}

export async function retryTask(db: Queryable, id: string): Promise<TaskRecord | undefined> {
  const res = await db.query<TaskRow>({ ...sql("TaskRetry"), values: [id] });
  const row = res.rows[0];
  return row ? toTask(row) : undefined;
}

/** A leader's term; every leader-only statement checks it in SQL (invariant 5). */
export interface LeaderTerm {
  leaderId: string;
  epoch: number;
}

export async function promoteDueTasks(db: Queryable, term: LeaderTerm, limit: number): Promise<DispatchItem[]> {
  const res = await db.query<DispatchRow>({ ...sql("TaskPromoteDue"), values: [term.leaderId, term.epoch, limit] });
  return res.rows.map(toDispatch);
}

/** Milliseconds until the next pending task is due (may be negative), or null when none waits. */
export async function nextDueInMs(db: Queryable): Promise<number | null> {
  const res = await db.query<{ ms: string | null }>(sql("TaskNextDueAt"));
  const ms = res.rows[0]?.ms;
  return ms === null || ms === undefined ? null : Number(ms);
}

export interface RescueParams {
  workerTimeoutMs: number;
  defaultTimeoutMs: number;
  graceMs: number;
  limit: number;
  /** Workers known to be gone (e.g. a previous run of this single instance): rescue their tasks at once. */
  suspectWorkerIds: readonly string[];
}

export interface RescuedTask {
  taskId: string;
  type: string;
  status: TaskStatus;
  attempts: number;
  reason: string;
}

export async function rescueOrphans(db: Queryable, term: LeaderTerm, p: RescueParams): Promise<RescuedTask[]> {
  const res = await db.query<{ id: string; type: string; status: TaskStatus; attempts: number; reason: string }>({
    ...sql("TaskRescueOrphans"),
    values: [term.leaderId, term.epoch, p.workerTimeoutMs, p.defaultTimeoutMs, p.graceMs, p.limit, p.suspectWorkerIds],
  });
  return res.rows.map((r) => ({ taskId: r.id, type: r.type, status: r.status, attempts: r.attempts, reason: r.reason }));
}

export async function redispatchStale(db: Queryable, term: LeaderTerm, dispatchTimeoutMs: number, limit: number): Promise<DispatchItem[]> {
  const res = await db.query<DispatchRow>({ ...sql("TaskRedispatchStale"), values: [term.leaderId, term.epoch, dispatchTimeoutMs, limit] });
  return res.rows.map(toDispatch);
}

export interface ActiveCount {
  type: string;
  pending: number;
  running: number;
}

export async function countActiveTasks(db: Queryable): Promise<ActiveCount[]> {
  const res = await db.query<ActiveCount>(sql("TaskCountActive"));
  return res.rows;
}

/** Deletes tasks by id; only for undoing inserts inside the inserting transaction. */
export async function deleteTasks(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await db.query({ ...sql("TaskDeleteMany"), values: [ids] });
}
