import type { ServerUnaryCall } from "@grpc/grpc-js";
import { InvalidArgumentError } from "@taskorch/domain";

const DEFAULT_WAIT_MS = 30_000;
const MAX_WAIT_MS = 3_600_000;

/** When a WaitTask/WaitGroup call gives up, and a signal that fires if the caller goes away. */
export interface WaitWindow {
  deadline: number;
  signal: AbortSignal;
}

/** Validates a wait's `timeout` (default 30s, at most 1h) and ties the wait to the call's life. */
export function openWaitWindow(timeout: { seconds: number; nanos: number } | undefined, call: ServerUnaryCall<unknown, unknown>): WaitWindow {
  const waitMs = timeout ? timeout.seconds * 1000 + Math.round(timeout.nanos / 1e6) : DEFAULT_WAIT_MS;
  if (waitMs < 0 || waitMs > MAX_WAIT_MS) throw new InvalidArgumentError("timeout", `must be from 0s to 1h, got ${waitMs}ms`);
  const abort = new AbortController();
  call.on("cancelled", () => abort.abort());
  return { deadline: Date.now() + waitMs, signal: abort.signal };
}
