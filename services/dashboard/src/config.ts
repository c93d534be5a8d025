/**
 * DashboardConfig: the dashboard's settings, read from the environment once by `loadDashboardConfig`
 * (pure: tests pass their own env). A bad value throws DashboardConfigError naming the variable, the
 * value and what was expected, like libs/config does for the other services.
 */
import { parseDuration } from "@taskorch/domain";

export interface DashboardConfig {
  /** SCHEDULER_ADDR: host:port of a scheduler (SchedulerService). */
  schedulerAddr: string;
  /** COORDINATOR_ADDR: host:port of a coordinator (CoordinatorService). */
  coordinatorAddr: string;
  /** DASHBOARD_HOST: interface to listen on. */
  host: string;
  /** DASHBOARD_PORT: HTTP port (0 picks a free one). */
  port: number;
  /** JAEGER_UI_URL: base of the Jaeger UI; task pages link to `<url>/trace/<trace_id>`. */
  jaegerUiUrl?: string;
  /** METRICS_URLS: /metrics endpoints whose counters give exact rates. */
  metricsUrls: string[];
  /** DASHBOARD_CORS_ORIGINS: origins allowed to call the API from another site (none by default). */
  corsOrigins: string[];
  /** DASHBOARD_POLL_INTERVAL: how often the shared sampler asks the cluster (default 2s). */
  pollIntervalMs: number;
  /** DASHBOARD_COUNT_LIMIT: most tasks counted per status and sample (default 2000); beyond it counts are lower bounds. */
  countLimit: number;
  /** DASHBOARD_RATE_WINDOW: the window rates are averaged over (default 30s). */
  rateWindowMs: number;
  /** DEBUG=true: debug logs. */
  debug: boolean;
  /** LOG_FORMAT: json | pretty | auto. */
  logFormat: "json" | "pretty" | "auto";
}

/** A setting the dashboard cannot start with. */
export class DashboardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DashboardConfigError";
  }
}

/** Defaults of every setting, for docs and tests. */
export const DASHBOARD_DEFAULTS = {
  schedulerAddr: "127.0.0.1:50051",
  coordinatorAddr: "127.0.0.1:50052",
  host: "127.0.0.1",
  port: 8080,
  pollIntervalMs: 2000,
  countLimit: 2000,
  rateWindowMs: 30_000,
} as const;

type Env = Record<string, string | undefined>;

/** Reads the dashboard's settings from `env` (default process.env); throws DashboardConfigError on a bad value. */
export function loadDashboardConfig(env: Env = process.env): DashboardConfig {
  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const bad = (name: string, value: string, expected: string) => new DashboardConfigError(`${name}=${JSON.stringify(value)} is invalid: expected ${expected}`);
  const addr = (name: string, def: string) => {
    const v = str(name) ?? def;
    if (!/^[^\s/]+:\d{1,5}$/.test(v)) throw bad(name, v, "host:port, e.g. 127.0.0.1:50051");
    return v;
  };
  const int = (name: string, def: number, min: number, max: number) => {
    const v = str(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw bad(name, v, `an integer from ${min} to ${max}`);
    return n;
  };
  const duration = (name: string, def: number, minMs: number) => {
    const v = str(name);
    if (v === undefined) return def;
    const ms = parseDuration(v);
    if (ms === undefined || ms < minMs) throw bad(name, v, `a duration of at least ${minMs}ms such as "2s" or "500ms"`);
    return ms;
  };
  const urls = (name: string, check: (u: URL) => boolean, expected: string): string[] => {
    const v = str(name);
    if (v === undefined) return [];
    return v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
      .map((s) => {
        let u: URL;
        try {
          u = new URL(s);
        } catch {
          throw bad(name, s, expected);
        }
        if (!(u.protocol === "http:" || u.protocol === "https:") || !check(u)) throw bad(name, s, expected);
        return s;
      });
  };
  const jaeger = urls("JAEGER_UI_URL", () => true, "an http(s) URL such as http://localhost:16686");
  if (jaeger.length > 1) throw bad("JAEGER_UI_URL", str("JAEGER_UI_URL")!, "one URL");
  const corsOrigins = urls("DASHBOARD_CORS_ORIGINS", (u) => (u.pathname === "/" || u.pathname === "") && u.search === "" && u.hash === "", "comma-separated origins such as https://ops.example.com (scheme, host and port only)").map(
    (s) => new URL(s).origin,
  );
  const logFormat = str("LOG_FORMAT") ?? "auto";
  if (logFormat !== "json" && logFormat !== "pretty" && logFormat !== "auto") throw bad("LOG_FORMAT", logFormat, "json, pretty or auto");
  const debug = str("DEBUG") ?? "false";
  if (debug !== "true" && debug !== "false") throw bad("DEBUG", debug, "true or false");
  const config: DashboardConfig = {
    schedulerAddr: addr("SCHEDULER_ADDR", DASHBOARD_DEFAULTS.schedulerAddr),
    coordinatorAddr: addr("COORDINATOR_ADDR", DASHBOARD_DEFAULTS.coordinatorAddr),
    host: str("DASHBOARD_HOST") ?? DASHBOARD_DEFAULTS.host,
    port: int("DASHBOARD_PORT", DASHBOARD_DEFAULTS.port, 0, 65535),
    metricsUrls: urls("METRICS_URLS", () => true, "comma-separated http(s) URLs of /metrics endpoints"),
    corsOrigins,
    pollIntervalMs: duration("DASHBOARD_POLL_INTERVAL", DASHBOARD_DEFAULTS.pollIntervalMs, 250),
    countLimit: int("DASHBOARD_COUNT_LIMIT", DASHBOARD_DEFAULTS.countLimit, 100, 1_000_000),
    rateWindowMs: duration("DASHBOARD_RATE_WINDOW", DASHBOARD_DEFAULTS.rateWindowMs, 1000),
    debug: debug === "true",
    logFormat,
  };
  if (jaeger[0] !== undefined) config.jaegerUiUrl = jaeger[0].replace(/\/+$/, "");
  return Object.freeze(config);
}
