/** Calls to the dashboard's own HTTP API (same origin; the session cookie rides along). */
import type { ApiErrorJson, SessionJson } from "./api-types.js";

/** A failed API call: HTTP status plus the server's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The session the call was made under (see isFromOldSession). */
    readonly sessionVersion: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let csrfToken = "";
/** Bumped by every sign-in, sign-out and session load. */
let sessionVersion = 0;

/** Remembers the CSRF token POSTs must carry; calls made before this belong to the old session. */
export function setSession(s: SessionJson): void {
  csrfToken = s.csrfToken;
  sessionVersion++;
}

/**
 * Whether the call failed under a session that has since been replaced: a request sent signed out
 * that answers UNAUTHENTICATED after the sign-in must not open the token dialog again.
 */
export function isFromOldSession(err: ApiError): boolean {
  return err.sessionVersion !== sessionVersion;
}

async function parse<T>(res: Response, version: number): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as T & { error?: ApiErrorJson };
  if (!res.ok) throw new ApiError(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText, version);
  return body;
}

export async function get<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v);
  const qs = q.toString();
  const version = sessionVersion;
  return parse<T>(await fetch(`/api${path}${qs ? `?${qs}` : ""}`, { credentials: "same-origin", headers: { accept: "application/json" } }), version);
}

/** Fetches a fresh session (set by the app: it also repaints what depends on the session). */
let renewSession: (() => Promise<void>) | undefined;

export function onStaleSession(fn: () => Promise<void>): void {
  renewSession = fn;
}

/**
 * POSTs; when the dashboard no longer knows the session (it restarted, or the session idled out),
 * the server refuses the CSRF token and did nothing, so the session is renewed and the POST sent
 * once more.
 */
export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  try {
    return await postOnce<T>(path, body);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === "CSRF") || !renewSession) throw err;
    await renewSession();
    return postOnce<T>(path, body);
  }
}

async function postOnce<T>(path: string, body: unknown): Promise<T> {
  const version = sessionVersion;
  return parse<T>(
    await fetch(`/api${path}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json", "x-taskorch-csrf": csrfToken },
      body: JSON.stringify(body),
    }),
    version,
  );
}

/** A message an operator can act on. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === "PERMISSION_DENIED") return `Not allowed: this API token lacks the permission for that (${err.message}).`;
    if (err.code === "UNAUTHENTICATED") return "This cluster requires an API token: sign in with one.";
    if (err.code === "UNAVAILABLE") return `The cluster does not answer: ${err.message}`;
    return `${err.message} (${err.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}
