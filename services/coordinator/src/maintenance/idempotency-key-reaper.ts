import { forgetIdempotencyKeys, type LeaderTerm, type Pool } from "@taskorch/store";
import type { Logger } from "@taskorch/telemetry";
import type { MaintenanceService } from "./maintainer.js";

/**
 * IdempotencyKeyReaper: ends the idempotency retention window (IDEMPOTENCY_RETENTION): finished
 * tasks older than it release their key, so the unique index stays small and a key can be reused.
 */
export class IdempotencyKeyReaper implements MaintenanceService {
  readonly name = "IdempotencyKeyReaper";
  readonly retryAfterMs: number;

  constructor(
    private readonly pool: Pool,
    private readonly retentionMs: number,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.retryAfterMs = intervalMs;
  }

  async runOnce(term: LeaderTerm): Promise<number> {
    const released = await forgetIdempotencyKeys(this.pool, term, this.retentionMs, 5000);
    if (released > 0) this.logger.info({ released }, "IdempotencyKeyReaper: released idempotency keys past retention");
    return released === 5000 ? 0 : this.intervalMs;
  }
}
