/**
 * Elector: decides, by the database clock only, whether this coordinator leads (River's elector).
 *
 * States: follower -> leader (won LeaderAttemptElect at epoch N) -> follower (renewal failed, the
 * trust window ran out, or resign). Every transition is reported in order through onChangeFunc,
 * which must not block the elector.
 *
 * Failure handling:
 * - The lease row is the only truth. A leader renews every term/3; a follower sleeps until the
 *   lease's expiry as the database reports it (or term/3, whichever is sooner), so after a crash
 *   the successor leads within LEADER_TERM plus a few milliseconds.
 * - Trust window: a leader that cannot reach Postgres stops believing it leads once term minus
 *   a safety margin has passed on its own monotonic clock since the last successful renewal. That
 *   is only for its own peace of mind: every leader-only write re-checks (leader_id, epoch,
 *   expires_at > now()) in SQL, so a paused or partitioned leader cannot act (invariant 5).
 * - On stop it resigns its exact term, so a successor can take over at once; `poke()` lets the app
 *   wake followers when it hears of a resignation.
 */
import { attemptElect, getLease, renewLease, resignLease, type LeaderTerm, type Pool } from "@taskorch/store";
import { FailureLog, type Logger } from "@taskorch/telemetry";

export interface ElectorConfig {
  pool: Pool;
  nodeId: string;
  termMs: number;
  /** Single-instance mode: take the lease at once even if an old term of ours is unexpired. */
  force: boolean;
  logger: Logger;
  onChangeFunc: (term: LeaderTerm | null) => void;
}

export class Elector {
  private term: LeaderTerm | null = null;
  private trustedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly failures: FailureLog;

  constructor(private readonly config: ElectorConfig) {
    if (config.termMs < 1000) throw new Error("Elector: LEADER_TERM must be at least 1s");
    this.failures = new FailureLog({ logger: config.logger, failedMsg: "Elector: election round failed", recoveredMsg: "Elector: election rounds work again" });
  }

  /** The current term, if this node believes it leads. */
  get currentTerm(): LeaderTerm | null {
    if (this.term && performance.now() > this.trustedUntil) this.setTerm(null, "trust window ran out");
    return this.term;
  }

  private get renewEveryMs(): number {
    return Math.floor(this.config.termMs / 3);
  }

  start(): void {
    this.running = this.loop();
  }

  /** Re-run the election now (e.g. another node announced it resigned). */
  poke(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let first = true;
    while (!this.stopped) {
      let sleepMs = this.renewEveryMs;
      try {
        sleepMs = await this.tick(first);
        first = false;
        this.failures.succeeded();
      } catch (err) {
        this.failures.failed(err);
        void this.currentTerm; // drops leadership once the trust window is over
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, Math.max(10, sleepMs));
      });
      clearTimeout(this.timer);
      this.wake = undefined;
    }
  }

  /** One round; returns how long to sleep before the next. */
  private async tick(first: boolean): Promise<number> {
    const { pool, nodeId, termMs } = this.config;
    const startedAt = performance.now();
    if (this.term) {
      const expires = await renewLease(pool, nodeId, this.term.epoch, termMs);
      if (expires) {
        this.trustedUntil = startedAt + termMs - this.renewEveryMs;
        return this.renewEveryMs;
      }
      this.setTerm(null, "lease lost");
    }
    const won = await attemptElect(pool, nodeId, termMs, this.config.force && first);
    if (won) {
      this.trustedUntil = startedAt + termMs - this.renewEveryMs;
      this.setTerm({ leaderId: nodeId, epoch: won.epoch }, "elected");
      return this.renewEveryMs;
    }
    const lease = await getLease(pool);
    const untilExpiry = lease ? lease.remainingMs + 5 : 0;
    return Math.min(this.renewEveryMs, Math.max(10, untilExpiry));
  }

  private setTerm(term: LeaderTerm | null, reason: string): void {
    const before = this.term;
    if (before?.epoch === term?.epoch) return;
    this.term = term;
    this.config.logger.info({ epoch: term?.epoch ?? before?.epoch, reason }, term ? "Elector: became leader" : "Elector: no longer leader");
    this.config.onChangeFunc(term);
  }

  /** Stops electing and resigns the current term (so a successor need not wait it out). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    clearTimeout(this.timer);
    await this.running;
    const term = this.term;
    if (term) {
      this.setTerm(null, "resigned");
      await resignLease(this.config.pool, term.leaderId, term.epoch).catch((err: unknown) =>
        this.config.logger.warn({ err }, "Elector: resigning failed; the lease will expire on its own"),
      );
    }
  }
}
