import type pg from "pg";
import type { LeaderTerm, Queryable } from "./task-store.js";
import { sql } from "./sql.js";

/** A schedule as stored. The task template's payload stays JSON text. */
export interface ScheduleRecord {
  id: string;
  cron: string | null;
  intervalMs: number | null;
  timeZone: string;
  taskType: string;
  taskQueue: string;
  taskPayloadJson: string;
  taskPriority: number;
  taskMaxAttempts: number;
  taskTimeoutMs: number | null;
  overlapPolicy: "allow" | "skip";
  catchupPolicy: "skip" | "run_once";
  paused: boolean;
  nextFireAt: Date;
  lastFireAt: Date | null;
  lastTaskId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface ScheduleRow {
  id: string;
  cron: string | null;
  interval_ms: string | null;
  timezone: string;
  task_type: string;
  task_queue: string;
  task_payload: string;
  task_priority: number;
  task_max_attempts: number;
  task_timeout_ms: number | null;
  overlap_policy: "allow" | "skip";
  catchup_policy: "skip" | "run_once";
  paused: boolean;
  next_fire_at: Date;
  last_fire_at: Date | null;
  last_task_id: string | null;
  created_at: Date;
  updated_at: Date;
}

function toSchedule(r: ScheduleRow): ScheduleRecord {
  return {
    id: r.id,
    cron: r.cron,
    intervalMs: r.interval_ms === null ? null : Number(r.interval_ms),
    timeZone: r.timezone,
    taskType: r.task_type,
    taskQueue: r.task_queue,
    taskPayloadJson: r.task_payload,
    taskPriority: r.task_priority,
    taskMaxAttempts: r.task_max_attempts,
    taskTimeoutMs: r.task_timeout_ms,
    overlapPolicy: r.overlap_policy,
    catchupPolicy: r.catchup_policy,
    paused: r.paused,
    nextFireAt: r.next_fire_at,
    lastFireAt: r.last_fire_at,
    lastTaskId: r.last_task_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export type ScheduleDefinition = Omit<ScheduleRecord, "lastFireAt" | "lastTaskId" | "createdAt" | "updatedAt">;

function values(d: ScheduleDefinition): unknown[] {
  return [d.id, d.cron, d.intervalMs, d.timeZone, d.taskType, d.taskQueue, d.taskPayloadJson, d.taskPriority, d.taskMaxAttempts, d.taskTimeoutMs, d.overlapPolicy, d.catchupPolicy, d.paused, d.nextFireAt];
}

/** Creates a schedule; undefined when the id is taken. */
export async function insertSchedule(db: Queryable, d: ScheduleDefinition): Promise<ScheduleRecord | undefined> {
  const row = (await db.query<ScheduleRow>({ ...sql("ScheduleInsert"), values: values(d) })).rows[0];
  return row ? toSchedule(row) : undefined;
}

export async function updateSchedule(db: Queryable, d: ScheduleDefinition): Promise<ScheduleRecord | undefined> {
  const row = (await db.query<ScheduleRow>({ ...sql("ScheduleUpdate"), values: values(d) })).rows[0];
  return row ? toSchedule(row) : undefined;
}

export async function getSchedules(db: Queryable, id: string | null): Promise<ScheduleRecord[]> {
  return (await db.query<ScheduleRow>({ ...sql("ScheduleGet"), values: [id] })).rows.map(toSchedule);
}

export async function deleteSchedule(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query({ ...sql("ScheduleDelete"), values: [id] })).rowCount ?? 0) > 0;
}

export async function setSchedulePaused(db: Queryable, id: string, paused: boolean, nextFireAt: Date | null): Promise<ScheduleRecord | undefined> {
  const row = (await db.query<ScheduleRow>({ ...sql("SchedulePause"), values: [id, paused, nextFireAt] })).rows[0];
  return row ? toSchedule(row) : undefined;
}

export interface DueSchedule extends ScheduleRecord {
  lastTaskStatus: string | null;
  dbNow: Date;
}

/** Due schedules, locked FOR UPDATE in the caller's transaction. */
export async function lockDueSchedules(client: pg.PoolClient, limit: number): Promise<DueSchedule[]> {
  const rows = (await client.query<ScheduleRow & { last_task_status: string | null; db_now: Date }>({ ...sql("ScheduleDue"), values: [limit] })).rows;
  return rows.map((r) => ({ ...toSchedule(r), lastTaskStatus: r.last_task_status, dbNow: r.db_now }));
}

/** Records a tick (fired or skipped) and the next one; false when the term or the tick is stale. */
export async function advanceSchedule(
  client: pg.PoolClient,
  term: LeaderTerm,
  a: { id: string; expected: Date; next: Date; firedAt: Date | null; taskId: string | null },
): Promise<boolean> {
  const res = await client.query({ ...sql("ScheduleAdvance"), values: [term.leaderId, term.epoch, a.id, a.expected, a.next, a.firedAt, a.taskId] });
  return (res.rowCount ?? 0) > 0;
}

/** Releases idempotency keys of finished tasks past the retention window. Leader only. */
export async function forgetIdempotencyKeys(db: Queryable, term: LeaderTerm, retentionMs: number, limit: number): Promise<number> {
  return (await db.query({ ...sql("TaskForgetIdempotencyKeys"), values: [term.leaderId, term.epoch, retentionMs, limit] })).rowCount ?? 0;
}

export async function nextScheduleInMs(db: Queryable): Promise<number | null> {
  const ms = (await db.query<{ ms: string | null }>(sql("ScheduleNextDue"))).rows[0]?.ms;
  return ms === null || ms === undefined ? null : Number(ms);
}
