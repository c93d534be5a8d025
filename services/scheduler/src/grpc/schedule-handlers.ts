import {
  AlreadyExistsError,
  checkCron,
  checkTimeZone,
  InvalidArgumentError,
  nextTick,
  NotFoundError,
  TASK_TYPE,
  type TaskSpec,
  type Timing,
} from "@taskorch/domain";
import {
  CatchupPolicy,
  OverlapPolicy,
  type CreateScheduleRequest,
  type CreateScheduleResponse,
  type DeleteScheduleRequest,
  type DeleteScheduleResponse,
  type GetScheduleRequest,
  type GetScheduleResponse,
  type ListSchedulesRequest,
  type ListSchedulesResponse,
  type PauseScheduleRequest,
  type PauseScheduleResponse,
  type ResumeScheduleRequest,
  type ResumeScheduleResponse,
  type Schedule,
  type TriggerScheduleRequest,
  type TriggerScheduleResponse,
  type UpdateScheduleRequest,
  type UpdateScheduleResponse,
} from "@taskorch/proto";
import { unary } from "@taskorch/rpc";
import {
  deleteSchedule,
  getSchedules,
  insertSchedule,
  setSchedulePaused,
  updateSchedule,
  type Pool,
  type ScheduleDefinition,
  type ScheduleRecord,
} from "@taskorch/store";
import { traceparentOf, type Logger } from "@taskorch/telemetry";
import { toProtoTask } from "../convert.js";
import type { Enqueuer } from "../enqueue/enqueuer.js";
import { validateEnqueue, type TaskValidatorConfig } from "../enqueue/task-validator.js";

const MIN_INTERVAL_MS = 1000;

function timingOf(r: Pick<ScheduleRecord, "cron" | "intervalMs" | "timeZone">): Timing {
  return r.cron !== null ? { kind: "cron", cron: r.cron, timeZone: r.timeZone } : { kind: "interval", intervalMs: r.intervalMs! };
}

function toProto(r: ScheduleRecord): Schedule {
  return {
    id: r.id,
    cron: r.cron ?? "",
    interval: r.intervalMs === null ? undefined : { seconds: Math.floor(r.intervalMs / 1000), nanos: (r.intervalMs % 1000) * 1e6 },
    timeZone: r.timeZone,
    task: {
      type: r.taskType,
      queue: r.taskQueue,
      payload: JSON.parse(r.taskPayloadJson) as unknown,
      priority: r.taskPriority,
      maxAttempts: r.taskMaxAttempts,
      runAt: undefined,
      delay: undefined,
      timeout: r.taskTimeoutMs === null ? undefined : { seconds: Math.floor(r.taskTimeoutMs / 1000), nanos: (r.taskTimeoutMs % 1000) * 1e6 },
      idempotencyKey: "",
    },
    overlapPolicy: r.overlapPolicy === "skip" ? OverlapPolicy.OVERLAP_POLICY_SKIP : OverlapPolicy.OVERLAP_POLICY_ALLOW,
    catchupPolicy: r.catchupPolicy === "run_once" ? CatchupPolicy.CATCHUP_POLICY_RUN_ONCE : CatchupPolicy.CATCHUP_POLICY_SKIP,
    paused: r.paused,
    nextFireAt: r.nextFireAt,
    lastFireAt: r.lastFireAt ?? undefined,
    lastTaskId: r.lastTaskId ?? "",
  };
}

function requireScheduleId(field: string, id: string): string {
  if (!TASK_TYPE.test(id)) throw new InvalidArgumentError(field, `schedule id ${JSON.stringify(id.slice(0, 80))} is invalid: use 1-128 letters, digits, '.', '_', ':' or '-'`);
  return id;
}

/** Validates a Schedule message into a definition whose next tick follows `now`. */
export function validateSchedule(s: Schedule | undefined, validator: TaskValidatorConfig, now: Date): ScheduleDefinition {
  if (!s) throw new InvalidArgumentError("schedule", "is required");
  const id = requireScheduleId("schedule.id", s.id);
  const timeZone = checkTimeZone("schedule.time_zone", s.timeZone === "" ? "UTC" : s.timeZone);
  const hasCron = s.cron.trim() !== "";
  if (hasCron === (s.interval !== undefined)) throw new InvalidArgumentError("schedule.cron", "give either cron (e.g. \"0 2 * * *\") or interval (e.g. \"3600s\"), not both or neither");
  const cron = hasCron ? checkCron("schedule.cron", s.cron, timeZone) : null;
  const intervalMs = s.interval ? s.interval.seconds * 1000 + Math.round(s.interval.nanos / 1e6) : null;
  if (intervalMs !== null && intervalMs < MIN_INTERVAL_MS) throw new InvalidArgumentError("schedule.interval", `must be at least 1s, got ${intervalMs}ms`);
  if (!s.task) throw new InvalidArgumentError("schedule.task", "is required: the task each tick enqueues, e.g. {\"type\":\"reports.nightly\"}");
  if (s.task.idempotencyKey !== "" || s.task.runAt !== undefined || s.task.delay !== undefined) {
    throw new InvalidArgumentError("schedule.task", "idempotency_key, run_at and delay are set by the schedule; leave them empty");
  }
  const spec = validateEnqueue(s.task, validator, "schedule.task.");
  const timing: Timing = cron !== null ? { kind: "cron", cron, timeZone } : { kind: "interval", intervalMs: intervalMs! };
  return {
    id,
    cron,
    intervalMs,
    timeZone,
    taskType: spec.type,
    taskQueue: spec.queue,
    taskPayloadJson: spec.payloadJson,
    taskPriority: spec.priority,
    taskMaxAttempts: spec.maxAttempts,
    taskTimeoutMs: spec.timeoutMs,
    overlapPolicy: s.overlapPolicy === OverlapPolicy.OVERLAP_POLICY_SKIP ? "skip" : "allow",
    catchupPolicy: s.catchupPolicy === CatchupPolicy.CATCHUP_POLICY_RUN_ONCE ? "run_once" : "skip",
    paused: s.paused,
    nextFireAt: nextTick(timing, now, now),
  };
}

async function dbNow(pool: Pool): Promise<Date> {
  return (await pool.query<{ now: Date }>("SELECT now() AS now")).rows[0]!.now;
}

async function mustGet(pool: Pool, id: string): Promise<ScheduleRecord> {
  const [s] = await getSchedules(pool, requireScheduleId("id", id));
  if (!s) throw new NotFoundError(`schedule ${id} not found`);
  return s;
}

/** Schedule CRUD, pause/resume and trigger; the coordinator leader fires the ticks. */
export function scheduleHandlers(pool: Pool, enqueuer: Enqueuer, validator: TaskValidatorConfig, logger: Logger) {
  return {
    createSchedule: unary<CreateScheduleRequest, CreateScheduleResponse>(logger, async (req) => {
      const def = validateSchedule(req.schedule, validator, await dbNow(pool));
      const created = await insertSchedule(pool, def);
      if (!created) throw new AlreadyExistsError(`schedule ${def.id} already exists; use UpdateSchedule to change it`);
      logger.info({ schedule: def.id, next_fire_at: created.nextFireAt }, "Schedules: created");
      return { schedule: toProto(created) };
    }),
    getSchedule: unary<GetScheduleRequest, GetScheduleResponse>(logger, async (req) => ({ schedule: toProto(await mustGet(pool, req.id)) })),
    listSchedules: unary<ListSchedulesRequest, ListSchedulesResponse>(logger, async () => ({ schedules: (await getSchedules(pool, null)).map(toProto) })),
    updateSchedule: unary<UpdateScheduleRequest, UpdateScheduleResponse>(logger, async (req) => {
      const def = validateSchedule(req.schedule, validator, await dbNow(pool));
      const updated = await updateSchedule(pool, def);
      if (!updated) throw new NotFoundError(`schedule ${def.id} not found; use CreateSchedule`);
      return { schedule: toProto(updated) };
    }),
    deleteSchedule: unary<DeleteScheduleRequest, DeleteScheduleResponse>(logger, async (req) => {
      if (!(await deleteSchedule(pool, requireScheduleId("id", req.id)))) throw new NotFoundError(`schedule ${req.id} not found`);
      return {};
    }),
    pauseSchedule: unary<PauseScheduleRequest, PauseScheduleResponse>(logger, async (req) => {
      await mustGet(pool, req.id);
      return { schedule: toProto((await setSchedulePaused(pool, req.id, true, null))!) };
    }),
    resumeSchedule: unary<ResumeScheduleRequest, ResumeScheduleResponse>(logger, async (req) => {
      const s = await mustGet(pool, req.id);
      const next = nextTick(timingOf(s), await dbNow(pool), s.createdAt);
      return { schedule: toProto((await setSchedulePaused(pool, req.id, false, next))!) };
    }),
    triggerSchedule: unary<TriggerScheduleRequest, TriggerScheduleResponse>(logger, async (req) => {
      const s = await mustGet(pool, req.id);
      const spec: TaskSpec = {
        ...validateEnqueue(
          { type: s.taskType, queue: s.taskQueue, payload: JSON.parse(s.taskPayloadJson) as unknown, priority: s.taskPriority, maxAttempts: s.taskMaxAttempts, runAt: undefined, delay: undefined, timeout: undefined, idempotencyKey: "" },
          validator,
        ),
        timeoutMs: s.taskTimeoutMs,
        traceparent: traceparentOf(),
      };
      const [result] = await enqueuer.enqueue([spec]);
      return { task: toProtoTask(result!.task) };
    }),
  };
}
