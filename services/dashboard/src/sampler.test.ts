import { describe, expect, it } from "vitest";
import type { ListFilter, Task } from "@taskorch/client";
import { loadDashboardConfig, DashboardConfigError } from "./config.js";
import { MetricsScraper, parsePrometheusText } from "./metrics.js";
import { OverviewSampler, type DashboardClient } from "./sampler.js";

let seq = 0;
const id = () => `01a2${String(++seq).padStart(8, "0")}-0000-7000-8000-000000000000`;
const mk = (status: Task["status"], type = "t", queue = "default"): Task => ({ id: id(), type, queue, payload: null, priority: 0, status, attempts: 1, maxAttempts: 3 });

/** An in-memory cluster whose ListTasks pages newest first like the real one. */
function memoryClient(tasks: Task[]): DashboardClient {
  return {
    async list(f: ListFilter = {}) {
      const all = tasks.filter((t) => (!f.status || t.status === f.status) && (!f.type || t.type === f.type) && (!f.queue || t.queue === f.queue)).sort((a, b) => (a.id < b.id ? 1 : -1));
      const from = f.pageToken ? Number(f.pageToken) : 0;
      const size = f.pageSize ?? 100;
      const page = all.slice(from, from + size);
      return from + size < all.length ? { tasks: page, nextPageToken: String(from + size) } : { tasks: page };
    },
    get: async () => Promise.reject(new Error("unused")),
    retry: async () => Promise.reject(new Error("unused")),
    cancel: async () => Promise.reject(new Error("unused")),
    listWorkers: async () => [
      { id: "w1", hostname: "h", queues: ["default"], capacity: 10, active: 4, alive: true, version: "0.1.0" },
      { id: "w2", hostname: "h", queues: ["default"], capacity: 10, active: 0, alive: false, version: "0.1.0" },
    ],
    getLeader: async () => ({ leaderId: "c1", epoch: 2, held: true }),
  };
}

describe("OverviewSampler", () => {
  it("counts depth by queue and type, caps counts, and computes rates from successive ListTasks samples", async () => {
    const tasks: Task[] = [mk("queued", "a"), mk("queued", "a"), mk("running", "b", "q2"), mk("dead_letter", "a"), mk("pending", "a")];
    let now = 0;
    const sampler = new OverviewSampler({ client: memoryClient(tasks), countLimit: 100, rateWindowMs: 10_000, pollIntervalMs: 1000, nowFunc: () => now });
    const first = await sampler.sampleOnce();
    expect(first.totals).toEqual({ pending: 1, queued: 2, running: 1, dead_letter: 1 });
    expect(first.depth).toEqual([
      { queue: "default", type: "a", pending: 1, queued: 2, running: 0, dead_letter: 1 },
      { queue: "q2", type: "b", pending: 0, queued: 0, running: 1, dead_letter: 0 },
    ]);
    expect(first.workers).toMatchObject({ alive: 1, dead: 1, active: 4, capacity: 10 });
    expect(first.leader).toEqual({ leaderId: "c1", epoch: 2, held: true });
    expect(first.rates.enqueuedPerSec).toBeUndefined();

    // In 2 seconds: 4 tasks enqueued, two queued ones succeed, one running one dead-letters.
    now = 2000;
    for (let i = 0; i < 4; i++) tasks.push(mk("queued", "a"));
    tasks[0]!.status = "succeeded";
    tasks[1]!.status = "succeeded";
    tasks[2]!.status = "dead_letter";
    const second = await sampler.sampleOnce();
    expect(second.rates).toMatchObject({ source: "tasks", enqueuedPerSec: 2, completedPerSec: 1, failedPerSec: 0.5, lowerBound: false });
    expect(second.rates.successRatio).toBeCloseTo(2 / 3);
    expect(second.truncated).toEqual([]);
  });

  it("marks counts beyond DASHBOARD_COUNT_LIMIT as lower bounds", async () => {
    const tasks = Array.from({ length: 150 }, () => mk("queued"));
    const o = await new OverviewSampler({ client: memoryClient(tasks), countLimit: 100, rateWindowMs: 10_000, pollIntervalMs: 1000 }).sampleOnce();
    expect(o.totals.queued).toBe(100);
    expect(o.truncated).toEqual(["queued"]);
  });

  it("reports failed calls per part and keeps the rest", async () => {
    const client = memoryClient([mk("queued")]);
    client.listWorkers = async () => Promise.reject(new Error("coordinator down"));
    const o = await new OverviewSampler({ client, countLimit: 100, rateWindowMs: 10_000, pollIntervalMs: 1000 }).sampleOnce();
    expect(o.errors).toEqual([{ code: "INTERNAL", message: "coordinator down", source: "ListWorkers" }]);
    expect(o.totals.queued).toBe(1);
  });

  it("computes rates from /metrics counters, folding in restarts", async () => {
    const pages = [
      `tasks_enqueued_total{type="a"} 10\ntasks_completed_total{type="a",status="success"} 5\ntasks_completed_total{type="a",status="failed"} 1\nleader_status{worker_id="c"} 1\ntasks_pending{type="a"} 7`,
      `tasks_enqueued_total{type="a"} 30\ntasks_completed_total{type="a",status="success"} 15\ntasks_completed_total{type="a",status="failed"} 1\nleader_status{worker_id="c"} 1\ntasks_pending{type="a"} 9`,
      // restart: counters start over
      `tasks_enqueued_total{type="a"} 4\ntasks_completed_total{type="a",status="success"} 4\ntasks_completed_total{type="a",status="failed"} 0`,
    ];
    let i = 0;
    const scraper = new MetricsScraper(["http://m/metrics"], async () => ({ ok: true, status: 200, text: async () => pages[i++]! }));
    let now = 0;
    const sampler = new OverviewSampler({ client: memoryClient([]), scraper, countLimit: 100, rateWindowMs: 60_000, pollIntervalMs: 1000, nowFunc: () => now });
    await sampler.sampleOnce();
    now = 10_000;
    const o = await sampler.sampleOnce();
    expect(o.rates).toMatchObject({ source: "metrics", enqueuedPerSec: 2, completedPerSec: 1, failedPerSec: 0 });
    expect(o.gauges?.pendingByType).toEqual({ a: 9 });
    now = 20_000;
    const r = await sampler.sampleOnce();
    expect(r.rates.enqueuedPerSec).toBeCloseTo((20 + 4) / 20);
  });
});

describe("parsePrometheusText", () => {
  it("reads names, labels and values and skips comments", () => {
    expect(parsePrometheusText('# HELP x\nx_total{a="1",b="q\\"x"} 3\ny 4.5 1700000000\n')).toEqual([
      { name: "x_total", labels: { a: "1", b: 'q"x' }, value: 3 },
      { name: "y", labels: {}, value: 4.5 },
    ]);
  });
});

describe("loadDashboardConfig", () => {
  it("has the documented defaults", () => {
    expect(loadDashboardConfig({})).toMatchObject({ schedulerAddr: "127.0.0.1:50051", coordinatorAddr: "127.0.0.1:50052", host: "127.0.0.1", port: 8080, metricsUrls: [], corsOrigins: [], pollIntervalMs: 2000 });
  });
  it("names the variable and the value on bad input", () => {
    expect(() => loadDashboardConfig({ DASHBOARD_PORT: "http" })).toThrow(/DASHBOARD_PORT="http" is invalid/);
    expect(() => loadDashboardConfig({ SCHEDULER_ADDR: "localhost" })).toThrow(DashboardConfigError);
    expect(() => loadDashboardConfig({ DASHBOARD_CORS_ORIGINS: "https://a.example/path" })).toThrow(/DASHBOARD_CORS_ORIGINS/);
    expect(() => loadDashboardConfig({ METRICS_URLS: "ftp://x" })).toThrow(/METRICS_URLS/);
  });
  it("parses lists and trims the Jaeger URL", () => {
    const c = loadDashboardConfig({ METRICS_URLS: "http://a:9090/metrics, http://b:9091/metrics", JAEGER_UI_URL: "http://jaeger:16686/", DASHBOARD_CORS_ORIGINS: "https://ops.example.com" });
    expect(c.metricsUrls).toHaveLength(2);
    expect(c.jaegerUiUrl).toBe("http://jaeger:16686");
    expect(c.corsOrigins).toEqual(["https://ops.example.com"]);
  });
});
