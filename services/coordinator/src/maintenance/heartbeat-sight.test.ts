import { describe, expect, it } from "vitest";
import { HeartbeatSight } from "./heartbeat-sight.js";

function sightAt(windowMs: number) {
  let now = 0;
  const sight = new HeartbeatSight(windowMs, () => now);
  return { sight, advance: (ms: number) => (now += ms) };
}

describe("HeartbeatSight", () => {
  it("judges silence only after Postgres has been in sight for the whole window", () => {
    const { sight, advance } = sightAt(1500);
    expect(sight.canJudgeSilence()).toBe(false); // a new term: blind
    sight.seen();
    advance(1499);
    sight.seen(); // seeing again does not restart the window
    expect(sight.canJudgeSilence()).toBe(false);
    advance(1);
    expect(sight.canJudgeSilence()).toBe(true);
    expect(sight.whyBlind()).toBeUndefined();
  });

  it("starts the window again after a failure", () => {
    const { sight, advance } = sightAt(1000);
    sight.seen();
    advance(5000);
    sight.lose("Postgres was out of reach");
    advance(5000);
    expect(sight.canJudgeSilence()).toBe(false);
    expect(sight.whyBlind()).toBe("Postgres was out of reach");
    sight.seen();
    advance(999);
    expect(sight.whyBlind()).toMatch(/Postgres was out of reach; in sight again for less than 1000 ms/);
    advance(1);
    expect(sight.canJudgeSilence()).toBe(true);
  });

  it("stays blind while NATS is disconnected, however often Postgres answers", () => {
    const { sight, advance } = sightAt(1000);
    sight.seen();
    advance(2000);
    sight.natsLost();
    for (let i = 0; i < 5; i++) {
      advance(1000);
      sight.seen();
    }
    expect(sight.canJudgeSilence()).toBe(false);
    sight.natsRegained();
    sight.seen();
    advance(1000);
    expect(sight.canJudgeSilence()).toBe(true);
  });

  it("waits a heartbeat interval and a margin, never more than WORKER_TIMEOUT", () => {
    expect(HeartbeatSight.windowFor(10_000, 30_000)).toBe(15_000);
    expect(HeartbeatSight.windowFor(500, 3000)).toBe(1500);
    expect(HeartbeatSight.windowFor(25_000, 30_000)).toBe(30_000);
  });
});
