import { status } from "@grpc/grpc-js";
import { InvalidArgumentError } from "@taskorch/domain";
import { describe, expect, it } from "vitest";
import { mapError } from "./status.js";

describe("mapError", () => {
  it("says which database trouble a caller should wait out", () => {
    expect(mapError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }))).toEqual({ code: status.UNAVAILABLE, message: "the database is unavailable; retry shortly", unexpected: false });
    expect(mapError(new Error("timeout exceeded when trying to connect")).code).toBe(status.UNAVAILABLE);
    expect(mapError(new Error("Query read timeout"))).toEqual({
      code: status.UNAVAILABLE,
      message: "the database did not answer within DATABASE_QUERY_TIMEOUT (unreachable or overloaded); retry shortly",
      unexpected: false,
    });
    expect(mapError(Object.assign(new Error("deadlock detected"), { code: "40P01" })).code).toBe(status.ABORTED);
  });

  it("keeps domain errors' messages and masks the unexpected", () => {
    expect(mapError(new InvalidArgumentError("queue", "is bad"))).toMatchObject({ code: status.INVALID_ARGUMENT, unexpected: false });
    expect(mapError(new Error("secret detail"))).toEqual({ code: status.INTERNAL, message: "internal error (details are in the server log)", unexpected: true });
  });
});
