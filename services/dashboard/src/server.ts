/**
 * The dashboard's HTTP server: the static UI (built at build time, served from this package) and the
 * small JSON API it needs, every call going to the cluster through @taskorch/client.
 *
 * Security model:
 *   - Sessions are cookies (sessions.ts). With API tokens enabled on the cluster, calls without a token
 *     fail UNAUTHENTICATED and the UI asks for one; the token is forwarded as `authorization: Bearer`.
 *     Actions need the token's operate permission (PERMISSION_DENIED otherwise, shown as such).
 *   - Every POST must carry the session's CSRF token in X-Taskorch-CSRF and a JSON content type (which
 *     a cross-site form cannot send), and its Origin, when present, must be this site or an allowed one.
 *   - CORS is closed unless DASHBOARD_CORS_ORIGINS lists origins.
 *   - Bound to a loopback address, only loopback Host names are served (DNS rebinding).
 *   - A strict Content-Security-Policy: the page loads only its own scripts and styles.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { TaskorchClient, isTaskStatus, type Task } from "@taskorch/client";
import { VERSION } from "@taskorch/domain";
import { grpcClientMetricsInterceptor } from "@taskorch/rpc";
import { registry } from "@taskorch/telemetry";
import type { ApiErrorJson, RetryResultJson, SchedulesJson, SessionJson } from "../web/api-types.js";
import type { DashboardConfig } from "./config.js";
import { MetricsScraper } from "./metrics.js";
import { apiErrorOf, OverviewSampler, type DashboardClient } from "./sampler.js";
import { safeEqual, SessionStore, tokenKey, type Session } from "./sessions.js";

/** The logging the dashboard does (pino's Logger fits). */
export interface DashboardLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface DashboardOptions {
  logger?: DashboardLogger;
  /** Makes the client for one API token (tests pass fakes). Default: a TaskorchClient on the configured addresses. */
  clientFunc?: (token: string | undefined) => DashboardClient & { close?(): void };
  /** Replaces fetch for METRICS_URLS (tests). */
  fetchFunc?: ConstructorParameters<typeof MetricsScraper>[1];
}

/** A running dashboard. */
export interface DashboardServer {
  /** The URL it serves, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  /** Stops accepting connections, ends the live streams, closes the gRPC channels. */
  close(): Promise<void>;
}

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
const STATIC_DIR = join(PACKAGE_ROOT, "static");
const BUNDLE_DIR = join(PACKAGE_ROOT, "dist", "public");
const CSRF_HEADER = "x-taskorch-csrf";
const MAX_BODY = 256 * 1024;
const MAX_IDS = 1000;
const RETRY_CONCURRENCY = 8;
const SSE_PING_MS = 15_000;
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;
const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".map": "application/json",
};
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const NOOP_LOGGER: DashboardLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** An error answered as JSON with an HTTP status. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** HTTP status for a gRPC code name. */
export function httpStatusOf(code: string): number {
  switch (code) {
    case "UNAUTHENTICATED":
      return 401;
    case "PERMISSION_DENIED":
      return 403;
    case "NOT_FOUND":
      return 404;
    case "INVALID_ARGUMENT":
    case "OUT_OF_RANGE":
      return 400;
    case "FAILED_PRECONDITION":
    case "ALREADY_EXISTS":
    case "ABORTED":
      return 409;
    case "RESOURCE_EXHAUSTED":
      return 429;
    case "UNIMPLEMENTED":
      return 501;
    case "UNAVAILABLE":
      return 503;
    case "DEADLINE_EXCEEDED":
      return 504;
    default:
      return 502;
  }
}

interface Backend {
  client: DashboardClient & { close?(): void };
  sampler: OverviewSampler;
}

/**
 * Starts the dashboard: listens on config.host:config.port and serves the UI and its API.
 *
 * @example
 * const dash = await startDashboard(loadDashboardConfig(process.env), { logger });
 * console.log(`dashboard on ${dash.url}`);
 * // on SIGTERM: await dash.close();
 */
export async function startDashboard(config: DashboardConfig, options: DashboardOptions = {}): Promise<DashboardServer> {
  const log = options.logger ?? NOOP_LOGGER;
  const sessions = new SessionStore();
  const backends = new Map<string, Backend>();
  const streams = new Set<ServerResponse>();
  const staticCache = new Map<string, Buffer>();
  const clientFunc =
    options.clientFunc ??
    ((token: string | undefined) =>
      new TaskorchClient({
        address: config.schedulerAddr,
        coordinatorAddress: config.coordinatorAddr,
        interceptors: [grpcClientMetricsInterceptor],
        ...(token === undefined ? {} : { token }),
      }));
  const loopbackOnly = LOOPBACK.test(config.host) || config.host === "::1";

  const backendOf = (session: Session): Backend => {
    const key = tokenKey(session.token);
    let b = backends.get(key);
    if (!b) {
      const client = clientFunc(session.token);
      const sampler = new OverviewSampler({
        client,
        scraper: new MetricsScraper(config.metricsUrls, options.fetchFunc),
        countLimit: config.countLimit,
        rateWindowMs: config.rateWindowMs,
        pollIntervalMs: config.pollIntervalMs,
        onError: (err) => log.error({ err }, "OverviewSampler: sample failed"),
      });
      backends.set(key, (b = { client, sampler }));
    }
    return b;
  };

  // Idle samplers stop (no stream watches them); clients of tokens no session holds any more close.
  const sweeper = setInterval(() => {
    const inUse = sessions.sweep();
    for (const [key, b] of backends) {
      if (b.sampler.listenerCount === 0) b.sampler.stop();
      if (b.sampler.listenerCount === 0 && key !== "" && !inUse.has(key)) {
        b.client.close?.();
        backends.delete(key);
      }
    }
  }, 10_000);
  sweeper.unref();

  const serveStatic = async (res: ServerResponse, name: string) => {
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name) || name.includes("..")) throw new HttpError(404, "NOT_FOUND", "no such asset");
    const ext = name.slice(name.lastIndexOf("."));
    const type = CONTENT_TYPES[ext];
    if (!type) throw new HttpError(404, "NOT_FOUND", "no such asset");
    let body = staticCache.get(name);
    if (!body) {
      for (const dir of [STATIC_DIR, BUNDLE_DIR]) {
        body = await readFile(join(dir, name)).catch(() => undefined);
        if (body) break;
      }
      if (!body) throw new HttpError(404, "NOT_FOUND", name === "app.js" ? "the UI bundle is missing: run `npx tsc -b` (it builds services/dashboard/web)" : "no such asset");
      staticCache.set(name, body);
    }
    res.writeHead(200, { "content-type": type, "cache-control": "no-cache", ...SECURITY_HEADERS });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const path = url.pathname;
    const method = req.method ?? "GET";
    const host = req.headers.host ?? "";
    if (loopbackOnly && !LOOPBACK.test(host)) throw new HttpError(421, "HOST", `host ${JSON.stringify(host)} is not served: the dashboard listens on loopback only`);

    // CORS: closed unless the origin is listed.
    const origin = req.headers.origin;
    const allowedCrossOrigin = origin !== undefined && config.corsOrigins.includes(origin);
    if (allowedCrossOrigin) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-allow-credentials", "true");
      res.setHeader("vary", "Origin");
    }
    if (method === "OPTIONS") {
      if (!allowedCrossOrigin) throw new HttpError(403, "ORIGIN", "cross-origin requests are not allowed (DASHBOARD_CORS_ORIGINS)");
      res.writeHead(204, { "access-control-allow-methods": "GET, POST", "access-control-allow-headers": `content-type, ${CSRF_HEADER}`, "access-control-max-age": "600" });
      res.end();
      return;
    }

    if (method === "GET" && path === "/metrics") {
      // The dashboard's own Prometheus metrics: its gRPC client calls to the cluster, process stats.
      res.writeHead(200, { "content-type": registry.contentType });
      res.end(await registry.metrics());
      return;
    }
    if (method === "GET" && (path === "/" || path === "/index.html")) return serveStatic(res, "index.html");
    if (method === "GET" && path.startsWith("/assets/")) return serveStatic(res, path.slice("/assets/".length));
    if (method === "GET" && path === "/health") return sendJson(res, 200, { status: "ok", version: VERSION });
    if (!path.startsWith("/api/")) throw new HttpError(404, "NOT_FOUND", `no route ${method} ${path}`);

    // Every API call has a session (created at first visit, carrying the CSRF token).
    let session = sessions.fromCookie(req.headers.cookie);
    const secure = req.headers["x-forwarded-proto"] === "https" || (req.socket as { encrypted?: boolean }).encrypted === true;
    if (!session && sessions.wasReplaced(req.headers.cookie)) {
      // Sent before a sign-in or sign-out the browser has since been told of: answer it signed out
      // and leave the cookie alone (a new one would replace the session the sign-in just made).
      session = SessionStore.transient();
    } else if (!session) {
      session = sessions.create();
      res.setHeader("set-cookie", SessionStore.cookie(session, secure));
    }

    if (method === "POST") {
      checkSameOrigin(req, host, allowedCrossOrigin);
      if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) throw new HttpError(415, "BAD_REQUEST", "POST bodies must be application/json");
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== "string" || !safeEqual(sent, session.csrfToken)) throw new HttpError(403, "CSRF", "missing or stale CSRF token: reload the page");
    } else if (method !== "GET") {
      throw new HttpError(405, "BAD_REQUEST", `${method} is not allowed`);
    }

    const backend = () => backendOf(session);
    const segments = path.split("/").filter(Boolean).slice(1); // after "api"
    const route = `${method} /${segments.map((s, i) => (i === 1 && segments[0] === "tasks" && s !== "retry" ? ":id" : s)).join("/")}`;
    const body = method === "POST" ? await readJson(req) : {};

    switch (route) {
      case "GET /session":
        return sendJson(res, 200, sessionJson(session));
      case "POST /session": {
        const token = typeof body.token === "string" ? body.token.trim() : "";
        if (token === "") throw new HttpError(400, "BAD_REQUEST", "token is required");
        if (token.length > 4096 || /[\r\n]/.test(token)) throw new HttpError(400, "BAD_REQUEST", "that does not look like an API token");
        // Check it before keeping it: a token the cluster refuses is reported now, not on every page.
        const probe = clientFunc(token);
        try {
          await probe.list({ pageSize: 1 });
        } catch (err) {
          throw asHttpError(err);
        } finally {
          probe.close?.();
        }
        const fresh = sessions.replace(session, token);
        res.setHeader("set-cookie", SessionStore.cookie(fresh, secure));
        log.info({ session_token: true }, "dashboard: operator signed in with an API token");
        return sendJson(res, 200, sessionJson(fresh));
      }
      case "POST /session/logout": {
        const fresh = sessions.replace(session);
        res.setHeader("set-cookie", SessionStore.cookie(fresh, secure));
        return sendJson(res, 200, sessionJson(fresh));
      }
      case "GET /overview":
        return sendJson(res, 200, await backend().sampler.current());
      case "GET /events":
        return openStream(req, res, backend().sampler);
      case "GET /workers":
        return sendJson(res, 200, { workers: await call(backend().client.listWorkers()) });
      case "GET /leader":
        return sendJson(res, 200, await call(backend().client.getLeader()));
      case "GET /schedules":
        return sendJson(res, 200, await schedules(backend().client));
      case "GET /tasks": {
        const q = url.searchParams;
        const status = q.get("status") || undefined;
        if (status !== undefined && !isTaskStatus(status)) throw new HttpError(400, "BAD_REQUEST", `unknown status ${JSON.stringify(status)}`);
        const pageSize = q.get("pageSize") ? Number(q.get("pageSize")) : 50;
        if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new HttpError(400, "BAD_REQUEST", "pageSize must be an integer from 1 to 1000");
        const filter = { status, type: q.get("type") || undefined, queue: q.get("queue") || undefined, pageSize, pageToken: q.get("pageToken") || undefined };
        return sendJson(res, 200, await call(backend().client.list(filter)));
      }
      case "GET /tasks/:id":
        return sendJson(res, 200, { task: await call(backend().client.get(segments[1]!)) });
      case "POST /tasks/:id/retry":
        return sendJson(res, 200, { task: await action(session, "retry", [segments[1]!], () => backend().client.retry(segments[1]!)) });
      case "POST /tasks/:id/cancel": {
        const reason = typeof body.reason === "string" && body.reason.trim() !== "" ? body.reason.trim().slice(0, 500) : "canceled from the dashboard";
        return sendJson(res, 200, { task: await action(session, "cancel", [segments[1]!], () => backend().client.cancel(segments[1]!, reason)) });
      }
      case "POST /tasks/retry": {
        const ids = body.ids;
        if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS || !ids.every((i) => typeof i === "string" && i !== "")) {
          throw new HttpError(400, "BAD_REQUEST", `ids must be a list of 1 to ${MAX_IDS} task ids`);
        }
        return sendJson(res, 200, await retryMany(session, backend().client, ids as string[]));
      }
      case "POST /dead-letters/retry-all": {
        const type = typeof body.type === "string" ? body.type.trim() : "";
        if (type === "") throw new HttpError(400, "BAD_REQUEST", "type is required: retry-all retries the dead letters of one type");
        const queue = typeof body.queue === "string" && body.queue.trim() !== "" ? body.queue.trim() : undefined;
        return sendJson(res, 200, await retryAllOfType(session, backend().client, type, queue));
      }
      default:
        throw new HttpError(404, "NOT_FOUND", `no route ${method} ${path}`);
    }
  };

  const sessionJson = (s: Session): SessionJson => {
    const out: SessionJson = { csrfToken: s.csrfToken, hasToken: s.token !== undefined, version: VERSION, pollIntervalMs: config.pollIntervalMs };
    if (config.jaegerUiUrl) out.jaegerUiUrl = config.jaegerUiUrl;
    return out;
  };

  const action = async <T>(session: Session, what: string, ids: string[], fn: () => Promise<T>): Promise<T> => {
    try {
      const out = await fn();
      log.info({ action: what, task_ids: ids, with_token: session.token !== undefined }, `dashboard: ${what}`);
      return out;
    } catch (err) {
      log.warn({ action: what, task_ids: ids, err: apiErrorOf(err) }, `dashboard: ${what} failed`);
      throw asHttpError(err);
    }
  };

  const retryMany = async (session: Session, client: DashboardClient, ids: string[]): Promise<RetryResultJson> => {
    const out: RetryResultJson = { retried: 0, failed: [] };
    await eachLimited(ids, RETRY_CONCURRENCY, async (id) => {
      try {
        await client.retry(id);
        out.retried++;
      } catch (err) {
        const e = apiErrorOf(err);
        // Without permission nothing will work: say so instead of listing every id.
        if (e.code === "PERMISSION_DENIED" || e.code === "UNAUTHENTICATED") throw asHttpError(err);
        if (out.failed.length < 50) out.failed.push({ id, code: e.code, message: e.message });
      }
    });
    log.info({ action: "retry", count: out.retried, failed: out.failed.length, with_token: session.token !== undefined }, "dashboard: retry selected");
    return out;
  };

  const retryAllOfType = async (session: Session, client: DashboardClient, type: string, queue: string | undefined): Promise<RetryResultJson> => {
    const out: RetryResultJson = { retried: 0, failed: [] };
    // Keyset paging stays valid while we retry: the cursor is an id, and retried tasks only leave the filter.
    let pageToken: string | undefined;
    do {
      const page = await call(client.list({ status: "dead_letter", type, queue, pageSize: 500, pageToken }));
      const r = await retryMany(session, client, page.tasks.map((t: Task) => t.id));
      out.retried += r.retried;
      for (const f of r.failed) if (out.failed.length < 50) out.failed.push(f);
      pageToken = page.nextPageToken;
    } while (pageToken !== undefined);
    log.info({ action: "retry-all", type, queue, count: out.retried }, "dashboard: retried all dead letters of a type");
    return out;
  };

  const openStream = (req: IncomingMessage, res: ServerResponse, sampler: OverviewSampler) => {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
    res.write("retry: 3000\n\n");
    streams.add(res);
    const send = (event: string, data: unknown) => {
      // A client that does not keep up skips snapshots instead of buffering them: only the newest matters.
      if (res.writableNeedDrain) return;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const unsubscribe = sampler.subscribe((o) => send("overview", o));
    const ping = setInterval(() => res.write(": ping\n\n"), SSE_PING_MS);
    const end = () => {
      clearInterval(ping);
      unsubscribe();
      streams.delete(res);
    };
    req.on("close", end);
    res.on("error", end);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof HttpError ? err : asHttpError(err);
      if (e.status >= 500 && e.code === "INTERNAL") log.error({ err, path: req.url }, "dashboard: request failed");
      if (res.headersSent) {
        res.end();
        return;
      }
      const payload: ApiErrorJson = { code: e.code, message: e.message };
      sendJson(res, e.status, { error: payload });
    });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const urlHost = config.host.includes(":") ? `[${config.host}]` : config.host;
  log.info({ url: `http://${urlHost}:${port}`, scheduler: config.schedulerAddr, coordinator: config.coordinatorAddr, metrics_urls: config.metricsUrls.length }, "dashboard: listening");

  return {
    url: `http://${urlHost}:${port}`,
    port,
    async close() {
      clearInterval(sweeper);
      for (const res of streams) res.end();
      streams.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const b of backends.values()) {
        b.sampler.stop();
        b.client.close?.();
      }
      backends.clear();
      await closed;
    },
  };
}

/** POSTs must come from this site (or an allowed origin): Origin when sent, else Sec-Fetch-Site. */
function checkSameOrigin(req: IncomingMessage, host: string, allowedCrossOrigin: boolean): void {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== "null") {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw new HttpError(403, "ORIGIN", "bad Origin header");
    }
    if (originHost !== host && !allowedCrossOrigin) throw new HttpError(403, "ORIGIN", `cross-origin POST from ${origin} refused`);
    return;
  }
  if (origin === "null") throw new HttpError(403, "ORIGIN", "POSTs from an opaque origin are refused");
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") throw new HttpError(403, "ORIGIN", `cross-site POST (${site}) refused`);
}

async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw asHttpError(err);
  }
}

function asHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = apiErrorOf(err);
  return new HttpError(httpStatusOf(e.code), e.code, e.code === "INTERNAL" ? "internal error (see the dashboard's log)" : e.message);
}

/** Schedules RPCs arrive later: use them when this client has them, say "not available yet" otherwise. */
async function schedules(client: DashboardClient): Promise<SchedulesJson> {
  const fn = (client as unknown as { listSchedules?: () => Promise<unknown> }).listSchedules;
  if (typeof fn !== "function") return { available: false, message: "Schedules are not available yet: this cluster's API has no schedule RPCs." };
  try {
    const res = await fn.call(client);
    const list = Array.isArray(res) ? res : ((res as { schedules?: unknown[] } | undefined)?.schedules ?? []);
    return { available: true, schedules: list };
  } catch (err) {
    const e = apiErrorOf(err);
    if (e.code === "UNIMPLEMENTED") return { available: false, message: "Schedules are not available yet: the scheduler does not implement them." };
    throw asHttpError(err);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, "BAD_REQUEST", "request body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, "BAD_REQUEST", "body is not JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new HttpError(400, "BAD_REQUEST", "body must be a JSON object");
  return parsed as Record<string, unknown>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...SECURITY_HEADERS });
  res.end(text);
}

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}
