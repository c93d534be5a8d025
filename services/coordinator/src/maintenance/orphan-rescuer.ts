import type { Dispatcher } from "@taskorch/bus";
import { redispatchStale, rescueOrphans, type LeaderTerm, type Pool } from "@taskorch/store";
import { metrics, type Logger } from "@taskorch/telemetry";
import type { HeartbeatSight } from "./heartbeat-sight.js";
import type { MaintenanceService } from "./maintainer.js";

export interface OrphanRescuerConfig {
  pool: Pool;
  dispatcher: Dispatcher;
  logger: Logger;
  workerTimeoutMs: number;
  defaultTaskTimeoutMs: number;
  dispatchTimeoutMs: number;
  /** How often to look for dead workers' tasks (cheap: an index scan of RUNNING tasks). */
  rescueIntervalMs: number;
  /** How often to re-send QUEUED tasks nobody claimed (CLEANUP_INTERVAL). */
  redispatchIntervalMs: number;
  /** Workers known to be gone at start (single-instance restart): their tasks are rescued at once. */
  suspectWorkerIds: string[];
  /** Whether a silent worker may be taken for dead, or a timed-out attempt for lost, now (see HeartbeatSight). */
  sight: HeartbeatSight;
  announceFunc: (finishedTaskIds: string[]) => void;
  /** Called when tasks went back to PENDING, so the Admitter runs them now rather than at its next tick. */
  readyFunc: () => void;
  batchSize?: number;
}

/** Extra time past a task's timeout before the leader takes the attempt away from its worker. */
const TIMEOUT_GRACE_MS = 5000;

/**
 * OrphanRescuer: puts lost attempts back in play (the seed's orphan recovery, fenced).
 * - RUNNING on a worker silent for WORKER_TIMEOUT, unknown, or known gone, or past its timeout:
 *   back to PENDING for the next attempt (the promoter dispatches it at once), or DEAD_LETTER when
 *   attempts are exhausted. The old attempt's late reports then match no row.
 * - QUEUED with no claim for DISPATCH_TIMEOUT (a lost NATS message, a purged stream): published
 *   again (invariant 2).
 * Liveness and timeouts are judged by the database clock in the statement itself, and only while
 * heartbeats and reports could be recorded (HeartbeatSight): after Postgres or NATS was out of reach,
 * or at the start of a term, a silent worker is given one heartbeat interval to be heard from, and
 * an attempt past its timeout as long for its report (which may have waited in JetStream) to land.
 */
export class OrphanRescuer implements MaintenanceService {
  readonly name = "OrphanRescuer";
  readonly retryAfterMs: number;
  private lastRedispatch = 0;
  private suspects: string[];
  /** Why silence was last not judged (logged once per stretch), or undefined while it is judged. */
  private deferredFor: string | undefined;

  constructor(private readonly config: OrphanRescuerConfig) {
    this.retryAfterMs = config.rescueIntervalMs;
    this.suspects = [...config.suspectWorkerIds];
  }

  async runOnce(term: LeaderTerm): Promise<number> {
    try {
      return await this.rescue(term);
    } catch (err) {
      this.config.sight.lose("a rescue round failed");
      throw err;
    }
  }

  onStop(): void {
    this.config.sight.lose("the leader's term has just begun");
  }

  private async rescue(term: LeaderTerm): Promise<number> {
    const { pool, logger, sight } = this.config;
    const limit = this.config.batchSize ?? 1000;
    const judgeSilence = sight.canJudgeSilence();
    this.logSight(judgeSilence);
    const rescued = await rescueOrphans(pool, term, {
      workerTimeoutMs: this.config.workerTimeoutMs,
      defaultTimeoutMs: this.config.defaultTaskTimeoutMs,
      graceMs: TIMEOUT_GRACE_MS,
      limit,
      suspectWorkerIds: this.suspects,
      judgeSilence,
    });
    sight.seen();
    if (rescued.length < limit) this.suspects = [];
    if (rescued.length > 0) {
      const dead = rescued.filter((r) => r.status === "dead_letter");
      for (const r of rescued) {
        metrics.tasksCompleted.inc({ type: r.type, status: "failed" });
        if (r.status === "dead_letter") metrics.tasksDeadLetter.inc({ type: r.type });
        else metrics.taskRetries.inc({ type: r.type, attempt: String(r.attempts) });
      }
      this.config.announceFunc(dead.map((r) => r.taskId));
      if (dead.length < rescued.length) this.config.readyFunc();
      logger.info({ rescued: rescued.length, dead_lettered: dead.length, reasons: [...new Set(rescued.map((r) => r.reason))] }, "OrphanRescuer: rescued tasks");
    }
    if (performance.now() - this.lastRedispatch >= this.config.redispatchIntervalMs) {
      this.lastRedispatch = performance.now();
      const stale = await redispatchStale(pool, term, this.config.dispatchTimeoutMs, limit);
      if (stale.length > 0) {
        const failed = await this.config.dispatcher.dispatch(stale);
        logger.info({ redispatched: stale.length - failed.length, unpublished: failed.length }, "OrphanRescuer: re-dispatched unclaimed tasks");
      }
    }
    return rescued.length === limit ? 0 : this.config.rescueIntervalMs;
  }

  private logSight(judgeSilence: boolean): void {
    const why = judgeSilence ? undefined : this.config.sight.whyBlind();
    if (why !== undefined && this.deferredFor === undefined) {
      this.config.logger.info({ reason: why }, "OrphanRescuer: taking no silent worker for dead and no attempt past its timeout for lost until heartbeats and reports can have been recorded again");
    } else if (why === undefined && this.deferredFor !== undefined) {
      this.config.logger.info("OrphanRescuer: judging workers by their heartbeats and attempts by their timeouts again");
    }
    this.deferredFor = why;
  }
}
