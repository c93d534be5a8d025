import type { AdmissionEvent, Dispatcher } from "@taskorch/bus";
import { admitTasks, nextDueInMs, type AdmissionWindow, type LeaderTerm, type Pool } from "@taskorch/store";
import type { Logger } from "@taskorch/telemetry";
import type { MaintenanceService } from "./maintainer.js";

const AGE_TURN_EVERY = 10;

export interface AdmitterConfig {
  pool: Pool;
  dispatcher: Dispatcher;
  logger: Logger;
  window: AdmissionWindow;
  /** Longest sleep between rounds (CLAIM_INTERVAL): bounds the lateness of newly delayed tasks. */
  intervalMs: number;
  maxPerQueue?: number;
}

/**
 * Admitter: the leader's flow control. Ready PENDING tasks (due delayed tasks, retries after
 * backoff, and tasks enqueued while their queue's window was full) become QUEUED as their next
 * attempt and are published, as far as each queue's window, queue limit and the types' rate limits
 * allow, highest priority first; a tenth of each round's room, and one slot every tenth round,
 * go to the oldest ready tasks whatever their priority (no starvation).
 *
 * It runs when woken (a scheduler recorded outcomes or stored ready tasks it could not admit)
 * and otherwise sleeps until the next due time the database reports, capped by CLAIM_INTERVAL.
 */
export class Admitter implements MaintenanceService {
  readonly name = "Admitter";
  readonly retryAfterMs: number;
  private readonly maxPerQueue: number;
  private rounds = 0;
  private recheckedDue = false;
  /** The last round admitted tasks. */
  private admitted = true;
  /** The last round admitted nothing although ready tasks wait: no room (or limits). */
  private blocked = false;
  private inRound = false;

  constructor(private readonly config: AdmitterConfig) {
    this.retryAfterMs = config.intervalMs;
    this.maxPerQueue = config.maxPerQueue ?? 2000;
  }

  /**
   * Whether a scheduler's nudge is worth a round now. "room" is, while the last round admitted
   * tasks (there may be more) or found ready tasks it had no room for; "held" is unless the last
   * round found ready tasks and no room (then only room helps, and "room" will wake it).
   */
  wantsRound(event: AdmissionEvent): boolean {
    // Mid-round the flags describe the previous round, and this one may have read too early.
    if (event === "ready" || this.inRound) return true;
    if (event === "held") return !this.blocked;
    return this.admitted || this.blocked;
  }

  async runOnce(term: LeaderTerm): Promise<number> {
    this.inRound = true;
    try {
      return await this.round(term);
    } finally {
      this.inRound = false;
    }
  }

  private async round(term: LeaderTerm): Promise<number> {
    // Every AGE_TURN_EVERY-th admitting round gives the oldest ready task a slot whatever its priority, so a
    // saturated queue still serves low priorities (at least one task in AGE_TURN_EVERY rounds).
    // Only rounds that admit something count, so idle wake-ups do not bring age turns closer.
    const ageTurn = this.rounds % AGE_TURN_EVERY === AGE_TURN_EVERY - 1;
    const items = await admitTasks(this.config.pool, term, this.config.window, this.maxPerQueue, ageTurn);
    if (items.length > 0) {
      this.admitted = true;
      this.blocked = false;
      this.rounds++;
      this.recheckedDue = false;
      const failed = await this.config.dispatcher.dispatch(items);
      this.config.logger.debug({ admitted: items.length, unpublished: failed.length }, "Admitter: admitted tasks");
      if (failed.length > 0) this.config.logger.warn({ unpublished: failed.length }, "Admitter: publish failed; the tasks stay queued and are re-sent later");
      return 0;
    }
    const next = await nextDueInMs(this.config.pool);
    if (next !== null && next <= 0 && !this.recheckedDue) {
      // A task fell due between the candidate query and this one: one more round at once.
      this.recheckedDue = true;
      return 1;
    }
    this.recheckedDue = false;
    this.admitted = false;
    this.blocked = next !== null && next <= 0;
    // Ready tasks but no room (next <= 0): wait to be woken by freed capacity instead of polling;
    // otherwise sleep until the next delayed task is due.
    return next === null || next <= 0 ? this.config.intervalMs : Math.min(this.config.intervalMs, Math.max(1, next));
  }
}
