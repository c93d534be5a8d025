import { combineAdmissionEvents, type AdmissionEvent, type Dispatcher } from "@taskorch/bus";
import type { Pool } from "@taskorch/store";
import { createLogger } from "@taskorch/telemetry";
import { describe, expect, it } from "vitest";
import { Admitter } from "./admitter.js";

const EVENTS: AdmissionEvent[] = ["room", "held", "ready"];
/** What the Admitter knows from its last round, and whether one runs now. */
const STATES = [
  { admitted: true, blocked: false, inRound: false },
  { admitted: false, blocked: true, inRound: false },
  { admitted: false, blocked: false, inRound: false },
  { admitted: false, blocked: true, inRound: true },
];

function admitterIn(state: (typeof STATES)[number]): Admitter {
  const admitter = new Admitter({
    pool: {} as Pool,
    dispatcher: {} as Dispatcher,
    logger: createLogger({ service: "test", nodeId: "test", debug: false }),
    window: { workerTimeoutMs: 30_000, factor: 2, extra: 0 },
    intervalMs: 1000,
  });
  // wantsRound reads only these flags, which rounds set; set them directly for each state.
  Object.assign(admitter as unknown as Record<string, boolean>, state);
  return admitter;
}

describe("Admitter.wantsRound with the nudges a scheduler combines in one turn", () => {
  it("acts on a combined nudge whenever it would have acted on one of its parts", () => {
    for (const state of STATES) {
      const admitter = admitterIn(state);
      for (const a of EVENTS) {
        for (const b of EVENTS) {
          const either = admitter.wantsRound(a) || admitter.wantsRound(b);
          expect({ state, a, b, acts: admitter.wantsRound(combineAdmissionEvents(a, b)) }).toEqual({ state, a, b, acts: either });
        }
      }
    }
  });

  it("waiting for room, it ignores held-back tasks alone but not freed room", () => {
    const waiting = admitterIn({ admitted: false, blocked: true, inRound: false });
    expect(waiting.wantsRound("held")).toBe(false);
    expect(waiting.wantsRound("room")).toBe(true);
  });
});
