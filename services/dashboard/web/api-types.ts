/**
 * The JSON the dashboard's HTTP API sends, shared by the server (type-only import) and the browser.
 * Times are ISO-8601 strings; counts that hit the sampling limit carry `truncated: true` (a lower bound).
 */

export type TaskStatus = "pending" | "queued" | "running" | "succeeded" | "dead_letter" | "canceled";

/** A task as the API returns it (the client's Task with ISO times). */
export interface TaskJson {
  id: string;
  type: string;
  queue: string;
  payload: unknown;
  priority: number;
  status: TaskStatus;
  attempts: number;
  maxAttempts: number;
  runAt?: string;
  timeoutMs?: number;
  idempotencyKey?: string;
  result?: unknown;
  lastError?: string;
  workerId?: string;
  createdAt?: string;
  updatedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  traceId?: string;
}

export interface TaskPageJson {
  tasks: TaskJson[];
  nextPageToken?: string;
}

export interface WorkerJson {
  id: string;
  hostname: string;
  queues: string[];
  capacity: number;
  active: number;
  lastHeartbeat?: string;
  startedAt?: string;
  alive: boolean;
  version: string;
}

export interface LeaderJson {
  leaderId?: string;
  epoch: number;
  expiresAt?: string;
  acquiredAt?: string;
  held: boolean;
}

/** Unfinished and dead-lettered tasks of one (queue, type), counted from ListTasks pages. */
export interface DepthRow {
  queue: string;
  type: string;
  pending: number;
  queued: number;
  running: number;
  dead_letter: number;
}

/** Per-second rates over the rate window; undefined until two samples exist. */
export interface Rates {
  /** "metrics": counters scraped from METRICS_URLS; "tasks": successive ListTasks samples. */
  source: "metrics" | "tasks";
  windowSeconds: number;
  enqueuedPerSec?: number;
  completedPerSec?: number;
  /** Attempts (metrics) or tasks (ListTasks: succeeded vs dead-lettered) that failed, per second. */
  failedPerSec?: number;
  /** succeeded / (succeeded + failed) over the window, 0..1; undefined when nothing finished. */
  successRatio?: number;
  /** True when a sample hit its page limit, so the rate is a lower bound. */
  lowerBound: boolean;
}

/** One snapshot of the cluster, sent on every SSE tick. */
export interface Overview {
  sampledAt: string;
  /** Milliseconds the sample took (the ListTasks/ListWorkers/GetLeader calls). */
  sampleMs: number;
  rates: Rates;
  depth: DepthRow[];
  totals: { pending: number; queued: number; running: number; dead_letter: number };
  /** Status names whose count hit DASHBOARD_COUNT_LIMIT (so the numbers are lower bounds). */
  truncated: string[];
  countLimit: number;
  /** Exact gauges from the leader's /metrics (tasks_pending counts pending + queued), when METRICS_URLS is set. */
  gauges?: { pendingByType: Record<string, number>; runningByType: Record<string, number> };
  workers: { alive: number; dead: number; active: number; capacity: number; list: WorkerJson[] };
  leader: LeaderJson | null;
  /** Errors of the parts that failed in this sample (the rest is still fresh). */
  errors: ApiErrorJson[];
}

export interface ApiErrorJson {
  /** gRPC code name ("UNAUTHENTICATED"), or a dashboard code ("CSRF", "ORIGIN", "BAD_REQUEST"). */
  code: string;
  message: string;
  /** Which call failed ("ListTasks", "ListWorkers", ...), for overview errors. */
  source?: string;
}

export interface SessionJson {
  /** Send back as the X-Taskorch-CSRF header on every POST. */
  csrfToken: string;
  /** True when this session carries an API token. */
  hasToken: boolean;
  jaegerUiUrl?: string;
  version: string;
  pollIntervalMs: number;
}

/** Outcome of a bulk retry: how many went back to their queue, and the ones that did not (at most 50 listed). */
export interface RetryResultJson {
  retried: number;
  failed: { id: string; code: string; message: string }[];
}

export interface SchedulesJson {
  available: boolean;
  message?: string;
  schedules?: unknown[];
}
