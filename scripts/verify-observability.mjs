// make verify-observability: proves telemetry flows end to end on a running cluster (the seed's
// verify_observability idea). Checks /health of every service, runs a task that fails once and
// then succeeds, and shows the seed's metrics and the task's trace.
//   SCHEDULER_ADDR (127.0.0.1:50051), METRICS_URLS (http://127.0.0.1:9090, comma-separated),
//   JAEGER_QUERY_URL (optional, e.g. http://127.0.0.1:16686: lists the trace's spans)
import { credentials } from "@grpc/grpc-js";
import { SchedulerServiceClient, TaskStatus } from "@taskorch/proto";

const schedulerAddr = process.env.SCHEDULER_ADDR ?? "127.0.0.1:50051";
const metricsUrls = (process.env.METRICS_URLS ?? "http://127.0.0.1:9090").split(",").map((s) => s.trim()).filter(Boolean);
const jaeger = process.env.JAEGER_QUERY_URL;
const SEED_METRICS = [
  "tasks_enqueued_total", "tasks_completed_total", "task_retries_total", "tasks_dead_letter_total", "tasks_pending",
  "tasks_running", "worker_pool_active", "worker_pool_capacity", "workers_total", "leader_status",
  "task_duration_seconds", "task_claim_duration_seconds", "grpc_server_handled_total",
];
let failures = 0;
const fail = (msg) => {
  failures++;
  console.log(`  FAIL ${msg}`);
};

console.log("health");
for (const url of metricsUrls) {
  try {
    const res = await fetch(`${url}/health`);
    const body = await res.json();
    console.log(`  ${res.status === 200 ? "ok  " : "FAIL"} ${url}/health ${res.status} ${JSON.stringify(body)}`);
    if (res.status !== 200) failures++;
  } catch (err) {
    fail(`${url}/health unreachable: ${err.message}`);
  }
}

console.log(`task (via ${schedulerAddr})`);
const client = new SchedulerServiceClient(schedulerAddr, credentials.createInsecure());
const call = (m, req) => new Promise((resolve, reject) => client[m](req, (e, r) => (e ? reject(e) : resolve(r))));
let traceId = "";
try {
  const { task } = await call("enqueueTask", { type: "example.flaky", queue: "", priority: 0, idempotencyKey: "", payload: { failTimes: 1 } });
  const done = await call("waitTask", { id: task.id, timeout: { seconds: 30, nanos: 0 } });
  const status = TaskStatus[done.task.status].replace("TASK_STATUS_", "").toLowerCase();
  traceId = done.task.traceId;
  console.log(`  ${status === "succeeded" ? "ok  " : "FAIL"} task ${task.id} example.flaky: ${status} after ${done.task.attempts} attempts; trace_id=${traceId || "(tracing off)"}`);
  if (status !== "succeeded") failures++;
} catch (err) {
  fail(`enqueue/wait failed: ${err.message}`);
}
client.close();

console.log("metrics");
const seen = new Map();
for (const url of metricsUrls) {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split("\n")) {
      if (line.startsWith("#") || line === "") continue;
      const name = line.split(/[{ ]/)[0];
      const base = name.replace(/_(bucket|sum|count)$/, "");
      if (SEED_METRICS.includes(base) && !name.endsWith("_bucket")) {
        seen.set(base, [...(seen.get(base) ?? []), `${line.slice(name.length).trim()}`].slice(0, 4));
      }
    }
  } catch (err) {
    fail(`${url}/metrics unreachable: ${err.message}`);
  }
}
for (const m of SEED_METRICS) {
  const samples = seen.get(m);
  if (samples) console.log(`  ok   ${m} ${samples.join("  ")}`);
  else console.log(`  --   ${m} (not exported by these processes)`);
}
for (const must of ["tasks_enqueued_total", "tasks_completed_total", "task_duration_seconds"]) if (!seen.has(must)) fail(`${must} missing`);

console.log("traces");
if (!traceId) {
  console.log("  --   tracing is off: set OTEL_EXPORTER_OTLP_ENDPOINT on the services (e.g. Jaeger's OTLP port 4317)");
} else if (!jaeger) {
  console.log(`  ok   trace ${traceId} recorded; set JAEGER_QUERY_URL to list its spans, or open <jaeger-ui>/trace/${traceId}`);
} else {
  await new Promise((r) => setTimeout(r, 2000));
  try {
    const body = await (await fetch(`${jaeger}/api/traces/${traceId}`)).json();
    const trace = body.data?.[0];
    const services = new Set(Object.values(trace?.processes ?? {}).map((p) => p.serviceName));
    for (const span of trace?.spans ?? []) console.log(`  ok   ${trace.processes[span.processID].serviceName}: ${span.operationName}`);
    for (const s of ["taskorch-scheduler", "taskorch-worker"]) if (!services.has(s)) fail(`no span from ${s} in trace ${traceId}`);
  } catch (err) {
    fail(`querying Jaeger failed: ${err.message}`);
  }
}
console.log(failures === 0 ? "verify-observability: all checks passed" : `verify-observability: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
