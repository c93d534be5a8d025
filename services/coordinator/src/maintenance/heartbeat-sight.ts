/**
 * HeartbeatSight: whether the leader may take a silent worker for dead (or a timed-out attempt for lost).
 *
 * A heartbeat reaches the workers table through NATS and a coordinator's write to Postgres. While
 * either was out of reach, or before this leader's term began, silence in the table says nothing
 * about the worker: after a Postgres outage longer than WORKER_TIMEOUT every live worker's last
 * heartbeat is old, and judging by it would re-run every running task while its worker goes on
 * with it (measured before this existed: the first leader after an 8 s outage rescued every
 * running attempt 54 ms after it was elected).
 *
 * So silence is judged only after the leader has seen Postgres and NATS without a break for one
 * heartbeat interval plus a margin: by then every live worker has beaten and been recorded. Only
 * the wait is measured here, on this process's monotonic clock; how old a heartbeat is stays the
 * database clock's judgment (invariant 5).
 *
 * Reports travel the same way, so a timeout is judged only then too: an attempt that finished
 * during the outage, its report waiting in JetStream (re-offered every second), must not be rescued
 * as timed out and run again because its deadline passed before its report could land. Workers
 * known to be gone are rescued regardless.
 */
export class HeartbeatSight {
  /** Since when (monotonic ms) Postgres and NATS have been in sight without a break; undefined while blind. */
  private seenSince: number | undefined;
  private natsDown = false;
  private blindReason = "the leader's term has just begun";

  constructor(
    /** HEARTBEAT_INTERVAL plus a margin for a heartbeat's delivery and its batched write. */
    private readonly windowMs: number,
    private readonly nowFunc: () => number = () => performance.now(),
  ) {}

  /**
   * The wait: one heartbeat interval plus a second (or half an interval, if more), and never more
   * than WORKER_TIMEOUT, the silence a worker is allowed anyway.
   */
  static windowFor(heartbeatIntervalMs: number, workerTimeoutMs: number): number {
    return Math.min(workerTimeoutMs, heartbeatIntervalMs + Math.max(1000, heartbeatIntervalMs / 2));
  }

  /** Heartbeats may have gone unrecorded from now on (a failed query, a new term). */
  lose(reason: string): void {
    this.seenSince = undefined;
    this.blindReason = reason;
  }

  /** NATS disconnected: no heartbeat arrives until it reconnects. */
  natsLost(): void {
    this.natsDown = true;
    this.lose("NATS was disconnected");
  }

  natsRegained(): void {
    this.natsDown = false;
  }

  /** The leader just reached Postgres: sight starts now unless it already had (or NATS is down). */
  seen(): void {
    if (this.seenSince === undefined && !this.natsDown) this.seenSince = this.nowFunc();
  }

  /** Whether silence may be judged now. */
  canJudgeSilence(): boolean {
    return this.seenSince !== undefined && this.nowFunc() - this.seenSince >= this.windowMs;
  }

  /** Why silence is not judged now (for logs), or undefined when it is. */
  whyBlind(): string | undefined {
    if (this.canJudgeSilence()) return undefined;
    return this.seenSince === undefined ? this.blindReason : `${this.blindReason}; in sight again for less than ${this.windowMs} ms`;
  }
}
