/**
 * Prometheus text exposition → samples, and the counters and gauges the overview needs from the
 * METRICS_URLS endpoints. Counters are made monotonic per endpoint (a drop means the process
 * restarted, so the new value is all new), then summed across endpoints.
 */

/** One line of a /metrics page. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text format (comments and malformed lines are skipped). */
export function parsePrometheusText(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_s, c: string) => (c === "n" ? "\n" : c));
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Sum of every series of `name` whose labels include `match`. */
export function sumOf(samples: MetricSample[], name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  return total;
}

/** The counters rates are computed from, as read from one endpoint. */
export interface CounterReading {
  enqueued: number;
  succeeded: number;
  failed: number;
}

/** What one scrape round found. */
export interface MetricsRound {
  /** Monotonic totals across endpoints (restarts folded in). */
  totals: CounterReading;
  /** Endpoints that answered. */
  answered: number;
  errors: { url: string; message: string }[];
  /** Gauges of the leader's endpoint (or the largest value per type when no endpoint says it leads). */
  gauges?: { pendingByType: Record<string, number>; runningByType: Record<string, number> };
}

/** Scrapes METRICS_URLS and keeps the per-endpoint state that makes counters monotonic. */
export class MetricsScraper {
  private readonly last = new Map<string, CounterReading>();
  private readonly totals: CounterReading = { enqueued: 0, succeeded: 0, failed: 0 };

  constructor(
    private readonly urls: string[],
    private readonly fetchFunc: (url: string, init: { signal: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }> = fetch,
    private readonly timeoutMs = 2000,
  ) {}

  get enabled(): boolean {
    return this.urls.length > 0;
  }

  async scrape(): Promise<MetricsRound> {
    const errors: MetricsRound["errors"] = [];
    const pages = await Promise.all(
      this.urls.map(async (url) => {
        try {
          const res = await this.fetchFunc(url, { signal: AbortSignal.timeout(this.timeoutMs) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          return { url, samples: parsePrometheusText(await res.text()) };
        } catch (err) {
          errors.push({ url, message: err instanceof Error ? err.message : String(err) });
          return undefined;
        }
      }),
    );
    let answered = 0;
    const gaugePages: { leader: boolean; samples: MetricSample[] }[] = [];
    for (const page of pages) {
      if (!page) continue;
      answered++;
      const reading: CounterReading = {
        enqueued: sumOf(page.samples, "tasks_enqueued_total"),
        succeeded: sumOf(page.samples, "tasks_completed_total", { status: "success" }),
        failed: sumOf(page.samples, "tasks_completed_total", { status: "failed" }),
      };
      const prev = this.last.get(page.url);
      for (const k of ["enqueued", "succeeded", "failed"] as const) {
        // First reading of an endpoint is its baseline, not new work (the rate covers what happens while we watch).
        if (prev) this.totals[k] += reading[k] >= prev[k] ? reading[k] - prev[k] : reading[k];
      }
      this.last.set(page.url, reading);
      if (page.samples.some((s) => s.name === "tasks_pending" || s.name === "tasks_running")) {
        gaugePages.push({ leader: sumOf(page.samples, "leader_status") >= 1, samples: page.samples });
      }
    }
    const round: MetricsRound = { totals: { ...this.totals }, answered, errors };
    if (gaugePages.length > 0) {
      const leaders = gaugePages.filter((p) => p.leader);
      const use = leaders.length > 0 ? leaders : gaugePages;
      const byType = (name: string) => {
        const out: Record<string, number> = {};
        for (const p of use) for (const s of p.samples) if (s.name === name && s.labels.type !== undefined) out[s.labels.type] = Math.max(out[s.labels.type] ?? 0, s.value);
        return out;
      };
      round.gauges = { pendingByType: byType("tasks_pending"), runningByType: byType("tasks_running") };
    }
    return round;
  }
}
