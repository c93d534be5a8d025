import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";
import { retryDelayMs } from "./backoff.js";
import { checkQueueName, checkTaskType } from "./names.js";
import { InvalidArgumentError } from "./errors.js";
import { isUuid, newTaskId } from "./ids.js";

describe("parseDuration", () => {
  it("reads the seed's notation", () => {
    expect(parseDuration("1s")).toBe(1000);
    expect(parseDuration("1m")).toBe(60_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("1.5s")).toBe(1500);
  });
  it("rejects what is not a duration", () => {
    for (const bad of ["", "10", "1x", "s", "1s junk", "-1s"]) expect(parseDuration(bad)).toBeUndefined();
  });
  it("formats back", () => {
    expect(formatDuration(30_000)).toBe("30s");
    expect(formatDuration(60_000)).toBe("1m");
    expect(formatDuration(1500)).toBe("1500ms");
  });
});

describe("retryDelayMs", () => {
  it("doubles per attempt within jitter bounds and caps", () => {
    const cfg = { baseMs: 1000, maxMs: 8000 };
    expect(retryDelayMs(1, cfg, () => 0)).toBe(500);
    expect(retryDelayMs(1, cfg, () => 1)).toBe(1000);
    expect(retryDelayMs(3, cfg, () => 1)).toBe(4000);
    expect(retryDelayMs(10, cfg, () => 1)).toBe(8000);
  });
});

describe("names", () => {
  it("rejects queue names that would break a NATS subject", () => {
    for (const bad of ["a.b", "*", ">", "a b", "", "x".repeat(65)]) {
      expect(() => checkQueueName("queue", bad)).toThrow(InvalidArgumentError);
    }
    expect(checkQueueName("queue", "emails_high-1")).toBe("emails_high-1");
  });
  it("requires a task type and allows dots", () => {
    expect(() => checkTaskType("type", "")).toThrow(/required/);
    expect(checkTaskType("type", "email.send")).toBe("email.send");
    expect(() => checkTaskType("type", "email send")).toThrow(InvalidArgumentError);
  });
});

describe("newTaskId", () => {
  it("makes sortable UUIDv7s", () => {
    const a = newTaskId(1_700_000_000_000);
    const b = newTaskId(1_700_000_000_001);
    expect(isUuid(a)).toBe(true);
    expect(a[14]).toBe("7");
    expect(a < b).toBe(true);
  });
  it("stays ordered within one millisecond and across counter overflow", () => {
    const ids = Array.from({ length: 5000 }, () => newTaskId(1_800_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(5000);
  });
});
