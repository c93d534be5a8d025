import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, get, isFromOldSession, setSession } from "../web/api.js";
import type { SessionJson } from "../web/api-types.js";

/** A fetch whose answers the test releases one by one, in any order. */
function controlledFetch(): { answer(status: number, code: string): void } {
  const pending: Array<(r: Response) => void> = [];
  vi.stubGlobal("fetch", () => new Promise<Response>((resolve) => pending.push(resolve)));
  return {
    answer(status, code) {
      pending.shift()!(new Response(JSON.stringify({ error: { code, message: code } }), { status }));
    },
  };
}

const session: SessionJson = { csrfToken: "c", hasToken: false, version: "test", pollIntervalMs: 500 };

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the UI's API calls across a sign-in", () => {
  it("marks an UNAUTHENTICATED answer to a call sent before the sign-in as the old session's", async () => {
    const fetch = controlledFetch();
    setSession(session);
    const signedOut = get("/tasks/x").catch((e: unknown) => e as ApiError);
    setSession({ ...session, hasToken: true }); // the sign-in lands while that call is in flight
    const signedIn = get("/tasks/x").catch((e: unknown) => e as ApiError);
    fetch.answer(401, "UNAUTHENTICATED");
    fetch.answer(401, "UNAUTHENTICATED");
    const [old, current] = await Promise.all([signedOut, signedIn]);
    expect(old).toBeInstanceOf(ApiError);
    expect(isFromOldSession(old as ApiError)).toBe(true); // must not reopen the token dialog
    expect(isFromOldSession(current as ApiError)).toBe(false); // the token in use was refused: ask again
  });
});
