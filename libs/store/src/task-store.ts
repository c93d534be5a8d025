import { TASK_STATUSES, type AttemptReport, type DispatchItem, type TaskRecord, type TaskSpec, type TaskStatus } from "@taskorch/domain";
import type pg from "pg";
import { inTransaction } from "./pool.js";
import { sql, sqlForStatuses } from "./sql.js";

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
  group_id: string | null;
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
    groupId: r.group_id,
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

/**
 * A queue's dispatch window: how many of its tasks may be queued or running at once, as a multiple
 * of its alive workers' capacity plus a constant (so workers never wait on a round trip for work).
 */
export interface AdmissionWindow {
  workerTimeoutMs: number;
  factor: number;
  extra: number;
}

/** Inserts tasks in one statement; rows whose idempotency key is taken are skipped (not returned). */
export async function insertTasks(db: Queryable, specs: readonly TaskSpec[], window: AdmissionWindow): Promise<TaskRecord[]> {
  const res = await db.query<{ id: string; status: TaskStatus; attempts: number; run_at_ms: number; created_at_ms: number }>({
    ...sql("TaskInsertMany"),
    values: [
      JSON.stringify(
        specs.map((s) => ({
          id: s.id,
          type: s.type,
          queue: s.queue,
          payload: s.payloadJson,
          priority: s.priority,
          max_attempts: s.maxAttempts,
          run_at: s.runAt,
          delay_ms: s.delayMs,
          timeout_ms: s.timeoutMs,
          idempotency_key: s.idempotencyKey,
          traceparent: s.traceparent,
          group_id: s.groupId,
        })),
      ),
      window.workerTimeoutMs,
      window.factor,
      window.extra,
    ],
  });
  const byId = new Map(specs.map((s) => [s.id, s]));
  return res.rows.map((r) => {
    const s = byId.get(r.id)!;
    const createdAt = new Date(r.created_at_ms);
    return {
      id: r.id,
      type: s.type,
      queue: s.queue,
      payloadJson: s.payloadJson,
      priority: s.priority,
      status: r.status,
      attempts: r.attempts,
      maxAttempts: s.maxAttempts,
      runAt: new Date(r.run_at_ms),
      timeoutMs: s.timeoutMs,
      idempotencyKey: s.idempotencyKey,
      resultJson: null,
      lastError: null,
      workerId: null,
      traceparent: s.traceparent,
      createdAt,
      updatedAt: createdAt,
      startedAt: null,
      finishedAt: null,
      groupId: s.groupId,
    };
  });
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
  pageSize: number;
  /**
   * A page also ends before its tasks' payloads, results and errors pass this many bytes (it holds
   * at least one task). Unset: no limit.
   */
  maxBytes?: number;
}

export interface TaskPage {
  tasks: TaskRecord[];
  /** Whether tasks follow this page. */
  more: boolean;
}

/** One page of tasks, newest first (keyset on id). */
export async function listTasks(db: Queryable, f: TaskListFilter): Promise<TaskPage> {
  const res = await db.query<TaskRow & { bytes_through: number }>({
    ...sqlForStatuses("TaskList", f.status === null ? TASK_STATUSES : [f.status]),
    values: [f.type, f.queue, f.afterId, f.pageSize + 1, f.maxBytes ?? null],
  });
  const tasks: TaskRecord[] = [];
  for (const row of res.rows) {
    if (tasks.length === f.pageSize) break;
    if (tasks.length > 0 && f.maxBytes !== undefined && row.bytes_through > f.maxBytes) break;
    tasks.push(toTask(row));
  }
  return { tasks, more: res.rows.length > tasks.length };
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
 * Applies a batch of attempt reports, successes and failures, in one autocommitted statement.
 * Reports for stale attempts change nothing and are not returned.
 */
export async function recordOutcomes(db: Queryable, reports: readonly AttemptReport[], backoff: BackoffParams): Promise<RecordedOutcome[]> {
  if (reports.length === 0) return [];
  const res = await db.query<{ id: string; type: string; status: TaskStatus; attempts: number }>({
    ...sql("TaskRecordOutcomes"),
    values: [
      reports.map((r) => r.taskId),
      reports.map((r) => r.attempt),
      reports.map((r) => r.workerId),
      reports.map((r) => r.outcome.kind === "success"),
      reports.map((r) => (r.outcome.kind === "success" ? r.outcome.resultJson : null)),
      reports.map((r) => (r.outcome.kind === "failure" ? r.outcome.message : null)),
      reports.map((r) => r.outcome.kind === "failure" && r.outcome.nonRetryable),
      backoff.baseMs,
      backoff.maxMs,
    ],
  });
  return res.rows.map((row) => ({ taskId: row.id, type: row.type, status: row.status, attempts: row.attempts }));
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

/**
 * One admission round (leader only): picks ready PENDING tasks each queue has room for (by
 * priority, with a tenth - and one on an age turn - taken oldest first), trims them to the types' rate-limit tokens, moves
 * them to QUEUED as their next attempt and spends the tokens, in one transaction.
 */
export async function admitTasks(
  pool: pg.Pool,
  term: LeaderTerm,
  window: AdmissionWindow,
  maxPerQueue: number,
  /** Reserve at least one slot per queue for the oldest ready task this round. */
  ageTurn = false,
): Promise<DispatchItem[]> {
  return inTransaction(pool, async (client) => {
    const candidates = await client.query<{ queue: string; credit: number; id: string; type: string; by_age: boolean }>({
      ...sql("TaskAdmitCandidates"),
      values: [window.workerTimeoutMs, window.factor, window.extra, maxPerQueue, ageTurn ? 1 : 0],
    });
    if (candidates.rows.length === 0) return [];
    const chosen = chooseAdmissions(candidates.rows);
    const types = [...new Set(chosen.map((c) => c.type))];
    const buckets = new Map(
      (await client.query<{ type: string; available: number }>({ ...sql("RateLimitTake"), values: [types] })).rows.map((r) => [r.type, Number(r.available)]),
    );
    const spent = new Map<string, number>();
    const admitted = chosen.filter((c) => {
      const available = buckets.get(c.type);
      if (available === undefined) return true;
      const used = spent.get(c.type) ?? 0;
      if (available - used < 1) return false;
      spent.set(c.type, used + 1);
      return true;
    });
    const res = await client.query<DispatchRow>({ ...sql("TaskAdmit"), values: [term.leaderId, term.epoch, admitted.map((c) => c.id)] });
    if (spent.size > 0 && res.rows.length > 0) {
      const admittedIds = new Set(res.rows.map((r) => r.id));
      const usedByType = new Map<string, number>();
      for (const c of admitted) if (admittedIds.has(c.id)) usedByType.set(c.type, (usedByType.get(c.type) ?? 0) + 1);
      const spendTypes = [...usedByType.keys()];
      await client.query({ ...sql("RateLimitSpend"), values: [spendTypes, spendTypes.map((t) => buckets.get(t)! - usedByType.get(t)!)] });
    }
    return res.rows.map(toDispatch);
  });
}

/** Per queue: the oldest-first share first, then by priority, no duplicates, up to the credit. */
export function chooseAdmissions<T extends { queue: string; credit: number; id: string; by_age: boolean }>(rows: T[]): T[] {
  const byQueue = new Map<string, T[]>();
  for (const r of rows) {
    const list = byQueue.get(r.queue);
    if (list) list.push(r);
    else byQueue.set(r.queue, [r]);
  }
  const out: T[] = [];
  for (const list of byQueue.values()) {
    const credit = list[0]!.credit;
    const seen = new Set<string>();
    for (const r of [...list.filter((x) => x.by_age), ...list.filter((x) => !x.by_age)]) {
      if (seen.size >= credit) break;
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      out.push(r);
    }
  }
  return out;
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
  /**
   * Whether a worker silent for workerTimeoutMs (or unknown) counts as dead, and an attempt past its
   * timeout (+ graceMs) as lost. Pass false while heartbeats and reports may not have been recorded
   * (see the coordinator's HeartbeatSight): a finished attempt's report may then still be waiting in
   * JetStream, so only suspects are rescued.
   */
  judgeSilence: boolean;
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
    values: [term.leaderId, term.epoch, p.workerTimeoutMs, p.defaultTimeoutMs, p.graceMs, p.limit, p.suspectWorkerIds, p.judgeSilence],
  });
  return res.rows.map((r) => ({ taskId: r.id, type: r.type, status: r.status, attempts: r.attempts, reason: r.reason }));
}

export async function redispatchStale(db: Queryable, term: LeaderTerm, dispatchTimeoutMs: number, limit: number): Promise<DispatchItem[]> {
  const res = await db.query<DispatchRow>({ ...sql("TaskRedispatchStale"), values: [term.leaderId, term.epoch, dispatchTimeoutMs, limit] });
  return res.rows.map(toDispatch);
}

export interface RateLimit {
  type: string;
  limit: number;
  periodMs: number;
}

export interface QueueLimit {
  queue: string;
  maxConcurrency: number;
}

export async function setRateLimit(db: Queryable, l: RateLimit): Promise<void> {
  await db.query({ ...sql("RateLimitSet"), values: [l.type, l.limit, l.periodMs] });
}

export async function deleteRateLimit(db: Queryable, type: string): Promise<boolean> {
  return ((await db.query({ ...sql("RateLimitDelete"), values: [type] })).rowCount ?? 0) > 0;
}

export async function setQueueLimit(db: Queryable, l: QueueLimit): Promise<void> {
  await db.query({ ...sql("QueueLimitSet"), values: [l.queue, l.maxConcurrency] });
}

export async function deleteQueueLimit(db: Queryable, queue: string): Promise<boolean> {
  return ((await db.query({ ...sql("QueueLimitDelete"), values: [queue] })).rowCount ?? 0) > 0;
}

export async function listLimits(db: Queryable): Promise<{ rate: RateLimit[]; queue: QueueLimit[] }> {
  const rows = (await db.query<{ kind: string; name: string; limit_count: number | null; period_ms: string | null; max_concurrency: number | null }>(sql("LimitList"))).rows;
  return {
    rate: rows.filter((r) => r.kind === "rate").map((r) => ({ type: r.name, limit: r.limit_count!, periodMs: Number(r.period_ms) })),
    queue: rows.filter((r) => r.kind === "queue").map((r) => ({ queue: r.name, maxConcurrency: r.max_concurrency! })),
  };
}

export interface GroupCounts {
  total: number;
  byStatus: Partial<Record<TaskStatus, number>>;
}

export async function countGroup(db: Queryable, groupId: string): Promise<GroupCounts> {
  const rows = (await db.query<{ status: TaskStatus; n: number }>({ ...sql("TaskGroupCount"), values: [groupId] })).rows;
  return { total: rows.reduce((a, r) => a + r.n, 0), byStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])) };
}

export async function listGroupTasks(db: Queryable, groupId: string, afterId: string | null, limit: number): Promise<TaskRecord[]> {
  const res = await db.query<TaskRow>({ ...sql("TaskGroupList"), values: [groupId, afterId, limit] });
  return res.rows.map(toTask);
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
