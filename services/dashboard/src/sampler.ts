/**
 * OverviewSampler: one loop per API token that samples the cluster and hands every snapshot to the
 * SSE streams watching it. However many browsers are open, the cluster sees one sampler per token.
 *
 * A sample (every DASHBOARD_POLL_INTERVAL, and never two at once: the next one is scheduled when
 * the previous one ends, so a slow cluster slows the dashboard instead of piling calls up):
 *   - GetLeader and ListWorkers on the coordinator;
 *   - ListTasks pages (1000 per page, keyset) of pending, queued, running and dead_letter tasks, at most
 *     DASHBOARD_COUNT_LIMIT per status: depth by (queue, type) and the dead-letter count. A status that
 *     hit the limit is listed in `truncated` and its counts are lower bounds;
 *   - rates, from one of two sources:
 *     - `metrics` (METRICS_URLS set): tasks_enqueued_total and tasks_completed_total{status} summed over
 *       the endpoints, made monotonic per endpoint; rate = Δcounter / Δtime over DASHBOARD_RATE_WINDOW.
 *       Failures are failed attempts (retried or not).
 *     - `tasks` (no METRICS_URLS): successive ListTasks samples. Enqueued = ids newer than the newest
 *       id of the previous sample (UUIDv7 ids sort by creation) in the newest page of all tasks;
 *       completed = ids in the newest succeeded page that were not in the previous one (and not older
 *       than its oldest id); failed = new ids among the dead-letter pages. Each sample's increments
 *       are summed and averaged over the window like counters. A page made only of new ids means
 *       more happened than one page shows: the rate is then flagged as a lower bound.
 * A failed call leaves its part of the snapshot empty and adds an entry to `errors`; the sampler
 * keeps going (an UNAUTHENTICATED error is how the UI learns it needs a token).
 */
import type { Task, TaskorchClient, TaskStatus } from "@taskorch/client";
import { isServiceError, statusName, TaskorchClientError } from "@taskorch/client";
import type { ApiErrorJson, DepthRow, Overview, Rates } from "../web/api-types.js";
import type { MetricsScraper } from "./metrics.js";

/** The part of TaskorchClient the dashboard uses (tests pass fakes). */
export type DashboardClient = Pick<TaskorchClient, "list" | "get" | "retry" | "cancel" | "listWorkers" | "getLeader">;

export interface SamplerConfig {
  client: DashboardClient;
  /** Exact rates and gauges from /metrics, when configured. */
  scraper?: MetricsScraper;
  countLimit: number;
  rateWindowMs: number;
  pollIntervalMs: number;
  /** Deadline of each call of a sample. */
  deadlineMs?: number;
  nowFunc?: () => number;
  onError?: (err: unknown) => void;
}

const PAGE = 1000;
/** All a sample reads of a task: small pages whatever the tasks' payloads and results. */
const FIELDS = ["id", "queue", "type", "status"] as const;
const COUNTED: readonly (TaskStatus & keyof DepthRow)[] = ["pending", "queued", "running", "dead_letter"];

interface Totals {
  enqueued: number;
  succeeded: number;
  failed: number;
}

interface HistoryEntry {
  at: number;
  totals: Totals;
  lowerBound: boolean;
}

/** The error as the API reports it (gRPC code name when there is one). */
export function apiErrorOf(err: unknown, source?: string): ApiErrorJson {
  const out: ApiErrorJson =
    err instanceof TaskorchClientError
      ? { code: err.codeName, message: err.details || err.message }
      : isServiceError(err)
        ? { code: statusName(err.code), message: err.details || err.message }
        : { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) };
  if (source !== undefined) out.source = source;
  return out;
}

export class OverviewSampler {
  private readonly cfg: SamplerConfig;
  private readonly now: () => number;
  private readonly listeners = new Set<(o: Overview) => void>();
  private readonly history: HistoryEntry[] = [];
  private readonly taskTotals: Totals = { enqueued: 0, succeeded: 0, failed: 0 };
  private prevNewestId: string | undefined;
  private prevSucceeded: { ids: Set<string>; oldest: string } | undefined;
  private prevDead: { ids: Set<string>; oldest: string } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Overview> | undefined;
  private stopped = true;
  /** The newest snapshot, undefined before the first sample ends. */
  latest: Overview | undefined;

  constructor(cfg: SamplerConfig) {
    this.cfg = cfg;
    this.now = cfg.nowFunc ?? Date.now;
  }

  /** Number of listeners; the server stops idle samplers. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Calls `fn` with every new snapshot (and at once with the latest); starts the loop. Returns the unsubscribe function. */
  subscribe(fn: (o: Overview) => void): () => void {
    this.listeners.add(fn);
    if (this.latest) fn(this.latest);
    this.start();
    return () => {
      this.listeners.delete(fn);
    };
  }

  /** The latest snapshot, sampling now when there is none yet. */
  async current(): Promise<Overview> {
    if (!this.stopped && this.latest) return this.latest;
    return this.running ?? this.sampleOnce();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      try {
        await (this.running ?? this.sampleOnce());
      } catch (err) {
        this.cfg.onError?.(err);
      }
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.cfg.pollIntervalMs);
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One sample: asks the cluster, updates the rates, notifies listeners. Tests call it directly. */
  sampleOnce(): Promise<Overview> {
    if (this.running) return this.running;
    this.running = this.sample().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sample(): Promise<Overview> {
    const started = this.now();
    const { client } = this.cfg;
    const opts = { deadlineMs: this.cfg.deadlineMs ?? 10_000 };
    const errors: ApiErrorJson[] = [];
    const settle = async <T>(source: string, p: Promise<T>): Promise<T | undefined> => {
      try {
        return await p;
      } catch (err) {
        errors.push(apiErrorOf(err, source));
        return undefined;
      }
    };
    const countStatus = async (status: TaskStatus) => {
      const tasks: Task[] = [];
      let pageToken: string | undefined;
      do {
        const page = await client.list({ status, pageSize: Math.min(PAGE, this.cfg.countLimit - tasks.length), pageToken, fields: FIELDS }, opts);
        tasks.push(...page.tasks);
        pageToken = page.nextPageToken;
      } while (pageToken !== undefined && tasks.length < this.cfg.countLimit);
      return { status, tasks, truncated: pageToken !== undefined };
    };
    const useMetrics = this.cfg.scraper?.enabled === true;
    const [leader, workers, metrics, newest, succeeded, ...counts] = await Promise.all([
      settle("GetLeader", client.getLeader(opts)),
      settle("ListWorkers", client.listWorkers(opts)),
      useMetrics ? this.cfg.scraper!.scrape() : Promise.resolve(undefined),
      useMetrics ? Promise.resolve(undefined) : settle("ListTasks", client.list({ pageSize: PAGE, fields: FIELDS }, opts)),
      useMetrics ? Promise.resolve(undefined) : settle("ListTasks", client.list({ status: "succeeded", pageSize: PAGE, fields: FIELDS }, opts)),
      ...COUNTED.map((s) => settle("ListTasks", countStatus(s))),
    ]);
    for (const e of metrics?.errors ?? []) errors.push({ code: "METRICS", message: `${e.url}: ${e.message}`, source: "metrics" });

    const depth = new Map<string, DepthRow>();
    const totals = { pending: 0, queued: 0, running: 0, dead_letter: 0 };
    const truncated: string[] = [];
    for (const c of counts) {
      if (!c) continue;
      if (c.truncated) truncated.push(c.status);
      for (const t of c.tasks) {
        const key = `${t.queue}\u0000${t.type}`;
        let row = depth.get(key);
        if (!row) depth.set(key, (row = { queue: t.queue, type: t.type, pending: 0, queued: 0, running: 0, dead_letter: 0 }));
        row[c.status as keyof typeof totals]++;
        totals[c.status as keyof typeof totals]++;
      }
    }

    // Rates.
    const at = this.now();
    let entry: HistoryEntry | undefined;
    if (useMetrics) {
      if (metrics && metrics.answered > 0) entry = { at, totals: metrics.totals, lowerBound: false };
    } else {
      const dead = counts.find((c) => c?.status === "dead_letter");
      entry = this.taskSourceEntry(at, newest?.tasks, succeeded?.tasks, dead?.tasks);
    }
    if (entry) this.history.push(entry);
    const rates = this.rates(useMetrics ? "metrics" : "tasks", at);

    const list = workers ?? [];
    const alive = list.filter((w) => w.alive);
    const overview: Overview = {
      sampledAt: new Date(at).toISOString(),
      sampleMs: at - started,
      rates,
      depth: [...depth.values()].sort((a, b) => a.queue.localeCompare(b.queue) || a.type.localeCompare(b.type)),
      totals,
      truncated,
      countLimit: this.cfg.countLimit,
      workers: {
        alive: alive.length,
        dead: list.length - alive.length,
        active: alive.reduce((n, w) => n + w.active, 0),
        capacity: alive.reduce((n, w) => n + w.capacity, 0),
        list: JSON.parse(JSON.stringify(list)) as Overview["workers"]["list"],
      },
      leader: leader ? (JSON.parse(JSON.stringify(leader)) as Overview["leader"]) : null,
      errors,
    };
    if (metrics?.gauges) overview.gauges = metrics.gauges;
    this.latest = overview;
    for (const fn of this.listeners) {
      try {
        fn(overview);
      } catch (err) {
        this.cfg.onError?.(err);
      }
    }
    return overview;
  }

  /** Folds one ListTasks sample into the running totals (see the top of the file). */
  private taskSourceEntry(at: number, newest: Task[] | undefined, succeeded: Task[] | undefined, dead: Task[] | undefined): HistoryEntry | undefined {
    if (!newest || !succeeded || !dead) return undefined;
    let lowerBound = false;
    if (this.prevNewestId !== undefined) {
      const fresh = newest.filter((t) => t.id > this.prevNewestId!).length;
      this.taskTotals.enqueued += fresh;
      if (fresh === PAGE) lowerBound = true;
    }
    if (newest[0]) this.prevNewestId = newest[0].id;
    const diff = (prev: { ids: Set<string>; oldest: string } | undefined, tasks: Task[], full: boolean) => {
      const ids = new Set(tasks.map((t) => t.id));
      const oldest = full ? (tasks[tasks.length - 1]?.id ?? "") : "";
      const added = prev ? tasks.filter((t) => !prev.ids.has(t.id) && t.id >= prev.oldest).length : 0;
      return { next: { ids, oldest }, added, allNew: prev !== undefined && tasks.length > 0 && added === tasks.length && full };
    };
    const s = diff(this.prevSucceeded, succeeded, succeeded.length >= PAGE);
    const d = diff(this.prevDead, dead, dead.length >= this.cfg.countLimit);
    this.taskTotals.succeeded += s.added;
    this.taskTotals.failed += d.added;
    lowerBound ||= s.allNew || d.allNew;
    this.prevSucceeded = s.next;
    this.prevDead = d.next;
    return { at, totals: { ...this.taskTotals }, lowerBound };
  }

  private rates(source: Rates["source"], at: number): Rates {
    // Keep one entry at or before the window's start so the window is always covered.
    while (this.history.length > 2 && this.history[1]!.at <= at - this.cfg.rateWindowMs) this.history.shift();
    const rates: Rates = { source, windowSeconds: this.cfg.rateWindowMs / 1000, lowerBound: this.history.some((h) => h.lowerBound) };
    const first = this.history[0];
    const last = this.history[this.history.length - 1];
    if (!first || !last || last === first || last.at <= first.at) return rates;
    const secs = (last.at - first.at) / 1000;
    const d = (k: keyof Totals) => last.totals[k] - first.totals[k];
    rates.enqueuedPerSec = d("enqueued") / secs;
    rates.completedPerSec = d("succeeded") / secs;
    rates.failedPerSec = d("failed") / secs;
    const finished = d("succeeded") + d("failed");
    if (finished > 0) rates.successRatio = d("succeeded") / finished;
    return rates;
  }
}
