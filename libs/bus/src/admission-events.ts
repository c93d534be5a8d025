import type { NatsConnection } from "@nats-io/transport-node";

/**
 * Nudges from schedulers (and coordinators) to the leader's Admitter on `<prefix>.events.capacity` (core NATS, best
 * effort: the Admitter also runs on its own timer).
 *   "ready": something the Admitter must plan for: delayed tasks, retries after backoff, a raised
 *            limit. Always acted on.
 *   "held":  due tasks stored PENDING behind a full window (or older waiting tasks, or limits).
 *            Worth a round unless the Admitter already waits for room: then the next "room" does it.
 *   "room":  attempts finished, or a worker joined or grew, so windows have room again. Only worth
 *            a round while ready tasks wait for room; otherwise ignored (at low load there is one
 *            per finished task).
 * An unknown or empty body (older schedulers) counts as "ready".
 */
export type AdmissionEvent = "ready" | "held" | "room";

const encoder = new TextEncoder();
const BODIES: Record<AdmissionEvent, Uint8Array> = { ready: encoder.encode("ready"), held: encoder.encode("held"), room: encoder.encode("room") };
/** Which nudge wins when several happen in one turn: the one more likely to need a round. */
const RANK: Record<AdmissionEvent, number> = { room: 0, held: 1, ready: 2 };

export function decodeAdmissionEvent(data: Uint8Array): AdmissionEvent {
  const text = new TextDecoder().decode(data);
  return text === "room" || text === "held" ? text : "ready";
}

/** Publishes at most one nudge per event-loop turn (the highest-ranked of the turn). */
export class AdmissionNudger {
  private pending: AdmissionEvent | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
  ) {}

  nudge(event: AdmissionEvent): void {
    if (this.pending !== undefined) {
      if (RANK[event] > RANK[this.pending]) this.pending = event;
      return;
    }
    this.pending = event;
    setImmediate(() => {
      const e = this.pending ?? "ready";
      this.pending = undefined;
      try {
        this.nc.publish(this.subject, BODIES[e]);
      } catch {
        // Connection closing: the Admitter's own timer covers a lost nudge.
      }
    });
  }
}
