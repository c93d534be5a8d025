import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import {
  AbortedError,
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "@taskorch/domain";

/** Postgres SQLSTATEs that mean "retry the whole call" (serialization failure, deadlock). */
const ABORT_CODES = new Set(["40001", "40P01"]);
/** Node/pg error codes and SQLSTATE classes that mean "the database is unreachable right now". */
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "57P01", "57P02", "57P03", "53300"]);

export interface MappedStatus {
  code: status;
  message: string;
  /** True when the error was not a known domain error: its detail is masked from the caller. */
  unexpected: boolean;
}

/** Maps any thrown value to one gRPC status (STYLE.md "Error model"). */
export function mapError(err: unknown): MappedStatus {
  const known = (code: status, message: string): MappedStatus => ({ code, message, unexpected: false });
  if (err instanceof InvalidArgumentError) return known(status.INVALID_ARGUMENT, err.message);
  if (err instanceof NotFoundError) return known(status.NOT_FOUND, err.message);
  if (err instanceof AlreadyExistsError) return known(status.ALREADY_EXISTS, err.message);
  if (err instanceof FailedPreconditionError) return known(status.FAILED_PRECONDITION, err.message);
  if (err instanceof AbortedError) return known(status.ABORTED, err.message);
  if (err instanceof ResourceExhaustedError) return known(status.RESOURCE_EXHAUSTED, err.message);
  if (err instanceof UnavailableError) return known(status.UNAVAILABLE, err.message);
  if (err instanceof UnauthenticatedError) return known(status.UNAUTHENTICATED, err.message);
  if (err instanceof PermissionDeniedError) return known(status.PERMISSION_DENIED, err.message);
  const code = findCode(err);
  if (code !== undefined && ABORT_CODES.has(code)) return known(status.ABORTED, "the operation lost a race with another one; retry it");
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) return known(status.UNAVAILABLE, "the database is unavailable; retry shortly");
  if (err instanceof Error && /timeout exceeded when trying to connect|Connection terminated/i.test(err.message)) {
    return known(status.UNAVAILABLE, "the database is unavailable; retry shortly");
  }
  if (err instanceof Error && err.message === "Query read timeout") {
    // pg's query_timeout: the database may be gone (a failover) or just slow; either way, later.
    return known(status.UNAVAILABLE, "the database did not answer within DATABASE_QUERY_TIMEOUT (unreachable or overloaded); retry shortly");
  }
  return { code: status.INTERNAL, message: "internal error (details are in the server log)", unexpected: true };
}

function findCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function toServiceError(mapped: MappedStatus): Partial<ServiceError> {
  return { code: mapped.code, details: mapped.message, message: mapped.message, metadata: new Metadata() };
}
