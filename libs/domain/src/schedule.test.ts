import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./errors.js";
import { checkCron, checkTimeZone, formatRate, nextTick, parseRate } from "./schedule.js";

describe("nextTick", () => {
  it("fires the seed's nightly job at 02:00 in its zone, across the DST change", () => {
    const t = { kind: "cron" as const, cron: "0 2 * * *", timeZone: "America/New_York" };
    expect(nextTick(t, new Date("2026-03-07T12:00:00Z")).toISOString()).toBe("2026-03-08T07:00:00.000Z"); // EST: 02:00 -> 07:00Z
    expect(nextTick(t, new Date("2026-03-09T12:00:00Z")).toISOString()).toBe("2026-03-10T06:00:00.000Z"); // EDT: 02:00 -> 06:00Z
  });
  it("supports seconds and weekly expressions", () => {
    expect(nextTick({ kind: "cron", cron: "*/10 * * * * *", timeZone: "UTC" }, new Date("2026-01-01T00:00:01Z")).toISOString()).toBe("2026-01-01T00:00:10.000Z");
    expect(nextTick({ kind: "cron", cron: "0 3 * * 0", timeZone: "UTC" }, new Date("2026-11-24T00:00:00Z")).toISOString()).toBe("2026-11-29T03:00:00.000Z");
  });
  it("keeps interval ticks on the grid of their anchor", () => {
    const anchor = new Date("2026-01-01T00:00:00Z");
    expect(nextTick({ kind: "interval", intervalMs: 60_000 }, new Date("2026-01-01T00:05:30Z"), anchor).toISOString()).toBe("2026-01-01T00:06:00.000Z");
    expect(nextTick({ kind: "interval", intervalMs: 60_000 }, new Date("2026-01-01T00:06:00Z"), anchor).toISOString()).toBe("2026-01-01T00:07:00.000Z");
  });
});

describe("validation", () => {
  it("names the field and says what is wrong", () => {
    expect(() => checkCron("schedule.cron", "61 * * * *", "UTC")).toThrow(/schedule.cron: "61 \* \* \* \*" is not a valid cron expression/);
    expect(() => checkCron("schedule.cron", "* *", "UTC")).toThrow(/needs 5 fields/);
    expect(() => checkTimeZone("schedule.time_zone", "Mars/Olympus")).toThrow(InvalidArgumentError);
    expect(checkTimeZone("tz", "Europe/Paris")).toBe("Europe/Paris");
  });
});

describe("parseRate", () => {
  it("reads Celery's notation", () => {
    expect(parseRate("rate", "10/m")).toEqual({ limit: 10, periodMs: 60_000 });
    expect(parseRate("rate", "100/h")).toEqual({ limit: 100, periodMs: 3_600_000 });
    expect(parseRate("rate", "5/30s")).toEqual({ limit: 5, periodMs: 30_000 });
    expect(formatRate(10, 60_000)).toBe("10/m");
    expect(formatRate(5, 30_000)).toBe("5/30s");
    for (const bad of ["", "10", "0/s", "x/s", "10/fortnight", "-1/s"]) expect(() => parseRate("rate", bad)).toThrow(/not a rate/);
  });
});
