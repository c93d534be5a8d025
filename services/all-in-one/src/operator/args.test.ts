import { describe, expect, it } from "vitest";
import { durationFlag, intFlag, parseFlags, statusFlag, UsageError } from "./args.js";
import { keyValues, relative, table } from "./format.js";

describe("parseFlags", () => {
  it("takes a negative number after a string flag as its value", () => {
    const p = parseFlags("enqueue", ["t", "--priority", "-5"], { priority: { type: "string" } });
    expect(p.values.priority).toBe("-5");
    expect(p.positionals).toEqual(["t"]);
  });

  it("names unknown flags and missing values", () => {
    expect(() => parseFlags("list", ["--bogus"], {})).toThrow(new UsageError("unknown flag --bogus (see taskorch list --help)"));
    expect(() => parseFlags("list", ["--address"], {})).toThrow(/--address needs a value/);
    expect(() => parseFlags("list", ["--json=yes"], {})).toThrow(/--json does not take a value/);
  });
});

describe("validators", () => {
  it("name the flag and the accepted range", () => {
    expect(intFlag({ priority: "7" }, "priority", -100, 100)).toBe(7);
    expect(() => intFlag({ priority: "1.5" }, "priority", -100, 100)).toThrow("--priority must be a whole number from -100 to 100, got \"1.5\"");
    expect(durationFlag({ delay: "1m30s" }, "delay")).toBe(90_000);
    expect(() => durationFlag({ delay: "10" }, "delay")).toThrow(/--delay must be a duration/);
    expect(statusFlag({ status: "TASK_STATUS_DEAD_LETTER" }, "status")).toBe("dead_letter");
    expect(() => statusFlag({ status: "dead" }, "status")).toThrow(/--status must be one of/);
  });
});

describe("format", () => {
  it("aligns table columns and key/value blocks", () => {
    expect(table(["A", "LONGER"], [["xyz", "1"], ["q", ""]])).toBe("A    LONGER\nxyz  1\nq\n");
    expect(keyValues([["id", "1"], ["skip", undefined], ["status", "ok"]])).toBe("id:      1\nstatus:  ok\n");
    expect(relative(new Date(1000), 4000)).toBe("3s ago");
    expect(relative(new Date(10 * 60_000), 0)).toBe("in 10m");
  });
});
