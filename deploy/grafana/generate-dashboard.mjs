// Generates dashboards/taskorch.json and the Helm chart's copy. Edit panels here, then run
//   node deploy/grafana/generate-dashboard.mjs          (writes both)
//   node deploy/grafana/generate-dashboard.mjs --check  (exit 1 when a copy is stale; test/deploy runs it)
// Every expr is parsed by promtool in deploy/check.sh.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
/** Where the dashboard lives: compose provisioning and the Helm chart (Grafana sidecar ConfigMap). */
const TARGETS = [here("dashboards/taskorch.json"), here("../helm/taskorch/files/taskorch-dashboard.json")];
const ds = { type: "prometheus", uid: "${datasource}" };
const ns = 'namespace=~"$namespace"';
const nsType = 'namespace=~"$namespace", type=~"$type"';
const R = "$__rate_interval";
let id = 0;
let y = 0;
const panels = [];
function row(title) { panels.push({ type: "row", title, id: ++id, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] }); y += 1; }
let x = 0, rowH = 0;
function place(w, h) { if (x + w > 24) { x = 0; y += rowH; rowH = 0; } const g = { h, w, x, y }; x += w; rowH = Math.max(rowH, h); return g; }
function endRow() { if (x > 0) { y += rowH; x = 0; rowH = 0; } }
function ts(title, description, targets, { unit = "short", w = 8, h = 8, stack = false, min } = {}) {
  panels.push({
    type: "timeseries", id: ++id, title, description, datasource: ds, gridPos: place(w, h),
    fieldConfig: { defaults: { unit, ...(min !== undefined ? { min } : {}), custom: { drawStyle: "line", lineWidth: 1, fillOpacity: stack ? 30 : 10, showPoints: "never", stacking: { mode: stack ? "normal" : "none", group: "A" } } }, overrides: [] },
    options: { legend: { displayMode: "table", placement: "bottom", calcs: ["lastNotNull", "max"], showLegend: true }, tooltip: { mode: "multi", sort: "desc" } },
    targets: targets.map(([expr, legendFormat], i) => ({ datasource: ds, expr, legendFormat, refId: String.fromCharCode(65 + i), range: true })),
  });
}
function stat(title, description, expr, { unit = "short", thresholds, w = 4 } = {}) {
  panels.push({
    type: "stat", id: ++id, title, description, datasource: ds, gridPos: place(w, 4),
    fieldConfig: { defaults: { unit, color: { mode: "thresholds" }, thresholds: { mode: "absolute", steps: thresholds ?? [{ color: "green", value: null }] } }, overrides: [] },
    options: { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "background", graphMode: "area", justifyMode: "auto", textMode: "auto" },
    targets: [{ datasource: ds, expr, legendFormat: "__auto", refId: "A", instant: true }],
  });
}

row("Overview");
stat("Leaders", "Coordinators reporting leader_status=1. Exactly 1 is healthy (NoLeader / SplitBrain alerts).", `sum(leader_status{${ns}})`,
  { thresholds: [{ color: "red", value: null }, { color: "green", value: 1 }, { color: "red", value: 2 }] });
stat("Live workers", "workers_total as counted by the leading coordinator (workers with a heartbeat within WORKER_TIMEOUT).", `max(workers_total{${ns}})`,
  { thresholds: [{ color: "red", value: null }, { color: "green", value: 1 }] });
stat("Pending tasks", "Tasks waiting to run (tasks_pending, all types).", `sum(tasks_pending{${ns}})`,
  { thresholds: [{ color: "green", value: null }, { color: "orange", value: 500 }, { color: "red", value: 1000 }] });
stat("Running tasks", "Tasks currently executing (tasks_running, all types).", `sum(tasks_running{${ns}})`);
stat("Worker pool utilisation", "Busy slots over total slots across all workers.", `sum(worker_pool_active{${ns}}) / sum(worker_pool_capacity{${ns}})`,
  { unit: "percentunit", thresholds: [{ color: "green", value: null }, { color: "orange", value: 0.75 }, { color: "red", value: 0.9 }] });
stat("Dead-lettered (1h)", "Tasks that exhausted their attempts in the last hour.", `sum(increase(tasks_dead_letter_total{${ns}}[1h]))`,
  { thresholds: [{ color: "green", value: null }, { color: "red", value: 1 }] });
endRow();

row("API (gRPC)");
ts("Request rate by method", "Completed RPCs per second on every taskorch gRPC server, by service and method.",
  [[`sum by (grpc_service, grpc_method) (rate(grpc_server_handled_total{${ns}}[${R}]))`, "{{grpc_service}}/{{grpc_method}}"]], { unit: "reqps" });
ts("Latency p95 / p99 by method", "Server handling time from grpc_server_handling_seconds (streaming RPCs such as WatchTask last as long as the watch).",
  [[`histogram_quantile(0.95, sum by (le, grpc_method) (rate(grpc_server_handling_seconds_bucket{${ns}}[${R}])))`, "p95 {{grpc_method}}"],
   [`histogram_quantile(0.99, sum by (le, grpc_method) (rate(grpc_server_handling_seconds_bucket{${ns}}[${R}])))`, "p99 {{grpc_method}}"]], { unit: "s" });
ts("Status codes", "Completed RPCs per second by gRPC status code. INVALID_ARGUMENT / NOT_FOUND are callers' errors; UNAVAILABLE / INTERNAL are ours.",
  [[`sum by (grpc_code) (rate(grpc_server_handled_total{${ns}}[${R}]))`, "{{grpc_code}}"]], { unit: "reqps", stack: true });
ts("Server error ratio by service", "Share of calls ending UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE or DATA_LOSS (GrpcServerErrorRateHigh alerts above 5%).",
  [[`sum by (grpc_service) (rate(grpc_server_handled_total{${ns}, grpc_code=~"UNKNOWN|DEADLINE_EXCEEDED|UNIMPLEMENTED|INTERNAL|UNAVAILABLE|DATA_LOSS"}[${R}])) / sum by (grpc_service) (rate(grpc_server_handled_total{${ns}}[${R}]))`, "{{grpc_service}}"]], { unit: "percentunit", w: 12, min: 0 });
ts("Client calls by method and code", "Outgoing gRPC calls made by taskorch processes (grpc_client_handled_total).",
  [[`sum by (grpc_method, grpc_code) (rate(grpc_client_handled_total{${ns}}[${R}]))`, "{{grpc_method}} {{grpc_code}}"]], { unit: "reqps", w: 12 });
endRow();

row("Tasks");
ts("Enqueued by type", "Tasks accepted per second (tasks_enqueued_total).",
  [[`sum by (type) (rate(tasks_enqueued_total{${nsType}}[${R}]))`, "{{type}}"]], { unit: "ops" });
ts("Completed by type and status", "Finished attempts per second (tasks_completed_total, status success|failed).",
  [[`sum by (type, status) (rate(tasks_completed_total{${nsType}}[${R}]))`, "{{type}} {{status}}"]], { unit: "ops" });
ts("Duration p50 / p95 by type", "Handler run time from task_duration_seconds.",
  [[`histogram_quantile(0.50, sum by (le, type) (rate(task_duration_seconds_bucket{${nsType}}[${R}])))`, "p50 {{type}}"],
   [`histogram_quantile(0.95, sum by (le, type) (rate(task_duration_seconds_bucket{${nsType}}[${R}])))`, "p95 {{type}}"]], { unit: "s" });
ts("Errors by type", "Failed attempts per second (tasks_completed_total{status=\"failed\"}).",
  [[`sum by (type) (rate(tasks_completed_total{${nsType}, status="failed"}[${R}]))`, "{{type}}"]], { unit: "ops" });
ts("Error ratio by type", "Failed over finished attempts (TaskErrorRateHigh alerts above 10%).",
  [[`sum by (type) (rate(tasks_completed_total{${nsType}, status="failed"}[${R}])) / sum by (type) (rate(tasks_completed_total{${nsType}}[${R}]))`, "{{type}}"]], { unit: "percentunit", min: 0 });
ts("Retries by type", "Retry attempts scheduled per second (task_retries_total).",
  [[`sum by (type) (rate(task_retries_total{${nsType}}[${R}]))`, "{{type}}"]], { unit: "ops" });
ts("Dead letters by type", "Tasks moved to DEAD_LETTER per interval (tasks_dead_letter_total); RetryTask brings them back.",
  [[`sum by (type) (increase(tasks_dead_letter_total{${nsType}}[${R}]))`, "{{type}}"]], { unit: "short", w: 24, h: 6 });
endRow();

row("Queue depth");
ts("Pending by type", "tasks_pending, reported by the leading coordinator every CLEANUP_INTERVAL.",
  [[`sum by (type) (tasks_pending{${nsType}})`, "{{type}}"]], { unit: "short", w: 12, stack: true });
ts("Running by type", "tasks_running.",
  [[`sum by (type) (tasks_running{${nsType}})`, "{{type}}"]], { unit: "short", w: 12, stack: true });
endRow();

row("Workers");
ts("Live workers", "Workers with a heartbeat within WORKER_TIMEOUT (max over coordinators; followers export 0).",
  [[`max(workers_total{${ns}})`, "workers"]], { unit: "short", min: 0 });
ts("Worker pool: active vs capacity", "Busy slots and total slots summed over all workers.",
  [[`sum(worker_pool_active{${ns}})`, "active"], [`sum(worker_pool_capacity{${ns}})`, "capacity"]], { unit: "short", min: 0 });
ts("Pool utilisation by worker", "Per-process busy share; processes with no pool (scheduler, coordinator) are left out.",
  [[`sum by (instance) (worker_pool_active{${ns}}) / (sum by (instance) (worker_pool_capacity{${ns}}) > 0)`, "{{instance}}"]], { unit: "percentunit", min: 0 });
ts("Claim latency p50 / p99", "task_claim_duration_seconds: time to run a claim batch in Postgres (TaskClaimLatencyHigh alerts when p99 > 0.5s).",
  [[`histogram_quantile(0.50, sum by (le) (rate(task_claim_duration_seconds_bucket{${ns}}[${R}])))`, "p50"],
   [`histogram_quantile(0.99, sum by (le) (rate(task_claim_duration_seconds_bucket{${ns}}[${R}])))`, "p99"]], { unit: "s", w: 12 });
ts("Leader by coordinator", "leader_status per coordinator (worker_id). One line at 1 is healthy.",
  [[`max by (worker_id) (leader_status{${ns}})`, "{{worker_id}}"]], { unit: "short", w: 12, min: 0 });
endRow();

row("Processes");
ts("CPU by process", "Node.js process CPU (prom-client default metrics).",
  [[`sum by (job, instance) (rate(process_cpu_seconds_total{${ns}, job=~"taskorch-.*"}[${R}]))`, "{{job}} {{instance}}"]], { unit: "percentunit" });
ts("Resident memory by process", "process_resident_memory_bytes.",
  [[`sum by (job, instance) (process_resident_memory_bytes{${ns}, job=~"taskorch-.*"})`, "{{job}} {{instance}}"]], { unit: "bytes" });
ts("Event loop lag p99", "nodejs_eventloop_lag_p99_seconds: a busy event loop delays heartbeats and gRPC replies.",
  [[`max by (job, instance) (nodejs_eventloop_lag_p99_seconds{${ns}, job=~"taskorch-.*"})`, "{{job}} {{instance}}"]], { unit: "s" });
endRow();

const dashboard = {
  __inputs: [],
  annotations: { list: [{ builtIn: 1, datasource: { type: "grafana", uid: "-- Grafana --" }, enable: true, hide: true, iconColor: "rgba(0, 211, 255, 1)", name: "Annotations & Alerts", type: "dashboard" }] },
  description: "taskorch: gRPC API, task throughput and errors, queue depth, workers, leadership (metric names from the operations guide).",
  editable: true,
  graphTooltip: 1,
  links: [],
  panels,
  refresh: "30s",
  schemaVersion: 39,
  tags: ["taskorch"],
  templating: { list: [
    { name: "datasource", label: "Data source", type: "datasource", query: "prometheus", current: {}, hide: 0, refresh: 1, regex: "", options: [] },
    { name: "namespace", label: "Namespace", type: "query", datasource: ds, query: { query: "label_values(up{job=~\"taskorch-.*\"}, namespace)", refId: "namespace" }, definition: "label_values(up{job=~\"taskorch-.*\"}, namespace)", includeAll: true, allValue: ".*", multi: true, current: { selected: true, text: ["All"], value: ["$__all"] }, refresh: 2, sort: 1, hide: 0, options: [] },
    { name: "type", label: "Task type", type: "query", datasource: ds, query: { query: "label_values(tasks_enqueued_total{namespace=~\"$namespace\"}, type)", refId: "type" }, definition: "label_values(tasks_enqueued_total{namespace=~\"$namespace\"}, type)", includeAll: true, allValue: ".*", multi: true, current: { selected: true, text: ["All"], value: ["$__all"] }, refresh: 2, sort: 1, hide: 0, options: [] },
  ] },
  time: { from: "now-1h", to: "now" },
  timepicker: {},
  timezone: "",
  title: "taskorch",
  uid: "taskorch-overview",
  version: 1,
};
const text = JSON.stringify(dashboard, null, 2) + "\n";
if (process.argv.includes("--check")) {
  // Exit 1 when a committed copy differs from what this script generates.
  const stale = TARGETS.filter((t) => { try { return readFileSync(t, "utf8") !== text; } catch { return true; } });
  for (const t of stale) console.error(`stale: ${t} (run node deploy/grafana/generate-dashboard.mjs)`);
  process.exit(stale.length ? 1 : 0);
}
for (const t of TARGETS) writeFileSync(t, text);
console.log(`${panels.length} panels written to ${TARGETS.join(", ")}`);
