import { afterEach, describe, expect, it, vi } from "vitest";
import { isThenable, RunningAttempt } from "./running-attempt.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("RunningAttempt", () => {
  it("settles with the handler's result and leaves no timer behind", async () => {
    vi.useFakeTimers();
    const attempt = new RunningAttempt();
    await expect(attempt.settle(Promise.resolve(42), 1000)).resolves.toBe(42);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("fails at the deadline when the handler ignores its signal, and aborts the signal with the reason", async () => {
    vi.useFakeTimers();
    const attempt = new RunningAttempt();
    const signal = attempt.signal;
    const settled = attempt.settle(new Promise(() => {}), 1000);
    const outcome = expect(settled).rejects.toThrow("timed out after 1000ms");
    await vi.advanceTimersByTimeAsync(999);
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await outcome;
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe("timed out after 1000ms");
  });

  it("rejects on cancel before the deadline, clears the timer, and keeps the first reason", async () => {
    vi.useFakeTimers();
    const attempt = new RunningAttempt();
    const settled = attempt.settle(new Promise(() => {}), 60_000);
    attempt.abort(new Error("task canceled"));
    attempt.abort(new Error("worker shut down"));
    await expect(settled).rejects.toThrow("task canceled");
    expect(vi.getTimerCount()).toBe(0);
    // A signal first read after the abort is already aborted, with the first reason.
    expect(attempt.signal.aborted).toBe(true);
    expect((attempt.signal.reason as Error).message).toBe("task canceled");
  });

  it("rejects at once when aborted before the handler's promise is awaited", async () => {
    const attempt = new RunningAttempt();
    attempt.abort(new Error("worker shut down"));
    await expect(attempt.settle(Promise.resolve(1), 1000)).rejects.toThrow("worker shut down");
  });

  it("drops a handler's late failure after the deadline without an unhandled rejection", async () => {
    vi.useFakeTimers();
    const attempt = new RunningAttempt();
    let fail!: (e: Error) => void;
    const settled = attempt.settle(new Promise((_, reject) => (fail = reject)), 10);
    const outcome = expect(settled).rejects.toThrow("timed out after 10ms");
    await vi.advanceTimersByTimeAsync(10);
    await outcome;
    fail(new Error("late"));
    await Promise.resolve();
  });
});

describe("isThenable", () => {
  it("tells promises and thenables from results", () => {
    expect(isThenable(Promise.resolve(1))).toBe(true);
    expect(isThenable({ then: () => undefined })).toBe(true);
    expect(isThenable({ then: 1 })).toBe(false);
    expect(isThenable(null)).toBe(false);
    expect(isThenable(undefined)).toBe(false);
    expect(isThenable(0)).toBe(false);
    expect(isThenable("then")).toBe(false);
  });
});
