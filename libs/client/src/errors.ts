/**
 * Typed errors of @taskorch/client. Every failed call rejects with a TaskorchClientError (or a
 * subclass chosen by gRPC status code) carrying the numeric `code`, the server's `details` and the
 * original grpc-js error as `cause`, so callers can `instanceof` instead of comparing numbers.
 */
import { status, type ServiceError } from "@grpc/grpc-js";

/** Options every client error takes. */
export interface TaskorchClientErrorOptions {
  /** The underlying error (usually the grpc-js ServiceError). */
  cause?: unknown;
  /** RPC that failed, e.g. "SchedulerService/GetTask". */
  method?: string;
  /** The server's status message (grpc-js `details`). Defaults to `message`. */
  details?: string;
}

/** Base class of every error the client throws for a failed call. */
export class TaskorchClientError extends Error {
  /** gRPC status code (`status.NOT_FOUND` is 5, and so on). */
  readonly code: status;
  /** The server's status message, as sent. */
  readonly details: string;
  /** The RPC that failed, when known. */
  readonly method: string | undefined;

  constructor(code: status, message: string, options: TaskorchClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? message;
    this.method = options.method;
  }

  /** The status code's name, e.g. "NOT_FOUND", as grpcurl and the CLI print it. */
  get codeName(): string {
    return statusName(this.code);
  }
}

/** NOT_FOUND: no task with that id. */
export class TaskNotFoundError extends TaskorchClientError {}
/** INVALID_ARGUMENT: the request is wrong; `details` names the field. */
export class InvalidRequestError extends TaskorchClientError {}
/** ALREADY_EXISTS: an idempotency key was reused with a different request. */
export class AlreadyExistsError extends TaskorchClientError {}
/** FAILED_PRECONDITION: the task's state forbids the call (cancel a finished task, retry a running one). */
export class FailedPreconditionError extends TaskorchClientError {}
/** ABORTED: the call lost a race on the server; retrying the whole operation is safe. */
export class AbortedError extends TaskorchClientError {}
/** RESOURCE_EXHAUSTED: a server limit (rate, size, queue) was hit. */
export class ResourceExhaustedError extends TaskorchClientError {}
/** UNAVAILABLE: the server (or its Postgres/NATS) cannot answer right now. */
export class UnavailableError extends TaskorchClientError {}
/** UNAUTHENTICATED: missing or bad credentials (`token`). */
export class UnauthenticatedError extends TaskorchClientError {}
/** PERMISSION_DENIED: the credentials may not make this call. */
export class PermissionDeniedError extends TaskorchClientError {}
/** DEADLINE_EXCEEDED: the call's deadline passed before the server answered. */
export class DeadlineExceededError extends TaskorchClientError {}

type ErrorClass = new (code: status, message: string, options?: TaskorchClientErrorOptions) => TaskorchClientError;

const CLASS_BY_CODE: ReadonlyMap<status, ErrorClass> = new Map<status, ErrorClass>([
  [status.NOT_FOUND, TaskNotFoundError],
  [status.INVALID_ARGUMENT, InvalidRequestError],
  [status.ALREADY_EXISTS, AlreadyExistsError],
  [status.FAILED_PRECONDITION, FailedPreconditionError],
  [status.ABORTED, AbortedError],
  [status.RESOURCE_EXHAUSTED, ResourceExhaustedError],
  [status.UNAVAILABLE, UnavailableError],
  [status.UNAUTHENTICATED, UnauthenticatedError],
  [status.PERMISSION_DENIED, PermissionDeniedError],
  [status.DEADLINE_EXCEEDED, DeadlineExceededError],
]);

/** "NOT_FOUND" for 5; "UNKNOWN(42)" for a code grpc-js does not know. */
export function statusName(code: number): string {
  return (status as unknown as Record<number, string | undefined>)[code] ?? `UNKNOWN(${code})`;
}

/** True for the shape grpc-js rejects calls with (an Error with a numeric `code`). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "number";
}

/**
 * Converts whatever a call rejected with into a TaskorchClientError of the class matching its
 * status. Errors that are already TaskorchClientErrors pass through; anything without a gRPC code
 * becomes UNKNOWN with the original as `cause`.
 */
export function toClientError(err: unknown, method?: string): TaskorchClientError {
  if (err instanceof TaskorchClientError) return err;
  if (isServiceError(err)) {
    const details = err.details || statusName(err.code);
    const Class = CLASS_BY_CODE.get(err.code) ?? TaskorchClientError;
    return new Class(err.code, details, { cause: err, method, details });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TaskorchClientError(status.UNKNOWN, message, { cause: err, method });
}
