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
/**
 * The one nudge that stands for two of one turn. Different events become "ready", which the
 * Admitter always acts on: it acts on "held" unless it waits for room and on "room" only then, so
 * "room" and "held" together must not arrive as either alone (as "held", a leader waiting for room
 * ignored the room this turn freed, and waited for the next "room" or its CLAIM_INTERVAL timer).
 */
export function combineAdmissionEvents(a: AdmissionEvent, b: AdmissionEvent): AdmissionEvent {
  return a === b ? a : "ready";
}

export function decodeAdmissionEvent(data: Uint8Array): AdmissionEvent {
  const text = new TextDecoder().decode(data);
  return text === "room" || text === "held" ? text : "ready";
}

/** Publishes at most one nudge per event-loop turn (see combineAdmissionEvents). */
export class AdmissionNudger {
  private pending: AdmissionEvent | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
  ) {}

  nudge(event: AdmissionEvent): void {
    if (this.pending !== undefined) {
      this.pending = combineAdmissionEvents(this.pending, event);
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
