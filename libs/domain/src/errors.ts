/**
 * Error classes the whole system throws. Handlers throw these; libs/rpc maps each to one gRPC
 * status (see STYLE.md "Error model"). Messages are written for the person who gets them.
 */

/** Base class: every taskorch error has a stable `name` and an optional `cause`. */
export class TaskorchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request itself is wrong; `field` names what to fix. Maps to INVALID_ARGUMENT. */
export class InvalidArgumentError extends TaskorchError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The named thing does not exist. Maps to NOT_FOUND. */
export class NotFoundError extends TaskorchError {}

/** An idempotency key (or name) is already taken by something different. Maps to ALREADY_EXISTS. */
export class AlreadyExistsError extends TaskorchError {}

/** The target is in a state that forbids the call (finished task, stale attempt). FAILED_PRECONDITION. */
export class FailedPreconditionError extends TaskorchError {}

/** A race was lost; retry the whole operation. Maps to ABORTED. */
export class AbortedError extends TaskorchError {}

/** A limit was hit (size, rate, queue full). Maps to RESOURCE_EXHAUSTED. */
export class ResourceExhaustedError extends TaskorchError {}

/** A dependency (Postgres, NATS) is unreachable or the process is draining. Maps to UNAVAILABLE. */
export class UnavailableError extends TaskorchError {}

/** The call carries no valid credentials (no token, an unknown token). Maps to UNAUTHENTICATED. */
export class UnauthenticatedError extends TaskorchError {}

/**
 * The caller is known but may not do this (a permission or a queue its token lacks). Maps to
 * PERMISSION_DENIED. The message names what is missing, never the caller's secret.
 */
export class PermissionDeniedError extends TaskorchError {}

/** Normalises anything thrown into an Error (graphile-worker's coerceError). */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof err === "string") return new Error(err);
  try {
    return new Error(JSON.stringify(err));
  } catch {
    return new Error(String(err));
  }
}

/** Longest error message kept as a task's last_error; a longer one is cut, saying how much was cut. */
export const MAX_ERROR_MESSAGE_CHARS = 8192;

/**
 * Cuts an attempt's error message to at most MAX_ERROR_MESSAGE_CHARS, ending in how much was cut.
 * The worker cuts it before reporting (a report must fit in one NATS message) and the scheduler
 * again for workers in other languages; a message cut once is left as it is.
 */
export function capErrorMessage(message: string): string {
  if (message.length <= MAX_ERROR_MESSAGE_CHARS) return message;
  const keep = MAX_ERROR_MESSAGE_CHARS - `… (${message.length} more characters)`.length;
  return `${message.slice(0, keep)}… (${message.length - keep} more characters)`;
}
