import { createLogger } from "@taskorch/telemetry";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Maintainer, type MaintenanceService } from "./maintainer.js";

const TERM = { leaderId: "L", epoch: 1 };
const logger = createLogger({ service: "test", nodeId: "test", debug: false });

/** A service that counts its rounds and asks to sleep a minute after each. */
function minuteService(name: string): MaintenanceService & { rounds: number } {
  return {
    name,
    retryAfterMs: 60_000,
    rounds: 0,
    async runOnce() {
      this.rounds++;
      return 60_000;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Maintainer", () => {
  it("runs a woken service's next round at once, and leaves no sleep behind each time", async () => {
    const admitter = minuteService("Admitter");
    const other = minuteService("Other");
    const m = new Maintainer([admitter, other], logger);
    await m.start(TERM);
    await vi.advanceTimersByTimeAsync(50); // the start jitter
    expect([admitter.rounds, other.rounds]).toEqual([1, 1]);
    const asleep = vi.getTimerCount();
    expect(asleep).toBe(2); // one sleep per service

    for (let k = 0; k < 25; k++) {
      m.wake("Admitter");
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(admitter.rounds).toBe(26);
    expect(other.rounds).toBe(1);
    // Each wake ended its sleep: still one timer per service, not one per wake.
    expect(vi.getTimerCount()).toBe(asleep);

    await vi.advanceTimersByTimeAsync(60_000);
    expect([admitter.rounds, other.rounds]).toEqual([27, 2]);

    await m.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("remembers a wake that comes mid-round and runs once more right after", async () => {
    let release: (() => void) | undefined;
    const slow: MaintenanceService & { rounds: number } = {
      ...minuteService("Admitter"),
      async runOnce() {
        this.rounds++;
        if (this.rounds === 1) await new Promise<void>((r) => (release = r));
        return 60_000;
      },
    };
    const m = new Maintainer([slow], logger);
    await m.start(TERM);
    await vi.advanceTimersByTimeAsync(50);
    expect(slow.rounds).toBe(1);
    m.wake("Admitter"); // mid-round: it may have read before what the wake announces
    release!();
    await vi.advanceTimersByTimeAsync(0);
    expect(slow.rounds).toBe(2);
    await m.stop();
  });
});
