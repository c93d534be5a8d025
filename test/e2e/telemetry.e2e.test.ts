import { spawn } from "node:child_process";
import { TaskStatus } from "@taskorch/proto";
import { invokeViaReflection } from "@taskorch/rpc";
import { createTestDatabase, eventually, freePort, metricValue, parseMetrics, spawnService, startOtlpReceiver, startThrowawayNats, type OtlpReceiver, type ReceivedSpan } from "@taskorch/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeIdOf, startCluster, type Cluster } from "./cluster.js";

const base = { queue: "", priority: 0, idempotencyKey: "", runAt: undefined, delay: undefined, timeout: undefined, payload: undefined } as const;

describe("one task is one trace across scheduler, NATS, worker and back", () => {
  let receiver: OtlpReceiver;
  let c: Cluster;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    c = await startCluster({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint } });
  });
  afterAll(async () => {
    await c?.teardown();
    await receiver?.close();
  });

  it("links EnqueueTask, both attempts' dispatch, execution and recording in parent/child order", async () => {
    const { task } = await c.api.enqueueTask({ ...base, type: "example.flaky", payload: { failTimes: 1 } });
    const done = await c.api.waitTask({ id: task!.id, timeout: { seconds: 20, nanos: 0 } });
    expect(done.task!.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    const id = task!.id;
    const mine = (s: ReceivedSpan) => s.attributes["taskorch.task.id"] === id;
    const spans = await eventually(() => {
      const all = receiver.spans.filter(mine);
      const count = (name: string) => all.filter((s) => s.name === name).length;
      return count("record example.flaky") === 2 && count("process example.flaky") === 2 && count("publish default") === 2 ? all : undefined;
    }, { timeoutMs: 15_000, what: "spans of both attempts exported" });

    const enqueue = receiver.spans.find((s) => s.name === "grpc.taskorch.v1.SchedulerService/EnqueueTask" && s.attributes["taskorch.task.id"] === id);
    expect(enqueue, "the gRPC server span of EnqueueTask").toBeDefined();
    expect(enqueue!.service).toBe("taskorch-scheduler");
    expect(enqueue!.kind).toBe("SPAN_KIND_SERVER");
    expect(done.task!.traceId).toBe(enqueue!.traceId);

    const all = [enqueue!, ...spans];
    expect(new Set(all.map((s) => s.traceId))).toEqual(new Set([enqueue!.traceId]));
    expect(new Set(all.map((s) => s.service))).toEqual(new Set(["taskorch-scheduler", "taskorch-coordinator", "taskorch-worker"]));

    const byAttempt = (name: string, attempt: number) => {
      const s = spans.find((x) => x.name === name && x.attributes["taskorch.task.attempt"] === attempt);
      expect(s, `${name} attempt ${attempt}`).toBeDefined();
      return s!;
    };
    for (const attempt of [1, 2]) {
      const publish = byAttempt("publish default", attempt);
      const run = byAttempt("process example.flaky", attempt);
      const record = byAttempt("record example.flaky", attempt);
      expect(publish.parentSpanId).toBe(enqueue!.spanId);
      expect(publish.kind).toBe("SPAN_KIND_PRODUCER");
      expect(run.parentSpanId).toBe(publish.spanId);
      expect(run.kind).toBe("SPAN_KIND_CONSUMER");
      expect(run.service).toBe("taskorch-worker");
      expect(record.parentSpanId).toBe(run.spanId);
      expect(record.service).toBe("taskorch-scheduler");
    }
    // The first attempt was published by the scheduler after commit, the retry by the coordinator's promoter.
    expect(byAttempt("publish default", 1).service).toBe("taskorch-scheduler");
    expect(byAttempt("publish default", 2).service).toBe("taskorch-coordinator");
    const failed = byAttempt("process example.flaky", 1);
    expect(failed.statusCode).toBe("STATUS_CODE_ERROR");
    expect(failed.statusMessage).toMatch(/failing attempt 1/);
    expect(failed.events).toEqual(expect.arrayContaining(["task.claimed", "task.started", "task.failed"]));
    expect(byAttempt("process example.flaky", 2).events).toEqual(expect.arrayContaining(["task.claimed", "task.started", "task.completed"]));
    expect(byAttempt("record example.flaky", 1).events).toContain("task.retry_scheduled");
    expect(byAttempt("record example.flaky", 2).events).toContain("task.succeeded");
    // Log lines written inside the attempt carry its trace id.
    expect(c.workers[0]!.output()).toMatch(new RegExp(`"trace_id":"${enqueue!.traceId}"[^\\n]*"msg":"Worker: attempt failed"`));
  });
});

describe("make verify-observability", () => {
  it("reports health, a task end to end, the seed's metrics and the trace id of a running cluster", async () => {
    const receiver = await startOtlpReceiver();
    const c = await startCluster({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint } });
    try {
      const urls = [c.scheduler, c.coordinator, ...c.workers].map((p) => `http://127.0.0.1:${p.metricsPort}`).join(",");
      const run = await new Promise<{ status: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, ["scripts/verify-observability.mjs"], { env: { ...process.env, SCHEDULER_ADDR: `127.0.0.1:${c.scheduler.grpcPort}`, METRICS_URLS: urls } });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("exit", (status) => resolve({ status, out }));
      });
      expect(run.out).toMatch(/ok {3}task .* example\.flaky: succeeded after 2 attempts; trace_id=[0-9a-f]{32}/);
      expect(run.out).toMatch(/ok {3}tasks_enqueued_total \{type="example\.flaky"\} 1/);
      expect(run.out).toMatch(/ok {3}leader_status/);
      expect(run.out).toContain("verify-observability: all checks passed");
      expect(run.status).toBe(0);
    } finally {
      await c.teardown();
      await receiver.close();
    }
  });
});

describe("metrics with the seed's names, labels and values", () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster();
  });
  afterAll(async () => {
    await c?.teardown();
  });

  it("counts known work on the service that knows the truth", async () => {
    const { tasks } = await c.api.enqueueTasks({
      tasks: [
        { ...base, type: "example.noop" },
        { ...base, type: "example.noop" },
        { ...base, type: "example.noop" },
        { ...base, type: "example.fail", maxAttempts: 1 },
        { ...base, type: "example.flaky", payload: { failTimes: 1 } },
      ],
    });
    for (const t of tasks) await c.api.waitTask({ id: t.id, timeout: { seconds: 20, nanos: 0 } });

    const sched = parseMetrics(await c.scheduler.metricsText());
    expect(metricValue(sched, "tasks_enqueued_total")).toBe(5);
    expect(metricValue(sched, "tasks_enqueued_total", { type: "example.noop" })).toBe(3);
    expect(metricValue(sched, "tasks_completed_total", { type: "example.noop", status: "success" })).toBe(3);
    expect(metricValue(sched, "tasks_completed_total", { type: "example.flaky", status: "failed" })).toBe(1);
    expect(metricValue(sched, "tasks_completed_total", { type: "example.flaky", status: "success" })).toBe(1);
    expect(metricValue(sched, "task_retries_total", { type: "example.flaky", attempt: "1" })).toBe(1);
    expect(metricValue(sched, "tasks_dead_letter_total")).toBe(1);
    expect(metricValue(sched, "tasks_dead_letter_total", { type: "example.fail" })).toBe(1);
    expect(metricValue(sched, "grpc_server_handled_total", { grpc_service: "taskorch.v1.SchedulerService", grpc_method: "EnqueueTasks", grpc_code: "OK" })).toBe(1);
    expect(metricValue(sched, "grpc_server_started_total", { grpc_method: "WaitTask" })).toBe(5);
    expect(metricValue(sched, "grpc_server_handling_seconds_count", { grpc_method: "WaitTask" })).toBe(5);
    expect(metricValue(sched, "task_claim_duration_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(metricValue(sched, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(sched.some((s) => s.labels.task_id !== undefined || s.labels.id !== undefined)).toBe(false);

    const worker = parseMetrics(await c.workers[0]!.metricsText());
    expect(metricValue(worker, "task_duration_seconds_count", { type: "example.noop" })).toBe(3);
    const buckets = worker.filter((s) => s.name === "task_duration_seconds_bucket" && s.labels.type === "example.noop").map((s) => s.labels.le);
    expect(buckets).toEqual(["0.1", "0.5", "1", "2.5", "5", "10", "30", "60", "300", "600", "+Inf"]);
    expect(metricValue(worker, "worker_pool_capacity")).toBe(10);
    expect(metricValue(worker, "worker_pool_active")).toBe(0);

    const coordinatorId = nodeIdOf(c.coordinator);
    const coord = await eventually(async () => {
      const m = parseMetrics(await c.coordinator.metricsText());
      return metricValue(m, "workers_total") === 1 ? m : undefined;
    }, { what: "workers_total from the leader" });
    expect(metricValue(coord, "leader_status", { worker_id: coordinatorId })).toBe(1);
    // A gauge computed from the database is exported by the leader only.
    expect(metricValue(sched, "workers_total")).toBe(0);
  });

  it("records gRPC client metrics where a service calls the cluster (the dashboard)", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ["services/all-in-one/dist/cli.js", "dashboard"], {
      env: { ...process.env, DASHBOARD_PORT: String(port), SCHEDULER_ADDR: `127.0.0.1:${c.scheduler.grpcPort}`, COORDINATOR_ADDR: `127.0.0.1:${c.coordinator.grpcPort}` },
      stdio: "ignore",
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${base}/api/tasks`).catch(() => undefined))?.status === 200, { what: "dashboard answers" });
      const m = parseMetrics(await (await fetch(`${base}/metrics`)).text());
      expect(metricValue(m, "grpc_client_started_total", { grpc_service: "taskorch.v1.SchedulerService", grpc_method: "ListTasks" })).toBeGreaterThan(0);
      expect(metricValue(m, "grpc_client_handled_total", { grpc_service: "taskorch.v1.SchedulerService", grpc_method: "ListTasks", grpc_code: "OK" })).toBeGreaterThan(0);
      expect(metricValue(m, "grpc_client_handling_seconds_count", { grpc_method: "ListTasks" })).toBeGreaterThan(0);
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("keeps queue gauges current from the leader", async () => {
    await c.api.enqueueTasks({ tasks: Array.from({ length: 4 }, () => ({ ...base, type: "gauge.probe", delay: { seconds: 3600, nanos: 0 } })) });
    await eventually(async () => metricValue(parseMetrics(await c.coordinator.metricsText()), "tasks_pending", { type: "gauge.probe" }) === 4, {
      timeoutMs: 15_000,
      what: "tasks_pending{type=gauge.probe} = 4",
    });
  });
});

describe("grpc.health.v1", () => {
  it("answers SERVING, and NOT_SERVING while NATS is unreachable", async () => {
    const nats = await startThrowawayNats();
    const db = await createTestDatabase();
    try {
      const scheduler = await spawnService("scheduler", { env: { DATABASE_URL: db.url, NATS_URL: nats.url, NATS_PREFIX: "grpchealth" } });
      try {
        const address = `127.0.0.1:${scheduler.grpcPort}`;
        expect(await invokeViaReflection(address, "grpc.health.v1.Health/Check", { service: "taskorch.v1.SchedulerService" })).toEqual({ status: "SERVING" });
        nats.kill();
        await eventually(async () => {
          const r = (await invokeViaReflection(address, "grpc.health.v1.Health/Check", {})) as { status: string };
          return r.status === "NOT_SERVING";
        }, { timeoutMs: 15_000, what: "NOT_SERVING" });
      } finally {
        await scheduler.stop();
      }
    } finally {
      await nats.stop();
      await db.drop();
    }
  });
});

describe("/health", () => {
  it("answers the seed's JSON, and 503 naming the dependency when NATS is unreachable", async () => {
    const nats = await startThrowawayNats();
    try {
      const worker = await spawnService("worker", { env: { NATS_URL: nats.url, NATS_PREFIX: "healthprobe" } });
      try {
        const ok = await fetch(`http://127.0.0.1:${worker.metricsPort}/health`);
        expect(ok.status).toBe(200);
        const body = (await ok.json()) as Record<string, unknown>;
        expect(body).toMatchObject({ status: "healthy", worker_id: nodeIdOf(worker), version: "0.1.0", distributed: false });
        nats.kill();
        const bad = await eventually(async () => {
          const r = await fetch(`http://127.0.0.1:${worker.metricsPort}/health`);
          return r.status === 503 ? r : undefined;
        }, { timeoutMs: 15_000, what: "503" });
        expect(await bad.json()).toMatchObject({ status: "unhealthy", checks: { nats: "unreachable" } });
      } finally {
        await worker.stop();
      }
    } finally {
      await nats.stop();
    }
  });
});
