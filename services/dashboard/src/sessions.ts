/**
 * Browser sessions: an HttpOnly, SameSite=Strict cookie names a server-side session holding the CSRF
 * token and, when the operator pasted one, the API token. The API token never reaches the page's
 * JavaScript or a URL, so neither an XSS payload reading storage nor a log of URLs can leak it.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "taskorch_dashboard";

export interface Session {
  id: string;
  csrfToken: string;
  /** API token forwarded as `authorization: Bearer` to gRPC; undefined without one. */
  token?: string;
  lastSeen: number;
}

export interface SessionStoreConfig {
  /** Sessions unused this long are forgotten (default 12h). */
  idleMs?: number;
  /** At most this many sessions; the least recently used go first (default 10000). */
  max?: number;
  nowFunc?: () => number;
}

/** Key of the sampler and client a session uses: one per distinct API token ("" without one). */
export function tokenKey(token: string | undefined): string {
  return token === undefined ? "" : createHash("sha256").update(token).digest("hex");
}

/** Constant-time string comparison for secrets. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const newSecret = () => randomBytes(24).toString("base64url");

/**
 * How long the id of a session replaced by a sign-in or sign-out is remembered: a request the page
 * sent just before the replacement may reach the server after it (well within this).
 */
const REPLACED_TTL_MS = 60_000;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  /** Ids of sessions replaced lately (sign-in, sign-out), with the time each was replaced. */
  private readonly replaced = new Map<string, number>();
  private readonly idleMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(config: SessionStoreConfig = {}) {
    this.idleMs = config.idleMs ?? 12 * 3_600_000;
    this.max = config.max ?? 10_000;
    this.now = config.nowFunc ?? Date.now;
  }

  /** The live session named by the request's cookie header, if any (touching it). */
  fromCookie(cookieHeader: string | undefined): Session | undefined {
    const id = parseCookies(cookieHeader)[SESSION_COOKIE];
    if (id === undefined) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (this.now() - s.lastSeen > this.idleMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeen = this.now();
    // Map order is the LRU order.
    this.sessions.delete(id);
    this.sessions.set(id, s);
    return s;
  }

  /** A new session (a new id and CSRF token: used at first visit and whenever the token changes). */
  create(token?: string): Session {
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    const s: Session = { id: newSecret(), csrfToken: newSecret(), lastSeen: this.now() };
    if (token !== undefined) s.token = token;
    this.sessions.set(s.id, s);
    return s;
  }

  /**
   * Ends `old` and starts its successor (sign-in, sign-out). The old id is remembered for a while:
   * see wasReplaced.
   */
  replace(old: Session, token?: string): Session {
    this.sessions.delete(old.id);
    if (old.id !== "") {
      while (this.replaced.size >= this.max) this.replaced.delete(this.replaced.keys().next().value!);
      this.replaced.set(old.id, this.now());
    }
    return this.create(token);
  }

  /**
   * Whether the request's cookie names a session replaced lately. Such a request was sent before
   * the page learned of the sign-in or sign-out; answering it with a new session's cookie would
   * overwrite the one the sign-in just set, and sign the browser out again.
   */
  wasReplaced(cookieHeader: string | undefined): boolean {
    const id = parseCookies(cookieHeader)[SESSION_COOKIE];
    const at = id === undefined ? undefined : this.replaced.get(id);
    return at !== undefined && this.now() - at <= REPLACED_TTL_MS;
  }

  /** A signed-out session that is not kept and has no cookie: it answers one request. */
  static transient(): Session {
    return { id: "", csrfToken: newSecret(), lastSeen: 0 };
  }

  /** Forgets idle sessions; returns the token keys still in use. */
  sweep(): Set<string> {
    const keys = new Set<string>();
    for (const [id, s] of this.sessions) {
      if (this.now() - s.lastSeen > this.idleMs) this.sessions.delete(id);
      else keys.add(tokenKey(s.token));
    }
    for (const [id, at] of this.replaced) if (this.now() - at > REPLACED_TTL_MS) this.replaced.delete(id);
    return keys;
  }

  /** The Set-Cookie value for a session (Secure when the request came over TLS). */
  static cookie(s: Session, secure: boolean): string {
    return `${SESSION_COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}
