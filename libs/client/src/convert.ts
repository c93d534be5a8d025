/**
 * Proto <-> client types. Proto types stop here: callers see friendly status strings, durations in
 * milliseconds, Dates, and `undefined` instead of proto3's empty-string defaults.
 */
import { status } from "@grpc/grpc-js";
import { TASK_STATUSES, type TaskStatus } from "@taskorch/domain";
import {
  TaskStatus as ProtoTaskStatus,
  type Duration,
  type GetLeaderResponse,
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
  });
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
