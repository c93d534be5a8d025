/** Retry backoff: base * 2^(attempt-1), capped, with "equal jitter" so retries of a burst spread out. */
export interface BackoffConfig {
  baseMs: number;
  maxMs: number;
}

export function retryDelayMs(attempt: number, config: BackoffConfig, random: () => number = Math.random): number {
  const exp = Math.min(config.maxMs, config.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}
