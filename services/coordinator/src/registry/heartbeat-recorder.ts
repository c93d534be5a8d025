import { GroupCommitter } from "@taskorch/domain";
import type { NatsConnection, Subjects } from "@taskorch/bus";
import { Heartbeat } from "@taskorch/proto";
import { upsertWorkers, type Pool, type WorkerHeartbeat } from "@taskorch/store";
import type { Logger } from "@taskorch/telemetry";
import type { Subscription } from "@nats-io/transport-node";

/** Queue group of all coordinators: each heartbeat is recorded once, by whichever replica gets it. */
const QUEUE_GROUP = "taskorch-coordinator";
const MAX_ID_LENGTH = 256;

/**
 * Records workers' heartbeats (`<prefix>.heartbeats`) in the workers table, batched: heartbeats
 * arriving while a write runs go into the next write. The database clock stamps them, so liveness
 * is never judged by comparing hosts' clocks (invariant 5).
 *
 * A heartbeat that adds capacity (a worker joins, comes back, grows its pool or serves more
 * queues) calls `capacityFunc` after the write: a backlog waiting for room can move now rather
 * than at the leader's next CLAIM_INTERVAL (measured: a worker joining a 20,000-task backlog got its
 * first task ~0.9 s after registering, with the default interval of 1 s).
 */
export class HeartbeatRecorder {
  private sub: Subscription | undefined;
  private readonly committer: GroupCommitter<WorkerHeartbeat, true>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly pool: Pool,
    private readonly workerTimeoutMs: number,
    private readonly capacityFunc: () => void,
    private readonly logger: Logger,
    /** Called when a write fails: heartbeats went unrecorded, so silence proves nothing for a while. */
    private readonly onFailureFunc: () => void = () => {},
  ) {
    this.committer = new GroupCommitter({
      maxBatch: 1000,
      maxInFlight: 1,
      flushFunc: async (beats) => {
        const grown = await upsertWorkers(this.pool, beats, this.workerTimeoutMs);
        if (grown.length > 0) this.capacityFunc();
        return beats.map(() => true as const);
      },
    });
  }

  start(): void {
    this.sub = this.nc.subscribe(this.subjects.heartbeats, {
      queue: QUEUE_GROUP,
      callback: (err, msg) => {
        if (err) return;
        let hb: Heartbeat;
        try {
          hb = Heartbeat.decode(msg.data);
        } catch (e) {
          this.logger.warn({ err: e }, "HeartbeatRecorder: dropped malformed heartbeat");
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
          .catch((e: unknown) => {
            this.onFailureFunc();
            this.logger.warn({ err: e }, "HeartbeatRecorder: recording heartbeats failed");
          });
      },
    });
  }

  async stop(): Promise<void> {
    await this.sub?.drain().catch(() => undefined);
  }
}
