/** Lifecycle statuses as stored in Postgres (lower-case, as in the seed's SQL runbook). */
export const TASK_STATUSES = ["pending", "queued", "running", "succeeded", "dead_letter", "canceled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Statuses a task never leaves on its own (RetryTask may still revive dead_letter/canceled). */
export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(["succeeded", "dead_letter", "canceled"]);

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** A task as the store returns it. JSON fields stay JSON text so they pass through untouched. */
export interface TaskRecord {
  id: string;
  type: string;
  queue: string;
  payloadJson: string;
  priority: number;
  status: TaskStatus;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  timeoutMs: number | null;
  idempotencyKey: string | null;
  resultJson: string | null;
  lastError: string | null;
  workerId: string | null;
  traceparent: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Set on tasks enqueued together by EnqueueTasks. */
  groupId: string | null;
}

/** What a client asks for, after validation and defaults. */
export interface TaskSpec {
  id: string;
  type: string;
  queue: string;
  payloadJson: string;
  priority: number;
  maxAttempts: number;
  /** Absolute due time, or null for "now" (judged by the database clock). */
  runAt: Date | null;
  /** Relative delay in ms, resolved against the database clock. */
  delayMs: number;
  timeoutMs: number | null;
  idempotencyKey: string | null;
  traceparent: string | null;
  groupId: string | null;
}

/** One attempt ready to be published to its queue. */
export interface DispatchItem {
  taskId: string;
  attempt: number;
  type: string;
  queue: string;
  payloadJson: string;
  timeoutMs: number | null;
  maxAttempts: number;
  traceparent: string | null;
}

/** The current attempt of a QUEUED task, as it is published to its queue. */
export function toDispatchItem(t: TaskRecord): DispatchItem {
  return {
    taskId: t.id,
    attempt: t.attempts,
    type: t.type,
    queue: t.queue,
    payloadJson: t.payloadJson,
    timeoutMs: t.timeoutMs,
    maxAttempts: t.maxAttempts,
    traceparent: t.traceparent,
  };
}

/** The outcome of one attempt as a worker reports it. */
export type AttemptOutcome =
  | { kind: "success"; resultJson: string }
  | { kind: "failure"; message: string; nonRetryable: boolean };

export interface AttemptReport {
  taskId: string;
  attempt: number;
  workerId: string;
  type: string;
  durationMs: number;
  /** Trace context of the attempt's span, if traced. */
  traceparent: string | null;
  outcome: AttemptOutcome;
}
