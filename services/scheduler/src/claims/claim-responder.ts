import { GroupCommitter, isUuid } from "@taskorch/domain";
import { flushPromptly, type NatsConnection, type Subjects } from "@taskorch/bus";
import { ClaimRequest, ClaimResponse } from "@taskorch/proto";
import { claimTasks, type ClaimInput, type Pool } from "@taskorch/store";
import { FailureLog, metrics, type Logger } from "@taskorch/telemetry";
import type { Subscription } from "@nats-io/transport-node";

/** Queue group shared by all scheduler replicas, so each claim request is answered once. */
const QUEUE_GROUP = "taskorch-scheduler";

/**
 * Answers workers' claim requests (`<prefix>.claims`, request/reply). Claims from many requests
 * that arrive together are granted in one guarded UPDATE (invariant 3: at most one worker runs an
 * attempt). A request that cannot be answered (database down) gets no reply: the worker times
 * out and lets JetStream redeliver the message later.
 */
export class ClaimResponder {
  private sub: Subscription | undefined;
  private readonly committer: GroupCommitter<ClaimInput, boolean>;
  private readonly writeFailures: FailureLog;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {
    this.writeFailures = new FailureLog({ logger, failedMsg: "ClaimResponder: claim query failed; the workers will retry", recoveredMsg: "ClaimResponder: claim queries work again" });
    this.committer = new GroupCommitter({
      maxBatch: 5000,
      maxInFlight: 2,
      // Claim requests read from one socket read arrive in one turn: one UPDATE for all of them.
      flushAtTurnEnd: true,
      flushFunc: async (claims) => {
        const stop = metrics.taskClaimDuration.startTimer();
        let granted: Awaited<ReturnType<typeof claimTasks>>;
        try {
          granted = await claimTasks(this.pool, claims);
        } catch (err) {
          this.writeFailures.failed(err);
          throw err;
        }
        this.writeFailures.succeeded();
        stop();
        const won = new Set(granted.map((g) => `${g.taskId}:${g.attempt}:${g.workerId}`));
        return claims.map((c) => won.has(`${c.taskId}:${c.attempt}:${c.workerId}`));
      },
    });
  }

  start(): void {
    this.sub = this.nc.subscribe(this.subjects.claims, {
      queue: QUEUE_GROUP,
      callback: (err, msg) => {
        if (err) return;
        let req: ClaimRequest;
        try {
          req = ClaimRequest.decode(msg.data);
        } catch (e) {
          this.logger.warn({ err: e }, "ClaimResponder: dropped malformed claim request");
          return;
        }
        const claims = req.claims.filter((c) => isUuid(c.taskId) && c.attempt > 0).map((c) => ({ taskId: c.taskId, attempt: c.attempt, workerId: req.workerId }));
        if (req.workerId === "" || claims.length !== req.claims.length) {
          msg.respond(ClaimResponse.encode({ results: req.claims.map((c) => ({ taskId: c.taskId, attempt: c.attempt, granted: false })) }).finish());
          return;
        }
        this.committer.submit(claims).then(
          (granted) => {
            msg.respond(ClaimResponse.encode({ results: claims.map((c, i) => ({ taskId: c.taskId, attempt: c.attempt, granted: granted[i]! })) }).finish());
            // A handler waits for this answer: not for the end of the turn.
            flushPromptly(this.nc);
          },
          // Logged by the query (writeFailures); unanswered, the worker asks again.
          () => undefined,
        );
      },
    });
  }

  async stop(): Promise<void> {
    if (this.sub) await this.sub.drain().catch(() => undefined);
  }
}
