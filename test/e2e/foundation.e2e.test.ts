import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import { TaskStatus } from "@taskorch/proto";
import { eventually, metricValue, parseMetrics } from "@taskorch/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./cluster.js";

let c: Cluster;

beforeAll(async () => {
  c = await startCluster();
});

afterAll(async () => {
  await c?.teardown();
});

const base = { queue: "", priority: 0, idempotencyKey: "", runAt: undefined, delay: undefined, timeout: undefined, payload: undefined } as const;

async function taskCount(): Promise<number> {
  return Number((await c.sql.query("SELECT count(*) AS n FROM tasks")).rows[0].n);
}

async function expectStatus(p: Promise<unknown>, code: grpcStatus, message: RegExp): Promise<void> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as ServiceError | undefined;
  expect(err, "expected the call to fail").toBeDefined();
  expect(grpcStatus[err!.code]).toBe(grpcStatus[code]);
  expect(err!.details).toMatch(message);
}

describe("a task across scheduler, coordinator and worker processes", () => {
  it("goes QUEUED -> RUNNING -> SUCCEEDED with its result", async () => {
    const { task } = await c.api.enqueueTask({ ...base, type: "example.sleep", payload: { ms: 1500 } });
    expect(task!.status).toBe(TaskStatus.TASK_STATUS_QUEUED);
    expect(task!.queue).toBe("default");
    expect(task!.maxAttempts).toBe(3);
    const running = await eventually(async () => {
      const { task: t } = await c.api.getTask({ id: task!.id });
      return t!.status === TaskStatus.TASK_STATUS_RUNNING ? t : undefined;
    }, { what: "task running" });
    expect(running!.workerId).toBe(c.workers[0]!.output().match(/"worker_id":"([^"]+)"/)![1]);
    expect(running!.startedAt).toBeInstanceOf(Date);
    const done = await c.api.waitTask({ id: task!.id, timeout: { seconds: 20, nanos: 0 } });
    expect(done.timedOut).toBe(false);
    expect(done.task!.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    expect(done.task!.result).toEqual({ sleptMs: 1500 });
    expect(done.task!.attempts).toBe(1);
    expect(done.task!.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.task!.startedAt!.getTime() + 1400);
  });

  it("retries a failing task with backoff, then dead-letters it with last_error and attempts", async () => {
    const { task } = await c.api.enqueueTask({ ...base, type: "example.fail", payload: { message: "boom at the handler" }, maxAttempts: 3 });
    const done = await c.api.waitTask({ id: task!.id, timeout: { seconds: 30, nanos: 0 } });
    expect(done.task!.status).toBe(TaskStatus.TASK_STATUS_DEAD_LETTER);
    expect(done.task!.attempts).toBe(3);
    expect(done.task!.lastError).toBe("boom at the handler");
    expect(done.task!.finishedAt).toBeInstanceOf(Date);
  });

  it("runs a flaky task until it succeeds", async () => {
    const { task } = await c.api.enqueueTask({ ...base, type: "example.flaky", payload: { failTimes: 2 } });
    const done = await c.api.waitTask({ id: task!.id, timeout: { seconds: 30, nanos: 0 } });
    expect(done.task!.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    expect(done.task!.result).toEqual({ succeededOnAttempt: 3 });
    expect(done.task!.lastError).toMatch(/failing attempt 2/);
  });

  it("fails unknown task types with a clear last_error, without retrying", async () => {
    const { task } = await c.api.enqueueTask({ ...base, type: "no.such.handler" });
    const done = await c.api.waitTask({ id: task!.id, timeout: { seconds: 20, nanos: 0 } });
    expect(done.task!.status).toBe(TaskStatus.TASK_STATUS_DEAD_LETTER);
    expect(done.task!.attempts).toBe(1);
    expect(done.task!.lastError).toMatch(/no handler registered for task type "no.such.handler"/);
  });

  it("never runs a pending task that was canceled", async () => {
    const { task } = await c.api.enqueueTask({ ...base, type: "example.noop", delay: { seconds: 1, nanos: 0 } });
    expect(task!.status).toBe(TaskStatus.TASK_STATUS_PENDING);
    const canceled = await c.api.cancelTask({ id: task!.id, reason: "changed my mind" });
    expect(canceled.task!.status).toBe(TaskStatus.TASK_STATUS_CANCELED);
    // A marker task enqueued later with the same delay must run first, proving the promoter passed by.
    const { task: marker } = await c.api.enqueueTask({ ...base, type: "example.noop", delay: { seconds: 1, nanos: 0 } });
    await c.api.waitTask({ id: marker!.id, timeout: { seconds: 20, nanos: 0 } });
    const { task: after } = await c.api.getTask({ id: task!.id });
    expect(after!.status).toBe(TaskStatus.TASK_STATUS_CANCELED);
    expect(after!.attempts).toBe(0);
    expect(after!.workerId).toBe("");
    expect(after!.startedAt).toBeUndefined();
    await expectStatus(c.api.cancelTask({ id: task!.id, reason: "" }), grpcStatus.FAILED_PRECONDITION, /already canceled/);
  });

  it("cancels a running task: the handler is aborted and its late report changes nothing", async () => {
    const { task } = await c.api.enqueueTask({ ...base, type: "example.sleep", payload: { ms: 15_000 } });
    await eventually(async () => (await c.api.getTask({ id: task!.id })).task!.status === TaskStatus.TASK_STATUS_RUNNING, { what: "running" });
    await c.api.cancelTask({ id: task!.id, reason: "" });
    const aborted = () =>
      c.workers[0]!.output().split("\n").some((line) => {
        if (!line.includes(task!.id)) return false;
        try {
          const rec = JSON.parse(line) as { task_id?: string; err?: string };
          return rec.task_id === task!.id && rec.err === "task canceled";
        } catch {
          return false;
        }
      });
    await eventually(aborted, { what: "handler aborted" });
    const { task: after } = await c.api.getTask({ id: task!.id });
    expect(after!.status).toBe(TaskStatus.TASK_STATUS_CANCELED);
    expect(after!.lastError).toBe("canceled by request");
  });

  it("retries a dead-lettered task with a fresh budget, numbering its attempts on", async () => {
    const { task } = await c.api.enqueueTask({ ...base, type: "example.fail", maxAttempts: 1 });
    await c.api.waitTask({ id: task!.id, timeout: { seconds: 20, nanos: 0 } });
    const retried = await c.api.retryTask({ id: task!.id });
    expect(retried.task!.status).toBe(TaskStatus.TASK_STATUS_QUEUED);
    expect([retried.task!.attempts, retried.task!.maxAttempts]).toEqual([2, 2]);
    const done = await c.api.waitTask({ id: task!.id, timeout: { seconds: 20, nanos: 0 } });
    expect(done.task!.status).toBe(TaskStatus.TASK_STATUS_DEAD_LETTER);
    expect(done.task!.attempts).toBe(2);
    // example.flaky fails its first attempt; the retry is attempt 2 as far as the handler sees it.
    const { task: flaky } = await c.api.enqueueTask({ ...base, type: "example.flaky", payload: { failTimes: 1 }, maxAttempts: 1 });
    expect((await c.api.waitTask({ id: flaky!.id, timeout: { seconds: 20, nanos: 0 } })).task!.status).toBe(TaskStatus.TASK_STATUS_DEAD_LETTER);
    await c.api.retryTask({ id: flaky!.id });
    const healed = await c.api.waitTask({ id: flaky!.id, timeout: { seconds: 20, nanos: 0 } });
    expect(healed.task!.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    expect(healed.task!.result).toEqual({ succeededOnAttempt: 2 });
    await expectStatus(c.api.retryTask({ id: (await c.api.enqueueTask({ ...base, type: "example.sleep", payload: { ms: 2000 } })).task!.id }), grpcStatus.FAILED_PRECONDITION, /only dead_letter or canceled/);
  });

  it("carries big payloads and results in messages NATS accepts: five of 300 KB sent and finished together", async () => {
    // 5 x 300 KB is more than one message of 1 MiB: dispatched as one batch, that batch was
    // refused on every try and the tasks stayed QUEUED; their results (example.noop returns its
    // payload) likewise as one report.
    const big = "x".repeat(300_000);
    const { tasks } = await c.api.enqueueTasks({ tasks: Array.from({ length: 5 }, (_, i) => ({ ...base, type: "example.noop", payload: { i, big } })) });
    for (const t of tasks) {
      const done = await c.api.waitTask({ id: t.id, timeout: { seconds: 30, nanos: 0 } });
      expect(done.task?.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
      expect((done.task?.result as { big: string }).big).toHaveLength(300_000);
    }
  });

  it("keeps a handler's error message to 8 KiB, saying how much it cut", async () => {
    const { task } = await c.api.enqueueTask({ ...base, type: "example.fail", maxAttempts: 1, payload: { message: "e".repeat(20_000) } });
    const done = await c.api.waitTask({ id: task!.id, timeout: { seconds: 30, nanos: 0 } });
    expect(done.task?.status).toBe(TaskStatus.TASK_STATUS_DEAD_LETTER);
    expect(done.task?.lastError).toHaveLength(8192);
    expect(done.task?.lastError).toMatch(/^e+… \(\d+ more characters\)$/);
    const kept = done.task!.lastError.indexOf("…");
    expect(done.task?.lastError?.endsWith(`(${20_000 - kept} more characters)`)).toBe(true);
  });

  it("runs 1,000 tasks from one EnqueueTasks call, each recorded exactly once", async () => {
    const before = metricValue(parseMetrics(await c.scheduler.metricsText()), "tasks_completed_total", { type: "example.noop", status: "success" });
    const { tasks } = await c.api.enqueueTasks({ tasks: Array.from({ length: 1000 }, (_, i) => ({ ...base, type: "example.noop", payload: { i } })) });
    expect(tasks).toHaveLength(1000);
    const ids = tasks.map((t) => t.id);
    await eventually(
      async () => Number((await c.sql.query("SELECT count(*) AS n FROM tasks WHERE id = ANY($1) AND status = 'succeeded'", [ids])).rows[0].n) === 1000,
      { timeoutMs: 60_000, intervalMs: 200, what: "1000 succeeded" },
    );
    const rows = (await c.sql.query("SELECT attempts, payload, result FROM tasks WHERE id = ANY($1)", [ids])).rows as Array<{ attempts: number; payload: unknown; result: unknown }>;
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
    expect(rows.every((r) => JSON.stringify(r.result) === JSON.stringify(r.payload))).toBe(true);
    const after = await eventually(async () => {
      const v = metricValue(parseMetrics(await c.scheduler.metricsText()), "tasks_completed_total", { type: "example.noop", status: "success" });
      return v - before >= 1000 ? v : undefined;
    });
    expect(after - before).toBe(1000);
  });

  it("reports the leader and the workers from real data", async () => {
    const leader = await eventually(async () => {
      const l = await c.coord.getLeader({});
      return l.held ? l : undefined;
    });
    expect(leader.epoch).toBeGreaterThanOrEqual(1);
    expect(leader.expiresAt!.getTime()).toBeGreaterThan(Date.now() - 5000);
    const { workers } = await eventually(async () => {
      const r = await c.coord.listWorkers({});
      return r.workers.length > 0 ? r : undefined;
    });
    expect(workers[0]!.alive).toBe(true);
    expect(workers[0]!.capacity).toBe(10);
    expect(workers[0]!.queues).toEqual(["default"]);
    expect(workers[0]!.id).toMatch(/^.+-\d+-[0-9a-f]{6}$/);
  });
});

describe("bad input gets a clear status and writes nothing", () => {
  const cases: Array<[string, () => Promise<unknown>, grpcStatus, RegExp]> = [
    ["empty type", () => c.api.enqueueTask({ ...base, type: "" }), grpcStatus.INVALID_ARGUMENT, /type: task type is required/],
    ["queue with a dot", () => c.api.enqueueTask({ ...base, type: "x", queue: "a.b" }), grpcStatus.INVALID_ARGUMENT, /queue: queue name "a.b" is invalid/],
    ["queue *", () => c.api.enqueueTask({ ...base, type: "x", queue: "*" }), grpcStatus.INVALID_ARGUMENT, /queue: .*NATS subject/],
    ["queue >", () => c.api.enqueueTask({ ...base, type: "x", queue: ">" }), grpcStatus.INVALID_ARGUMENT, /queue:/],
    ["queue with spaces", () => c.api.enqueueTask({ ...base, type: "x", queue: "my queue" }), grpcStatus.INVALID_ARGUMENT, /queue:/],
    ["negative max_attempts", () => c.api.enqueueTask({ ...base, type: "x", maxAttempts: -1 }), grpcStatus.INVALID_ARGUMENT, /max_attempts: must be from 1 to 100/],
    ["oversized payload", () => c.api.enqueueTask({ ...base, type: "x", payload: { blob: "x".repeat(1_100_000) } }), grpcStatus.INVALID_ARGUMENT, /payload: is \d+ bytes of JSON; the limit is 1044480 bytes \(what one NATS message carries: the server's max_payload of 1048576 bytes less 4096/],
    // Under MAX_PAYLOAD_BYTES (1 MiB) but too big for one NATS message with its envelope: it could never be dispatched.
    ["payload too big for NATS", () => c.api.enqueueTask({ ...base, type: "x", payload: "x".repeat(1_046_000) }), grpcStatus.INVALID_ARGUMENT, /payload: is 1046002 bytes of JSON; the limit is 1044480 bytes/],
    ["unknown id", () => c.api.getTask({ id: "01a20be8-0000-7000-8000-000000000000" }), grpcStatus.NOT_FOUND, /task 01a20be8-0000-7000-8000-000000000000 not found/],
    ["malformed id", () => c.api.getTask({ id: "nope" }), grpcStatus.INVALID_ARGUMENT, /id: "nope" is not a task id/],
    ["cancel unknown", () => c.api.cancelTask({ id: "01a20be8-0000-7000-8000-000000000001", reason: "" }), grpcStatus.NOT_FOUND, /not found/],
    ["empty batch", () => c.api.enqueueTasks({ tasks: [] }), grpcStatus.INVALID_ARGUMENT, /tasks: the batch is empty/],
    // Its answer (every task, payloads included) would be more than a client takes by default: refused before it is stored.
    ["batch whose answer is too big", () => c.api.enqueueTasks({ tasks: Array.from({ length: 8 }, () => ({ ...base, type: "x", payload: "p".repeat(500_000) })) }), grpcStatus.INVALID_ARGUMENT, /read_mask: the answer would return \d+ bytes of payloads.*set read_mask/],
    ["bad page token", () => c.api.listTasks({ status: 0, type: "", queue: "", pageSize: 10, pageToken: "garbage" }), grpcStatus.INVALID_ARGUMENT, /page_token/],
    ["page size too big", () => c.api.listTasks({ status: 0, type: "", queue: "", pageSize: 5000, pageToken: "" }), grpcStatus.INVALID_ARGUMENT, /page_size: must be from 1 to 1000/],
  ];
  it.each(cases)("%s", async (_name, call, code, message) => {
    const before = await taskCount();
    await expectStatus(call(), code, message);
    expect(await taskCount()).toBe(before);
  });

  it("rejects a whole batch when one entry is bad, naming the entry", async () => {
    const before = await taskCount();
    await expectStatus(
      c.api.enqueueTasks({ tasks: [{ ...base, type: "example.noop" }, { ...base, type: "example.noop", queue: "bad queue" }] }),
      grpcStatus.INVALID_ARGUMENT,
      /tasks\[1\]\.queue:/,
    );
    expect(await taskCount()).toBe(before);
  });

  it("deduplicates by idempotency key and refuses a different request under the same key", async () => {
    const req = { ...base, type: "example.noop", payload: { a: 1, b: [1, 2] }, idempotencyKey: "order-42" };
    const first = await c.api.enqueueTask(req);
    const second = await c.api.enqueueTask({ ...req, payload: { b: [1, 2], a: 1 } });
    expect(second.deduplicated).toBe(true);
    expect(second.task!.id).toBe(first.task!.id);
    const before = await taskCount();
    await expectStatus(c.api.enqueueTask({ ...req, payload: { a: 2 } }), grpcStatus.ALREADY_EXISTS, /idempotency_key "order-42" already belongs to task/);
    // A batch holding a conflicting key is refused whole: its other entry is not kept.
    await expectStatus(
      c.api.enqueueTasks({ tasks: [{ ...base, type: "example.noop", idempotencyKey: "fresh-key" }, { ...req, type: "other.type" }] }),
      grpcStatus.ALREADY_EXISTS,
      /order-42/,
    );
    expect(await taskCount()).toBe(before);
  });
});

describe("listing", () => {
  it("filters by status, type and queue and pages without gaps or repeats", async () => {
    const { tasks } = await c.api.enqueueTasks({ tasks: Array.from({ length: 25 }, (_, i) => ({ ...base, type: "list.probe", queue: "listing", payload: { i }, delay: { seconds: 3600, nanos: 0 } })) });
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await c.api.listTasks({ status: TaskStatus.TASK_STATUS_PENDING, type: "list.probe", queue: "listing", pageSize: 10, pageToken });
      expect(page.tasks.length).toBeLessThanOrEqual(10);
      seen.push(...page.tasks.map((t) => t.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual(tasks.map((t) => t.id).reverse());
    const none = await c.api.listTasks({ status: TaskStatus.TASK_STATUS_SUCCEEDED, type: "list.probe", queue: "", pageSize: 10, pageToken: "" });
    expect(none.tasks).toEqual([]);
  });

  it("pages big tasks in responses a client takes by default (4 MiB), and in one page when the read mask leaves their payloads out", async () => {
    // 12 x 600 KB: one page of them was a 7 MB response, which gRPC clients refuse by default
    // (grpc-js, grpcurl: RESOURCE_EXHAUSTED), and the dashboard's ListTasks with it.
    const blob = "b".repeat(600_000);
    const { tasks } = await c.api.enqueueTasks({ tasks: Array.from({ length: 12 }, (_, i) => ({ ...base, type: "list.big", queue: "listing-big", payload: { i, blob }, delay: { seconds: 3600, nanos: 0 } })), readMask: ["id"] });
    const seen: string[] = [];
    let pages = 0;
    let pageToken = "";
    do {
      const page = await c.api.listTasks({ status: 0, type: "list.big", queue: "", pageSize: 100, pageToken });
      pages++;
      expect(page.tasks.length).toBeGreaterThan(0);
      expect(page.tasks.every((t) => (t.payload as { blob: string }).blob.length === 600_000)).toBe(true);
      seen.push(...page.tasks.map((t) => t.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual(tasks.map((t) => t.id).reverse());
    expect(pages).toBeGreaterThanOrEqual(3); // at most five 600 KB payloads in 3 MiB
    const slim = await c.api.listTasks({ status: 0, type: "list.big", queue: "", pageSize: 100, pageToken: "", readMask: ["id", "status"] });
    expect(slim.tasks.map((t) => t.id)).toEqual(seen);
    expect(slim.tasks.every((t) => t.payload === undefined && t.status === TaskStatus.TASK_STATUS_PENDING)).toBe(true);
    expect(slim.nextPageToken).toBe("");
  });
});
