import type { Logger } from "pino";

export interface FailureLogConfig {
  logger: Logger;
  /** Logged (warn) at the first failure, and again every everyMs while failures go on. */
  failedMsg: string;
  /** Logged (info) at the first success after failures. */
  recoveredMsg: string;
  everyMs?: number;
  nowFunc?: () => number;
}

/** How often a failure that goes on is logged again. */
const DEFAULT_EVERY_MS = 30_000;

/**
 * FailureLog: the log of an operation that is retried until it works (an election round, a
 * maintenance round, writing a batch of reports). Its first failure is logged with the error; while
 * it keeps failing, one line every `everyMs` says how many failures there were and for how long;
 * the first success after that says it works again. An outage of Postgres thus logs three lines
 * per loop instead of a stack trace per retry per second.
 */
export class FailureLog {
  private failures = 0;
  private failingSince = 0;
  private lastLoggedAt = 0;
  private readonly everyMs: number;
  private readonly now: () => number;

  constructor(private readonly config: FailureLogConfig) {
    this.everyMs = config.everyMs ?? DEFAULT_EVERY_MS;
    this.now = config.nowFunc ?? (() => performance.now());
  }

  failed(err: unknown, fields: Record<string, unknown> = {}): void {
    const now = this.now();
    if (this.failures === 0) this.failingSince = now;
    this.failures++;
    if (this.failures === 1) {
      this.config.logger.warn({ ...fields, err }, this.config.failedMsg);
      this.lastLoggedAt = now;
    } else if (now - this.lastLoggedAt >= this.everyMs) {
      this.config.logger.warn({ ...fields, err, failures: this.failures, failing_for_ms: Math.round(now - this.failingSince) }, `${this.config.failedMsg} (still failing)`);
      this.lastLoggedAt = now;
    }
  }

  succeeded(fields: Record<string, unknown> = {}): void {
    if (this.failures === 0) return;
    this.config.logger.info({ ...fields, failures: this.failures, failed_for_ms: Math.round(this.now() - this.failingSince) }, this.config.recoveredMsg);
    this.failures = 0;
  }
}
