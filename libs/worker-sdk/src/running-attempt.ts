/**
 * The cancellation side of one running attempt: its AbortSignal, its deadline, and cancel notices
 * or shutdown that abort it.
 *
 * The AbortController is made only when the handler reads its signal or the attempt is aborted:
 * most short handlers never do, and one per attempt (an EventTarget, a listener, a promise for the
 * race) was the worker's largest allocation per no-op task (--cpu-prof of a drain: ~5 µs, and a
 * third of the worker's CPU went to garbage collection).
 */
export class RunningAttempt {
  private controller: AbortController | undefined;
  private reason: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private rejectFunc: ((err: Error) => void) | undefined;

  /** Fires when the attempt times out, is canceled, or the worker shuts down. */
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  /** Aborts the attempt: its signal fires and settle() rejects with the reason (first reason wins). */
  abort(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    clearTimeout(this.timer);
    (this.controller ??= new AbortController()).abort(reason);
    this.rejectFunc?.(reason);
  }

  /**
   * Waits for the handler's promise, but no longer than `timeoutMs` or until aborted: the attempt
   * fails at its deadline even if the handler ignores the signal (its late result is dropped).
   */
  settle<T>(work: PromiseLike<T>, timeoutMs: number): Promise<T> {
    if (this.reason) return Promise.reject(this.reason);
    return new Promise<T>((resolve, reject) => {
      this.rejectFunc = reject;
      this.timer = setTimeout(() => this.abort(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs);
      work.then(
        (value) => {
          clearTimeout(this.timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(this.timer);
          reject(err);
        },
      );
    });
  }
}

/** Whether a handler returned a promise (or any thenable) rather than its result. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";
}
