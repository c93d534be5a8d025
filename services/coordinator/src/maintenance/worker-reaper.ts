import { deleteDeadWorkers, type LeaderTerm, type Pool } from "@taskorch/store";
import type { Logger } from "@taskorch/telemetry";
import type { MaintenanceService } from "./maintainer.js";

/** WorkerReaper: deletes rows of workers silent for DEAD_WORKER_RETENTION that run nothing. */
export class WorkerReaper implements MaintenanceService {
  readonly name = "WorkerReaper";
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
    const removed = await deleteDeadWorkers(this.pool, term, this.retentionMs);
    if (removed.length > 0) this.logger.info({ removed }, "WorkerReaper: removed dead workers");
    return this.intervalMs;
  }
}
