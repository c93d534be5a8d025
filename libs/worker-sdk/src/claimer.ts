import { GroupCommitter } from "@taskorch/domain";
import { flushPromptly, type NatsConnection, type Subjects } from "@taskorch/bus";
import { ClaimRequest, ClaimResponse, type Claim } from "@taskorch/proto";

const CLAIM_TIMEOUT_MS = 5000;

/**
 * Asks the scheduler for attempts before running them (invariant 3). Claims made while a request
 * is in flight go together in the next request. Rejects when no scheduler answers in time.
 */
export class Claimer {
  private readonly committer: GroupCommitter<Claim, boolean>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly workerId: string,
  ) {
    this.committer = new GroupCommitter({
      maxBatch: 1000,
      maxInFlight: 4,
      // A claim reply frees slots for several attempts in one turn: their claims go in one request.
      flushAtTurnEnd: true,
      flushFunc: async (claims) => {
        const request = this.nc.request(this.subjects.claims, ClaimRequest.encode({ workerId: this.workerId, claims }).finish(), {
          timeout: CLAIM_TIMEOUT_MS,
        });
        // The handlers wait for this answer: the request goes out now, not at the end of the turn.
        flushPromptly(this.nc);
        const reply = await request;
        const res = ClaimResponse.decode(reply.data);
        const granted = new Set(res.results.filter((r) => r.granted).map((r) => `${r.taskId}:${r.attempt}`));
        return claims.map((c) => granted.has(`${c.taskId}:${c.attempt}`));
      },
    });
  }

  /** Resolves true when this worker now owns the attempt. */
  claim(taskId: string, attempt: number): Promise<boolean> {
    return this.committer.submit([{ taskId, attempt }]).then((granted) => granted[0] === true);
  }
}
