/**
 * Client-side retries (STYLE.md "Error model"; Temporal SDK grpc-retry.ts): UNAVAILABLE, ABORTED and
 * RESOURCE_EXHAUSTED are retried with jittered exponential backoff, and only for calls that are safe
 * to repeat. The caller decides idempotency; this module only decides "again, and after how long".
 */
import { status } from "@grpc/grpc-js";
import { retryDelayMs } from "@taskorch/domain";
import { toClientError, type TaskorchClientError } from "./errors.js";

/** How a retryable failure is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 disables retries). */
  maxAttempts: number;
  /** Backoff before the second attempt; doubles per attempt. */
  initialBackoffMs: number;
  /** Cap on one backoff. */
  maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 2000 });

/** Codes that mean "the same call may succeed if sent again". */
export const RETRYABLE_CODES: ReadonlySet<status> = new Set([status.UNAVAILABLE, status.ABORTED, status.RESOURCE_EXHAUSTED]);

/** Validates a (partial) policy over the defaults; errors name the field. */
export function resolveRetryPolicy(policy: Partial<RetryPolicy> | undefined): RetryPolicy {
  const p = { ...DEFAULT_RETRY_POLICY, ...policy };
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) throw new RangeError(`TaskorchClient: retry.maxAttempts must be a whole number >= 1, got ${p.maxAttempts}`);
  if (!(p.initialBackoffMs >= 0)) throw new RangeError(`TaskorchClient: retry.initialBackoffMs must be >= 0, got ${p.initialBackoffMs}`);
  if (!(p.maxBackoffMs >= p.initialBackoffMs)) throw new RangeError(`TaskorchClient: retry.maxBackoffMs must be >= retry.initialBackoffMs, got ${p.maxBackoffMs}`);
  return p;
}

/** Backoff before attempt `attempt + 1` after `attempt` failed: equal jitter over a capped doubling. */
export function backoffMs(attempt: number, policy: RetryPolicy, randomFunc: () => number = Math.random): number {
  return retryDelayMs(attempt, { baseMs: policy.initialBackoffMs, maxMs: policy.maxBackoffMs }, randomFunc);
}

export interface RetryContext {
  policy: RetryPolicy;
  /** False for calls that must not be repeated (enqueue without an idempotency key). */
  idempotent: boolean;
  method: string;
  sleepFunc: (ms: number) => Promise<void>;
  randomFunc: () => number;
}

/**
 * Runs `attemptFunc` until it succeeds, fails with a non-retryable code, or the policy's attempts
 * are used up. Rejects with a TaskorchClientError; `attemptFunc` gets the attempt number (1-based).
 */
export async function withRetry<T>(ctx: RetryContext, attemptFunc: (attempt: number) => Promise<T>): Promise<T> {
  const maxAttempts = ctx.idempotent ? ctx.policy.maxAttempts : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptFunc(attempt);
    } catch (err) {
      const clientErr: TaskorchClientError = toClientError(err, ctx.method);
      if (attempt >= maxAttempts || !RETRYABLE_CODES.has(clientErr.code)) throw clientErr;
      await ctx.sleepFunc(backoffMs(attempt, ctx.policy, ctx.randomFunc));
    }
  }
}
