import type { TaskHandlerFunc, Worker } from "@taskorch/worker-sdk";

/** Reads an integer field from a payload object, with a default. */
function intField(payload: unknown, name: string, def: number): number {
  const v = payload !== null && typeof payload === "object" ? (payload as Record<string, unknown>)[name] : undefined;
  return typeof v === "number" && Number.isFinite(v) ? v : def;
}

/** example.noop: returns its payload. */
export const noop: TaskHandlerFunc = ({ payload }) => payload;

/**
 * example.sleep {"ms": N}: waits N ms and aborts with the task's signal; with "ignoreAbort": true
 * it ignores the signal (a badly behaved handler: its late result must be discarded).
 */
export const sleepHandler: TaskHandlerFunc = ({ payload, signal }) =>
  new Promise((resolve, reject) => {
    const ms = Math.max(0, intField(payload, "ms", 1000));
    const timer = setTimeout(() => resolve({ sleptMs: ms }), ms);
    if (payload !== null && typeof payload === "object" && (payload as { ignoreAbort?: unknown }).ignoreAbort === true) return;
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    });
  });

/** example.flaky {"failTimes": N}: fails the first N attempts, then succeeds. */
export const flaky: TaskHandlerFunc = ({ payload, attempt }) => {
  const failTimes = intField(payload, "failTimes", 1);
  if (attempt <= failTimes) throw new Error(`example.flaky: failing attempt ${attempt} of the first ${failTimes}`);
  return { succeededOnAttempt: attempt };
};

/** example.fail {"message": "..."}: always fails. */
export const fail: TaskHandlerFunc = ({ payload }) => {
  const message = payload !== null && typeof payload === "object" && typeof (payload as { message?: unknown }).message === "string" ? (payload as { message: string }).message : "example.fail always fails";
  throw new Error(message);
};

/** Registers the example handlers, so a newcomer and the tests have something to run. */
export function registerExampleHandlers(worker: Worker): void {
  worker.registerHandler("example.noop", noop);
  worker.registerHandler("example.sleep", sleepHandler);
  worker.registerHandler("example.flaky", flaky);
  worker.registerHandler("example.fail", fail);
}
