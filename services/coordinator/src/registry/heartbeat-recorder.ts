import { GroupCommitter } from "@taskorch/domain";
import type { NatsConnection, Subjects } from "@taskorch/bus";
import { Heartbeat } from "@taskorch/proto";
import { pingDatabase, upsertWorkers, type Pool, type WorkerHeartbeat } from "@taskorch/store";
import { FailureLog, type Logger } from "@taskorch/telemetry";
import type { Subscription } from "@nats-io/transport-node";

/** Queue group of all coordinators: each heartbeat is recorded once, by whichever replica gets it. */
const QUEUE_GROUP = "taskorch-coordinator";
const MAX_ID_LENGTH = 256;
/** How often a recorder that stepped out of the queue group asks Postgres whether it answers again. */
const PROBE_INTERVAL_MS = 250;
/**
 * A replica whose writes fail again right after it rejoined (Postgres answers the probe but refuses
 * writes: a read-only standby, a full disk, a revoked grant) waits this long before its next rejoin,
 * doubling each time up to REJOIN_BACKOFF_MAX_MS, so it does not leave and rejoin four times a second.
 */
const REJOIN_BACKOFF_MS = 500;
const REJOIN_BACKOFF_MAX_MS = 10_000;

export interface HeartbeatRecorderConfig {
  nc: NatsConnection;
  subjects: Subjects;
  pool: Pool;
  workerTimeoutMs: number;
  /** Called after a write that added capacity. */
  capacityFunc: () => void;
  /**
   * Called when this replica stops or resumes recording: heartbeats may have gone unrecorded
   * around that moment, so silence proves nothing for a while (HeartbeatSight).
   */
  gapFunc: (reason: string) => void;
  logger: Logger;
}

/**
 * Records workers' heartbeats (`<prefix>.heartbeats`) in the workers table, batched: heartbeats
 * arriving while a write runs go into the next write. The database clock stamps them, so liveness
 * is never judged by comparing hosts' clocks (invariant 5).
 *
 * A heartbeat that adds capacity (a worker joins, comes back, grows its pool or serves more
 * queues) calls `capacityFunc` after the write: a backlog waiting for room can move now rather
 * than at the leader's next CLAIM_INTERVAL (measured: a worker joining a 20,000-task backlog got its
 * first task ~0.9 s after registering, with the default interval of 1 s).
 *
 * A replica that cannot write steps out of the queue group and publishes the heartbeats it could
 * not record again, so that a replica that can write records them: otherwise a coordinator cut off
 * from Postgres would swallow its share of every worker's heartbeats, and the leader would take
 * live workers for dead. It steps back in once Postgres answers it again; if its writes fail again
 * at once, it waits longer before each further try (REJOIN_BACKOFF_MS).
 */
export class HeartbeatRecorder {
  private sub: Subscription | undefined;
  private readonly committer: GroupCommitter<WorkerHeartbeat, true>;
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly failures: FailureLog;
  /** How long the next rejoin waits after leaving: 0 until a write fails again after a rejoin. */
  private rejoinBackoffMs = 0;
  private rejoinNotBefore = 0;

  constructor(private readonly config: HeartbeatRecorderConfig) {
    this.failures = new FailureLog({
      logger: config.logger,
      failedMsg: "HeartbeatRecorder: recording heartbeats failed; leaving them to the other coordinators until Postgres answers again",
      recoveredMsg: "HeartbeatRecorder: recording heartbeats works again",
    });
    this.committer = new GroupCommitter({
      maxBatch: 1000,
      maxInFlight: 1,
      flushFunc: async (beats) => {
        const grown = await upsertWorkers(config.pool, beats, config.workerTimeoutMs);
        this.failures.succeeded();
        this.rejoinBackoffMs = 0;
        if (grown.length > 0) config.capacityFunc();
        return beats.map(() => true as const);
      },
    });
  }

  /** Whether this replica takes heartbeats from the queue group now. */
  get recording(): boolean {
    return this.sub !== undefined;
  }

  start(): void {
    this.stopped = false;
    this.sub = this.config.nc.subscribe(this.config.subjects.heartbeats, {
      queue: QUEUE_GROUP,
      callback: (err, msg) => {
        if (!err) this.record(msg.data);
      },
    });
  }

  private record(data: Uint8Array): void {
    let hb: Heartbeat;
    try {
      hb = Heartbeat.decode(data);
    } catch (e) {
      this.config.logger.warn({ err: e }, "HeartbeatRecorder: dropped malformed heartbeat");
      return;
    }
    if (hb.workerId === "" || hb.workerId.length > MAX_ID_LENGTH) return;
    this.committer
      .submit([
        {
          workerId: hb.workerId,
          hostname: hb.hostname.slice(0, MAX_ID_LENGTH),
          queues: hb.queues.slice(0, 100).map((q) => q.slice(0, 64)),
          capacity: Math.max(0, Math.min(hb.capacity, 1_000_000)),
          active: Math.max(0, Math.min(hb.active, 1_000_000)),
          version: hb.version.slice(0, 64),
        },
      ])
      .catch((e: unknown) => this.handOff(data, e));
  }

  /** A write failed: leave the queue group, and give the heartbeat to a replica that can write it. */
  private handOff(data: Uint8Array, err: unknown): void {
    if (this.sub) {
      this.failures.failed(err, { rejoin_in_ms: this.rejoinBackoffMs });
      this.config.gapFunc("recording heartbeats failed");
      // Unsubscribed at once (not drained): heartbeats already delivered here fail and come back too.
      this.sub.unsubscribe();
      this.sub = undefined;
      this.rejoinNotBefore = performance.now() + this.rejoinBackoffMs;
      this.rejoinBackoffMs = Math.min(Math.max(REJOIN_BACKOFF_MS, this.rejoinBackoffMs * 2), REJOIN_BACKOFF_MAX_MS);
      this.probeTimer = setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
    }
    // Once this replica has left the group the server hands the message to another one, if any.
    if (!this.stopped) this.config.nc.publish(this.config.subjects.heartbeats, data);
  }

  private async probe(): Promise<void> {
    if (this.stopped || this.sub || performance.now() < this.rejoinNotBefore) return;
    if (!(await pingDatabase(this.config.pool).catch(() => false))) return;
    if (this.stopped || this.sub) return;
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    // The first write that succeeds logs the recovery (FailureLog).
    this.config.logger.debug("HeartbeatRecorder: Postgres answers again; rejoining the heartbeat queue group");
    this.config.gapFunc("recording heartbeats resumed");
    this.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.probeTimer);
    await this.sub?.drain().catch(() => undefined);
  }
}
