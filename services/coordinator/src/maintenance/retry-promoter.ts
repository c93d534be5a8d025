import type { Dispatcher } from "@taskorch/bus";
import { nextDueInMs, promoteDueTasks, type LeaderTerm, type Pool } from "@taskorch/store";
import type { Logger } from "@taskorch/telemetry";
import type { MaintenanceService } from "./maintainer.js";

export interface RetryPromoterConfig {
  pool: Pool;
  dispatcher: Dispatcher;
  logger: Logger;
  /** Longest sleep between looks (CLAIM_INTERVAL): bounds the lateness of newly delayed tasks. */
  intervalMs: number;
  batchSize?: number;
}

/**
 * RetryPromoter: PENDING tasks whose run_at has come (delayed tasks, retries after backoff) become
 * QUEUED as their next attempt and are published. It sleeps until the next due time the database
 * reports, capped by CLAIM_INTERVAL, so a due task starts within milliseconds of its time.
 */
export class RetryPromoter implements MaintenanceService {
  readonly name = "RetryPromoter";
  readonly retryAfterMs: number;
  private readonly batchSize: number;

  constructor(private readonly config: RetryPromoterConfig) {
    this.retryAfterMs = config.intervalMs;
    this.batchSize = config.batchSize ?? 1000;
  }

  async runOnce(term: LeaderTerm): Promise<number> {
    const items = await promoteDueTasks(this.config.pool, term, this.batchSize);
    if (items.length > 0) {
      const failed = await this.config.dispatcher.dispatch(items);
      this.config.logger.debug({ promoted: items.length, unpublished: failed.length }, "RetryPromoter: promoted due tasks");
      if (failed.length > 0) this.config.logger.warn({ unpublished: failed.length }, "RetryPromoter: publish failed; the tasks stay queued and are re-sent later");
      if (items.length === this.batchSize) return 0;
    }
    const next = await nextDueInMs(this.config.pool);
    return next === null ? this.config.intervalMs : Math.min(this.config.intervalMs, Math.max(0, next));
  }
}
