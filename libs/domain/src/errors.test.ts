import { describe, expect, it } from "vitest";
import { capErrorMessage, MAX_ERROR_MESSAGE_CHARS } from "./errors.js";

describe("capErrorMessage", () => {
  it("leaves a message within the limit alone", () => {
    expect(capErrorMessage("boom")).toBe("boom");
    const exact = "x".repeat(MAX_ERROR_MESSAGE_CHARS);
    expect(capErrorMessage(exact)).toBe(exact);
  });
  it("cuts a longer one to the limit, saying how much it cut, and leaves it alone when cut again", () => {
    const long = "e".repeat(20_000);
    const cut = capErrorMessage(long);
    expect(cut).toHaveLength(MAX_ERROR_MESSAGE_CHARS);
    const kept = cut.indexOf("…");
    expect(cut.slice(kept)).toBe(`… (${20_000 - kept} more characters)`);
    expect(capErrorMessage(cut)).toBe(cut);
  });
});
