/**
 * Proto <-> client types. Proto types stop here: callers see friendly status strings, durations in
 * milliseconds, Dates, and `undefined` instead of proto3's empty-string defaults.
 */
import { status } from "@grpc/grpc-js";
import { TASK_STATUSES, type TaskStatus } from "@taskorch/domain";
import {
  CatchupPolicy as ProtoCatchupPolicy,
  OverlapPolicy as ProtoOverlapPolicy,
  TaskStatus as ProtoTaskStatus,
  type Duration,
  type GetLeaderResponse,
  type Group as ProtoGroup,
  type ListLimitsResponse,
  type Schedule as ProtoSchedule,
  type Task as ProtoTask,
  type Worker as ProtoWorker,
} from "@taskorch/proto";
import { TaskorchClientError } from "./errors.js";

export type { TaskStatus };

/** A task as the client returns it. */
export interface Task {
  /** Server-assigned id (UUIDv7). */
  id: string;
  type: string;
  queue: string;
  /** The JSON payload given at enqueue time. */
  payload: unknown;
  priority: number;
  status: TaskStatus;
  /** Number of the current (or last) attempt; 0 before the first dispatch. */
  attempts: number;
  maxAttempts: number;
  /** Earliest time the next attempt may start. */
  runAt?: Date;
  /** Per-attempt execution limit; undefined means the worker default. */
  timeoutMs?: number;
  idempotencyKey?: string;
  /** What the handler returned (succeeded tasks only). */
  result?: unknown;
  /** Error of the last failed attempt. */
  lastError?: string;
  /** Worker that claimed the current (or last) attempt. */
  workerId?: string;
  createdAt?: Date;
  updatedAt?: Date;
  startedAt?: Date;
  finishedAt?: Date;
  traceId?: string;
  /** Group of the enqueueMany batch the task belongs to (absent for single tasks). */
  groupId?: string;
}

/** Progress of an enqueueMany batch (Celery's group): task counts by status. */
export interface Group {
  id: string;
  /** Tasks in the group. */
  total: number;
  /** Pending or queued. */
  waiting: number;
  running: number;
  succeeded: number;
  deadLetter: number;
  canceled: number;
  /** True when every task is terminal (succeeded, dead_letter or canceled). */
  done: boolean;
}

/** A cluster-wide rate limit of a task type, in Celery's notation ("10/s", "10/m", "100/h", "5/30s"). */
export interface RateLimit {
  type: string;
  rate: string;
}

/** A cluster-wide concurrency limit of a queue (0 pauses the queue). */
export interface QueueLimit {
  queue: string;
  maxConcurrency: number;
}

/** Every limit in force. */
export interface Limits {
  rateLimits: RateLimit[];
  queueLimits: QueueLimit[];
}

/** What a tick does while the previous tick's task is unfinished: enqueue anyway, or skip the tick. */
export type OverlapPolicy = "allow" | "skip";
/** What happens to ticks missed (beyond the 60s misfire grace) while the cluster was down. */
export type CatchupPolicy = "skip" | "run_once";

/** The task each tick of a schedule enqueues. */
export interface ScheduleTask {
  type: string;
  payload?: unknown;
  /** Queue (default "default"). */
  queue?: string;
  /** -100 to 100 (default 0). */
  priority?: number;
  /** 1 to 100 (default 3). */
  maxAttempts?: number;
  /** Per-attempt execution limit. */
  timeoutMs?: number;
}

/** What createSchedule and updateSchedule take: give exactly one of `cron` and `intervalMs`. */
export interface ScheduleDefinition {
  /** Letters, digits, . _ : - (1 to 128), e.g. "nightly-metadata". */
  id: string;
  /** 5 fields, or 6 with seconds first, e.g. "0 2 * * *". */
  cron?: string;
  /** Fixed interval in ms (at least 1000). */
  intervalMs?: number;
  /** IANA zone of the cron expression (default "UTC"; DST handled). */
  timeZone?: string;
  task: ScheduleTask;
  /** Default "allow". */
  overlapPolicy?: OverlapPolicy;
  /** Default "skip". */
  catchupPolicy?: CatchupPolicy;
  /** Create (or keep) the schedule paused. */
  paused?: boolean;
}

/** A stored schedule. */
export interface Schedule {
  id: string;
  cron?: string;
  intervalMs?: number;
  timeZone: string;
  task: Required<Pick<ScheduleTask, "type" | "queue" | "priority" | "maxAttempts">> & Pick<ScheduleTask, "timeoutMs"> & { payload: unknown };
  overlapPolicy: OverlapPolicy;
  catchupPolicy: CatchupPolicy;
  paused: boolean;
  /** Next tick (absent while paused, when the server leaves it out). */
  nextFireAt?: Date;
  lastFireAt?: Date;
  /** Task of the last tick. */
  lastTaskId?: string;
}

/** The coordinator's leader lease. */
export interface Leader {
  /** Coordinator holding the lease; undefined when nobody does. */
  leaderId?: string;
  /** Term number; grows by one with every change of leader. */
  epoch: number;
  expiresAt?: Date;
  acquiredAt?: Date;
  /** True when the lease is held and not expired. */
  held: boolean;
}

/** A worker process as of its last heartbeat. */
export interface WorkerInfo {
  id: string;
  hostname: string;
  queues: string[];
  capacity: number;
  active: number;
  lastHeartbeat?: Date;
  startedAt?: Date;
  alive: boolean;
  version: string;
}

const TO_PROTO: Record<TaskStatus, ProtoTaskStatus> = {
  pending: ProtoTaskStatus.TASK_STATUS_PENDING,
  queued: ProtoTaskStatus.TASK_STATUS_QUEUED,
  running: ProtoTaskStatus.TASK_STATUS_RUNNING,
  succeeded: ProtoTaskStatus.TASK_STATUS_SUCCEEDED,
  dead_letter: ProtoTaskStatus.TASK_STATUS_DEAD_LETTER,
  canceled: ProtoTaskStatus.TASK_STATUS_CANCELED,
};
const FROM_PROTO = new Map<ProtoTaskStatus, TaskStatus>(TASK_STATUSES.map((s) => [TO_PROTO[s], s]));

/** True when `value` is one of the friendly status strings. */
export function isTaskStatus(value: string): value is TaskStatus {
  return (TASK_STATUSES as readonly string[]).includes(value);
}

export function statusToProto(s: TaskStatus): ProtoTaskStatus {
  return TO_PROTO[s];
}

/** Friendly status of a proto enum value; a value this client does not know is an error, not a guess. */
export function statusFromProto(s: ProtoTaskStatus): TaskStatus {
  const friendly = FROM_PROTO.get(s);
  if (friendly === undefined) {
    throw new TaskorchClientError(status.UNKNOWN, `the server sent task status ${s}, which this client does not know; upgrade @taskorch/client`);
  }
  return friendly;
}

export function durationToMs(d: Duration | undefined): number | undefined {
  return d === undefined ? undefined : d.seconds * 1000 + Math.round(d.nanos / 1e6);
}

export function msToDuration(ms: number): Duration {
  const whole = Math.trunc(ms);
  return { seconds: Math.trunc(whole / 1000), nanos: (whole % 1000) * 1_000_000 };
}

const orUndefined = (s: string): string | undefined => (s === "" ? undefined : s);

export function taskFromProto(t: ProtoTask): Task {
  return dropUndefined({
    id: t.id,
    type: t.type,
    queue: t.queue,
    payload: t.payload ?? null,
    priority: t.priority,
    status: statusFromProto(t.status),
    attempts: t.attempts,
    maxAttempts: t.maxAttempts,
    runAt: t.runAt,
    timeoutMs: durationToMs(t.timeout),
    idempotencyKey: orUndefined(t.idempotencyKey),
    result: t.result,
    lastError: orUndefined(t.lastError),
    workerId: orUndefined(t.workerId),
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
    traceId: orUndefined(t.traceId),
    groupId: orUndefined(t.groupId ?? ""),
  });
}

export function groupFromProto(g: ProtoGroup | undefined, rpc: string): Group {
  if (!g) throw new Error(`${rpc} answered without a group`);
  return { id: g.id, total: g.total, waiting: g.waiting, running: g.running, succeeded: g.succeeded, deadLetter: g.deadLetter, canceled: g.canceled, done: g.done };
}

export function limitsFromProto(l: ListLimitsResponse): Limits {
  return {
    rateLimits: l.rateLimits.map((r) => ({ type: r.type, rate: r.rate })),
    queueLimits: l.queueLimits.map((q) => ({ queue: q.queue, maxConcurrency: q.maxConcurrency })),
  };
}

export function scheduleFromProto(s: ProtoSchedule | undefined, rpc: string): Schedule {
  if (!s) throw new Error(`${rpc} answered without a schedule`);
  const t = s.task;
  return dropUndefined({
    id: s.id,
    cron: orUndefined(s.cron),
    intervalMs: durationToMs(s.interval),
    timeZone: s.timeZone || "UTC",
    task: dropUndefined({
      type: t?.type ?? "",
      queue: t?.queue || "default",
      payload: t?.payload ?? null,
      priority: t?.priority ?? 0,
      maxAttempts: t?.maxAttempts ?? 3,
      timeoutMs: durationToMs(t?.timeout),
    }),
    overlapPolicy: s.overlapPolicy === ProtoOverlapPolicy.OVERLAP_POLICY_SKIP ? "skip" : "allow",
    catchupPolicy: s.catchupPolicy === ProtoCatchupPolicy.CATCHUP_POLICY_RUN_ONCE ? "run_once" : "skip",
    paused: s.paused,
    nextFireAt: s.nextFireAt,
    lastFireAt: s.lastFireAt,
    lastTaskId: orUndefined(s.lastTaskId),
  } satisfies Schedule);
}

const OVERLAP_TO_PROTO: Record<OverlapPolicy, ProtoOverlapPolicy> = { allow: ProtoOverlapPolicy.OVERLAP_POLICY_ALLOW, skip: ProtoOverlapPolicy.OVERLAP_POLICY_SKIP };
const CATCHUP_TO_PROTO: Record<CatchupPolicy, ProtoCatchupPolicy> = { skip: ProtoCatchupPolicy.CATCHUP_POLICY_SKIP, run_once: ProtoCatchupPolicy.CATCHUP_POLICY_RUN_ONCE };

/** A definition as the proto Schedule (output-only fields empty); bad policy strings are a TypeError. */
export function scheduleToProto(d: ScheduleDefinition): ProtoSchedule {
  const overlap = d.overlapPolicy ?? "allow";
  const catchup = d.catchupPolicy ?? "skip";
  if (!Object.hasOwn(OVERLAP_TO_PROTO, overlap)) throw new TypeError(`overlapPolicy must be "allow" or "skip", got ${JSON.stringify(overlap)}`);
  if (!Object.hasOwn(CATCHUP_TO_PROTO, catchup)) throw new TypeError(`catchupPolicy must be "skip" or "run_once", got ${JSON.stringify(catchup)}`);
  const t = d.task;
  return {
    id: d.id,
    cron: d.cron ?? "",
    interval: d.intervalMs === undefined ? undefined : msToDuration(d.intervalMs),
    timeZone: d.timeZone ?? "",
    task: {
      type: t.type,
      queue: t.queue ?? "",
      payload: t.payload === undefined ? null : t.payload,
      priority: t.priority ?? 0,
      maxAttempts: t.maxAttempts,
      runAt: undefined,
      delay: undefined,
      timeout: t.timeoutMs === undefined ? undefined : msToDuration(t.timeoutMs),
      idempotencyKey: "",
    },
    overlapPolicy: OVERLAP_TO_PROTO[overlap],
    catchupPolicy: CATCHUP_TO_PROTO[catchup],
    paused: d.paused ?? false,
    nextFireAt: undefined,
    lastFireAt: undefined,
    lastTaskId: "",
  };
}

export function leaderFromProto(l: GetLeaderResponse): Leader {
  return dropUndefined({ leaderId: orUndefined(l.leaderId), epoch: l.epoch, expiresAt: l.expiresAt, acquiredAt: l.acquiredAt, held: l.held });
}

export function workerFromProto(w: ProtoWorker): WorkerInfo {
  return dropUndefined({
    id: w.id,
    hostname: w.hostname,
    queues: [...w.queues],
    capacity: w.capacity,
    active: w.active,
    lastHeartbeat: w.lastHeartbeat,
    startedAt: w.startedAt,
    alive: w.alive,
    version: w.version,
  });
}

/** Leaves optional fields out instead of present-and-undefined, so JSON and toEqual stay clean. */
function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
