import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { AdmissionNudger, decodeAdmissionEvent, type AdmissionEvent } from "./admission-events.js";

/** A connection that only records what is published. */
function recordingConnection(): { nc: NatsConnection; sent: Array<{ subject: string; event: AdmissionEvent }> } {
  const sent: Array<{ subject: string; event: AdmissionEvent }> = [];
  const nc = { publish: (subject: string, data: Uint8Array) => sent.push({ subject, event: decodeAdmissionEvent(data) }) } as unknown as NatsConnection;
  return { nc, sent };
}

const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("AdmissionNudger", () => {
  it("sends one nudge per turn, and the same event when the turn had only that one", async () => {
    const { nc, sent } = recordingConnection();
    const nudger = new AdmissionNudger(nc, "p.events.capacity");
    for (const event of ["room", "held", "ready"] as const) {
      nudger.nudge(event);
      nudger.nudge(event);
      await endOfTurn();
    }
    expect(sent).toEqual([
      { subject: "p.events.capacity", event: "room" },
      { subject: "p.events.capacity", event: "held" },
      { subject: "p.events.capacity", event: "ready" },
    ]);
  });

  it("sends freed room and held-back tasks of one turn as a nudge the leader always acts on", async () => {
    const { nc, sent } = recordingConnection();
    const nudger = new AdmissionNudger(nc, "p.events.capacity");
    nudger.nudge("room");
    nudger.nudge("held");
    await endOfTurn();
    nudger.nudge("held");
    nudger.nudge("room");
    await endOfTurn();
    expect(sent.map((s) => s.event)).toEqual(["ready", "ready"]);
  });
});
