import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FailureLog } from "./failure-log.js";

function setUp() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  let now = 0;
  const log = new FailureLog({ logger, failedMsg: "Thing: round failed", recoveredMsg: "Thing: rounds work again", everyMs: 30_000, nowFunc: () => now });
  return { lines, log, advance: (ms: number) => (now += ms) };
}

describe("FailureLog", () => {
  it("logs the first failure, one line per interval while it goes on, and the recovery", () => {
    const { lines, log, advance } = setUp();
    log.succeeded(); // nothing failed: nothing to say
    for (let s = 0; s < 65; s++) {
      log.failed(new Error("connect ECONNREFUSED"), { service: "A" });
      advance(1000);
    }
    log.succeeded();
    expect(lines.map((l) => [l.msg, l.failures, l.failing_for_ms ?? l.failed_for_ms])).toEqual([
      ["Thing: round failed", undefined, undefined],
      ["Thing: round failed (still failing)", 31, 30_000],
      ["Thing: round failed (still failing)", 61, 60_000],
      ["Thing: rounds work again", 65, 65_000],
    ]);
    expect(lines[0]).toMatchObject({ service: "A", err: { message: "connect ECONNREFUSED" } });
    expect(lines[1]).toMatchObject({ service: "A", err: { message: "connect ECONNREFUSED" } });
  });

  it("starts over after a success", () => {
    const { lines, log, advance } = setUp();
    log.failed(new Error("a"));
    log.succeeded();
    advance(5);
    log.failed(new Error("b"));
    expect(lines.map((l) => l.msg)).toEqual(["Thing: round failed", "Thing: rounds work again", "Thing: round failed"]);
    expect(lines[2]).toMatchObject({ err: { message: "b" } });
  });
});
