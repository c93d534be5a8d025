import type { Logger } from "@taskorch/telemetry";

/** What a handler gets for one attempt. */
export interface TaskContext<P = unknown> {
  taskId: string;
  /** Attempt number, from 1. With taskId, the key for idempotent side effects (invariant 4). */
  attempt: number;
  maxAttempts: number;
  type: string;
  queue: string;
  payload: P;
  /** Fires when the attempt times out, is canceled, or the worker shuts down. */
  signal: AbortSignal;
  logger: Logger;
}

/** A task handler: resolve with a JSON-serialisable result, or throw to fail the attempt. */
export type TaskHandlerFunc<P = unknown, R = unknown> = (ctx: TaskContext<P>) => Promise<R> | R;

/** Throw this from a handler when retrying cannot help: the task goes to DEAD_LETTER at once. */
export class NonRetryableError extends Error {
  override name = "NonRetryableError";
}
