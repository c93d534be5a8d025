import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { CatchupPolicy, OverlapPolicy, TaskStatus as ProtoStatus, type Schedule as ProtoSchedule, type Task as ProtoTask } from "@taskorch/proto";
import { describe, expect, it } from "vitest";
import { TaskorchClient, type InvokeFunc } from "./client.js";
import {
  AlreadyExistsError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidRequestError,
  PermissionDeniedError,
  TaskNotFoundError,
  TaskorchClientError,
  toClientError,
  UnauthenticatedError,
  UnavailableError,
} from "./errors.js";
import { backoffMs, DEFAULT_RETRY_POLICY, resolveRetryPolicy } from "./retry.js";

function grpcError(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

function protoTask(over: Partial<ProtoTask> = {}): ProtoTask {
  return {
    id: "0190a5b2-0000-7000-8000-000000000001",
    type: "example.noop",
    queue: "default",
    payload: { a: 1 },
    priority: 0,
    status: ProtoStatus.TASK_STATUS_QUEUED,
    attempts: 0,
    maxAttempts: 3,
    runAt: new Date("2025-01-01T00:00:00Z"),
    timeout: { seconds: 1, nanos: 500_000_000 },
    idempotencyKey: "",
    result: undefined,
    lastError: "",
    workerId: "",
    createdAt: new Date("2025-01-01T00:00:00Z"),
    updatedAt: new Date("2025-01-01T00:00:00Z"),
    startedAt: undefined,
    finishedAt: undefined,
    traceId: "",
    groupId: "",
    ...over,
  };
}

interface Call {
  service: string;
  method: string;
  request: unknown;
  metadata: Metadata;
  deadline: number;
}

/** A client over a scripted transport: each call takes the next answer (an Error rejects). */
function setup(answers: unknown[], options: { token?: string; maxAttempts?: number } = {}) {
  const calls: Call[] = [];
  const sleeps: number[] = [];
  const invokeFunc: InvokeFunc = async (service, method, request, metadata, opts) => {
    calls.push({ service, method, request, metadata, deadline: Number(opts.deadline) });
    if (answers.length === 0) throw new Error(`unexpected call ${method}`);
    const next = answers.shift();
    if (next instanceof Error) throw next;
    return next;
  };
  const client = new TaskorchClient({
    address: "127.0.0.1:50051",
    token: options.token,
    defaultDeadlineMs: 5000,
    retry: { maxAttempts: options.maxAttempts ?? 4, initialBackoffMs: 100, maxBackoffMs: 1000 },
    invokeFunc,
    sleepFunc: async (ms) => void sleeps.push(ms),
    randomFunc: () => 0.5,
  });
  return { client, calls, sleeps };
}

describe("retries", () => {
  it("retries UNAVAILABLE, ABORTED and RESOURCE_EXHAUSTED on idempotent calls with growing jittered backoff", async () => {
    const { client, calls, sleeps } = setup([
      grpcError(status.UNAVAILABLE, "scheduler draining"),
      grpcError(status.ABORTED, "lost a race"),
      grpcError(status.RESOURCE_EXHAUSTED, "slow down"),
      { task: protoTask() },
    ]);
    const task = await client.get("0190a5b2-0000-7000-8000-000000000001");
    expect(task.id).toBe("0190a5b2-0000-7000-8000-000000000001");
    expect(calls).toHaveLength(4);
    // equal jitter at random=0.5: 3/4 of 100, 200, 400
    expect(sleeps).toEqual([75, 150, 300]);
  });

  it("gives up after maxAttempts with the last error, typed, carrying code, details and cause", async () => {
    const { client, calls } = setup([grpcError(status.UNAVAILABLE, "a"), grpcError(status.UNAVAILABLE, "b")], { maxAttempts: 2 });
    const err = await client.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toBeInstanceOf(TaskorchClientError);
    const e = err as UnavailableError;
    expect(e.code).toBe(status.UNAVAILABLE);
    expect(e.codeName).toBe("UNAVAILABLE");
    expect(e.details).toBe("b");
    expect(e.method).toBe("SchedulerService/ListTasks");
    expect((e.cause as ServiceError).code).toBe(status.UNAVAILABLE);
    expect(calls).toHaveLength(2);
  });

  it("never retries a non-retryable code", async () => {
    const { client, calls } = setup([grpcError(status.NOT_FOUND, "task x not found")]);
    await expect(client.get("x")).rejects.toBeInstanceOf(TaskNotFoundError);
    expect(calls).toHaveLength(1);
  });

  it("does not retry an enqueue without an idempotency key", async () => {
    const { client, calls } = setup([grpcError(status.UNAVAILABLE, "down")]);
    await expect(client.enqueue("example.noop", {})).rejects.toBeInstanceOf(UnavailableError);
    expect(calls).toHaveLength(1);
  });

  it("retries an enqueue that carries an idempotency key", async () => {
    const { client, calls } = setup([grpcError(status.UNAVAILABLE, "down"), { task: protoTask({ idempotencyKey: "k1" }), deduplicated: true }]);
    const task = await client.enqueue("example.noop", { a: 1 }, { idempotencyKey: "k1", priority: 5, delayMs: 1500, timeoutMs: 30_000 });
    expect(task.deduplicated).toBe(true);
    expect(task.idempotencyKey).toBe("k1");
    expect(calls).toHaveLength(2);
    expect(calls[0]!.request).toMatchObject({ type: "example.noop", payload: { a: 1 }, priority: 5, delay: { seconds: 1, nanos: 500_000_000 }, timeout: { seconds: 30, nanos: 0 }, idempotencyKey: "k1" });
  });

  it("retries enqueueMany only when every item has an idempotency key", async () => {
    const some = setup([grpcError(status.UNAVAILABLE, "down")]);
    await expect(some.client.enqueueMany([{ type: "a", idempotencyKey: "k" }, { type: "b" }])).rejects.toBeInstanceOf(UnavailableError);
    expect(some.calls).toHaveLength(1);
    const all = setup([grpcError(status.UNAVAILABLE, "down"), { tasks: [protoTask(), protoTask()] }]);
    expect(await all.client.enqueueMany([{ type: "a", idempotencyKey: "k" }, { type: "b", idempotencyKey: "l" }])).toHaveLength(2);
    expect(all.calls).toHaveLength(2);
  });

  it("backoff doubles from initialBackoffMs, is capped by maxBackoffMs, and jitters within [half, full]", () => {
    const p = resolveRetryPolicy({ initialBackoffMs: 100, maxBackoffMs: 1000 });
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffMs(a, p, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffMs(a, p, () => 0.999999))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("rejects a bad policy naming the field", () => {
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(/retry.maxAttempts/);
    expect(() => resolveRetryPolicy({ initialBackoffMs: 500, maxBackoffMs: 100 })).toThrow(/retry.maxBackoffMs/);
    expect(resolveRetryPolicy(undefined)).toEqual(DEFAULT_RETRY_POLICY);
  });
});

describe("error mapping", () => {
  it.each([
    [status.NOT_FOUND, TaskNotFoundError],
    [status.INVALID_ARGUMENT, InvalidRequestError],
    [status.ALREADY_EXISTS, AlreadyExistsError],
    [status.FAILED_PRECONDITION, FailedPreconditionError],
    [status.UNAVAILABLE, UnavailableError],
    [status.UNAUTHENTICATED, UnauthenticatedError],
    [status.PERMISSION_DENIED, PermissionDeniedError],
    [status.DEADLINE_EXCEEDED, DeadlineExceededError],
  ])("maps code %i to its class", (code, Class) => {
    const err = toClientError(grpcError(code, "why"), "SchedulerService/GetTask");
    expect(err).toBeInstanceOf(Class);
    expect(err.name).toBe(Class.name);
    expect(err.code).toBe(code);
    expect(err.message).toBe("why");
  });

  it("maps other codes to the base class and non-gRPC errors to UNKNOWN with the cause", () => {
    const internal = toClientError(grpcError(status.INTERNAL, "masked"));
    expect(internal.constructor).toBe(TaskorchClientError);
    expect(internal.codeName).toBe("INTERNAL");
    const boom = new TypeError("boom");
    const unknown = toClientError(boom);
    expect(unknown.code).toBe(status.UNKNOWN);
    expect(unknown.cause).toBe(boom);
  });
});

describe("calls", () => {
  it("sends the bearer token and a deadline on every call", async () => {
    const { client, calls } = setup([{ task: protoTask() }], { token: "s3cret" });
    const before = Date.now();
    await client.get("id");
    expect(calls[0]!.metadata.get("authorization")).toEqual(["Bearer s3cret"]);
    expect(calls[0]!.deadline).toBeGreaterThanOrEqual(before + 5000);
    expect(calls[0]!.deadline).toBeLessThan(before + 6000);
  });

  it("converts tasks: friendly status, Dates, durations in ms, no empty strings", async () => {
    const finished = new Date("2025-01-01T00:00:02Z");
    const { client } = setup([{ task: protoTask({ status: ProtoStatus.TASK_STATUS_DEAD_LETTER, lastError: "boom", finishedAt: finished }) }]);
    const t = await client.get("id");
    expect(t.status).toBe("dead_letter");
    expect(t.timeoutMs).toBe(1500);
    expect(t.finishedAt).toEqual(finished);
    expect(t.lastError).toBe("boom");
    expect("workerId" in t).toBe(false);
    expect("idempotencyKey" in t).toBe(false);
  });

  it("sends status filters as the proto enum and pages with listAll", async () => {
    const { client, calls } = setup([
      { tasks: [protoTask({ id: "a" }), protoTask({ id: "b" })], nextPageToken: "t1" },
      { tasks: [protoTask({ id: "c" })], nextPageToken: "" },
    ]);
    const ids: string[] = [];
    for await (const t of client.listAll({ status: "dead_letter", type: "example.fail", pageSize: 2 })) ids.push(t.id);
    expect(ids).toEqual(["a", "b", "c"]);
    expect(calls.map((c) => c.request)).toEqual([
      { status: ProtoStatus.TASK_STATUS_DEAD_LETTER, type: "example.fail", queue: "", pageSize: 2, pageToken: "" },
      { status: ProtoStatus.TASK_STATUS_DEAD_LETTER, type: "example.fail", queue: "", pageSize: 2, pageToken: "t1" },
    ]);
  });

  it("wait passes its timeout to the server, extends the deadline by it, and reports timedOut", async () => {
    const { client, calls } = setup([{ task: protoTask({ status: ProtoStatus.TASK_STATUS_RUNNING }), timedOut: true }]);
    const before = Date.now();
    const t = await client.wait("id", { timeoutMs: 0 });
    expect(t.timedOut).toBe(true);
    expect(t.status).toBe("running");
    expect(calls[0]!.request).toEqual({ id: "id", timeout: { seconds: 0, nanos: 0 } });
    expect(calls[0]!.deadline).toBeGreaterThanOrEqual(before + 5000);

    const done = setup([{ task: protoTask({ status: ProtoStatus.TASK_STATUS_SUCCEEDED, result: { ok: true } }), timedOut: false }]);
    const d = await done.client.wait("id", { timeoutMs: 20_000 });
    expect(d).toMatchObject({ status: "succeeded", result: { ok: true }, timedOut: false });
    expect(done.calls[0]!.deadline).toBeGreaterThanOrEqual(before + 25_000);
  });

  it("converts the leader and workers", async () => {
    const { client, calls } = setup([
      { leaderId: "", epoch: 0, expiresAt: undefined, acquiredAt: undefined, held: false },
      { workers: [{ id: "w1", hostname: "h", queues: ["default"], capacity: 10, active: 2, lastHeartbeat: new Date(0), startedAt: new Date(0), alive: true, version: "0.1.0" }] },
    ]);
    expect(await client.getLeader()).toEqual({ epoch: 0, held: false });
    expect((await client.listWorkers())[0]).toMatchObject({ id: "w1", queues: ["default"], alive: true });
    expect(calls.map((c) => c.service)).toEqual(["coordinator", "coordinator"]);
  });

  it("derives the coordinator address from the scheduler's host", () => {
    const c = new TaskorchClient({ address: "10.0.0.5:7000" });
    expect(c.coordinatorAddress).toBe("10.0.0.5:50052");
    c.close();
  });
});

const GROUP = "0190a5b2-0000-7000-8000-00000000aaaa";

function protoGroup(over: Record<string, unknown> = {}) {
  return { id: GROUP, total: 3, waiting: 0, running: 0, succeeded: 3, deadLetter: 0, canceled: 0, done: true, ...over };
}

function protoSchedule(over: Partial<ProtoSchedule> = {}): ProtoSchedule {
  return {
    id: "nightly-metadata",
    cron: "0 2 * * *",
    interval: undefined,
    timeZone: "Europe/Paris",
    task: { type: "example.noop", queue: "default", payload: { batchSize: 10 }, priority: 0, maxAttempts: 3, runAt: undefined, delay: undefined, timeout: undefined, idempotencyKey: "" },
    overlapPolicy: OverlapPolicy.OVERLAP_POLICY_SKIP,
    catchupPolicy: CatchupPolicy.CATCHUP_POLICY_RUN_ONCE,
    paused: false,
    nextFireAt: new Date("2025-01-02T01:00:00Z"),
    lastFireAt: undefined,
    lastTaskId: "",
    ...over,
  };
}

describe("groups", () => {
  it("enqueueMany returns { tasks, groupId } and still works as the old Task[]", async () => {
    const { client } = setup([{ tasks: [protoTask({ id: "a", groupId: GROUP }), protoTask({ id: "b", groupId: GROUP })], groupId: GROUP }]);
    const res = await client.enqueueMany([{ type: "a" }, { type: "b" }]);
    const { tasks, groupId } = res;
    expect(groupId).toBe(GROUP);
    expect(tasks.map((t) => t.id)).toEqual(["a", "b"]);
    expect(tasks[0]!.groupId).toBe(GROUP);
    // Backward compatibility: the result is also the array of tasks.
    expect(res).toHaveLength(2);
    expect(res.map((t) => t.id)).toEqual(["a", "b"]);
    expect([...res].map((t) => t.id)).toEqual(["a", "b"]);
    expect(JSON.parse(JSON.stringify({ tasks, groupId }))).toMatchObject({ groupId: GROUP, tasks: [{ id: "a" }, { id: "b" }] });
  });

  it("enqueueManyIds asks for the ids only (read_mask) and returns them with the group", async () => {
    const { client, calls } = setup([{ tasks: [{ id: "a" }, { id: "b" }], groupId: GROUP }]);
    expect(await client.enqueueManyIds([{ type: "a" }, { type: "b", payload: { n: 1 } }])).toEqual({ ids: ["a", "b"], groupId: GROUP });
    expect(calls[0]).toMatchObject({ method: "enqueueTasks", request: { readMask: ["id"], tasks: [{ type: "a" }, { type: "b", payload: { n: 1 } }] } });
  });

  it("a single task has no groupId", async () => {
    const { client } = setup([{ task: protoTask() }]);
    expect("groupId" in (await client.get("id"))).toBe(false);
  });

  it("getGroup sends the page and converts counts, tasks and the token; groupTasks pages through", async () => {
    const { client, calls } = setup([
      { group: protoGroup(), tasks: [protoTask({ id: "a", status: ProtoStatus.TASK_STATUS_SUCCEEDED, result: 1 })], nextPageToken: "p2" },
      { group: protoGroup(), tasks: [protoTask({ id: "a" }), protoTask({ id: "b" })], nextPageToken: "x" },
      { group: protoGroup(), tasks: [protoTask({ id: "c" })], nextPageToken: "" },
    ]);
    const page = await client.getGroup(GROUP, { pageSize: 1 });
    expect(page.group).toEqual({ id: GROUP, total: 3, waiting: 0, running: 0, succeeded: 3, deadLetter: 0, canceled: 0, done: true });
    expect(page.tasks[0]).toMatchObject({ id: "a", status: "succeeded", result: 1 });
    expect(page.nextPageToken).toBe("p2");
    const ids: string[] = [];
    for await (const t of client.groupTasks(GROUP, { pageSize: 2 })) ids.push(t.id);
    expect(ids).toEqual(["a", "b", "c"]);
    expect(calls.map((c) => c.request)).toEqual([
      { id: GROUP, pageSize: 1, pageToken: "" },
      { id: GROUP, pageSize: 2, pageToken: "" },
      { id: GROUP, pageSize: 2, pageToken: "x" },
    ]);
  });

  it("waitGroup passes its timeout, extends the deadline, retries UNAVAILABLE and reports timedOut", async () => {
    const { client, calls } = setup([grpcError(status.UNAVAILABLE, "down"), { group: protoGroup({ succeeded: 1, running: 2, done: false }), timedOut: true }]);
    const before = Date.now();
    const g = await client.waitGroup(GROUP, { timeoutMs: 0 });
    expect(g).toMatchObject({ succeeded: 1, running: 2, done: false, timedOut: true });
    expect(calls).toHaveLength(2);
    expect(calls[0]!.request).toEqual({ id: GROUP, timeout: { seconds: 0, nanos: 0 } });
    expect(calls[0]!.deadline).toBeGreaterThanOrEqual(before + 5000);

    const done = setup([{ group: protoGroup(), timedOut: false }]);
    expect(await done.client.waitGroup(GROUP, { timeoutMs: 20_000 })).toMatchObject({ done: true, succeeded: 3, timedOut: false });
    expect(done.calls[0]!.deadline).toBeGreaterThanOrEqual(before + 25_000);
    await expect(done.client.waitGroup(GROUP, { timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be >= 0/);
  });
});

describe("limits", () => {
  it("sets, lists and deletes rate and queue limits, retrying them on UNAVAILABLE", async () => {
    const down = () => grpcError(status.UNAVAILABLE, "down");
    const { client, calls } = setup([
      down(),
      { limit: { type: "email.send", rate: "10/m" } },
      down(),
      { limit: { queue: "reports", maxConcurrency: 2 } },
      down(),
      { rateLimits: [{ type: "email.send", rate: "10/m" }], queueLimits: [{ queue: "reports", maxConcurrency: 2 }] },
      down(),
      {},
      down(),
      {},
    ]);
    expect(await client.setRateLimit("email.send", "10/m")).toEqual({ type: "email.send", rate: "10/m" });
    expect(await client.setQueueLimit("reports", 2)).toEqual({ queue: "reports", maxConcurrency: 2 });
    expect(await client.listLimits()).toEqual({ rateLimits: [{ type: "email.send", rate: "10/m" }], queueLimits: [{ queue: "reports", maxConcurrency: 2 }] });
    await client.deleteRateLimit("email.send");
    await client.deleteQueueLimit("reports");
    expect(calls.map((c) => [c.method, c.request])).toEqual([
      ["setRateLimit", { limit: { type: "email.send", rate: "10/m" } }],
      ["setRateLimit", { limit: { type: "email.send", rate: "10/m" } }],
      ["setQueueLimit", { limit: { queue: "reports", maxConcurrency: 2 } }],
      ["setQueueLimit", { limit: { queue: "reports", maxConcurrency: 2 } }],
      ["listLimits", {}],
      ["listLimits", {}],
      ["deleteRateLimit", { type: "email.send" }],
      ["deleteRateLimit", { type: "email.send" }],
      ["deleteQueueLimit", { queue: "reports" }],
      ["deleteQueueLimit", { queue: "reports" }],
    ]);
  });

  it("surfaces the server's INVALID_ARGUMENT naming the field, without retrying", async () => {
    const { client, calls } = setup([grpcError(status.INVALID_ARGUMENT, 'limit.rate: "fast" is not a rate')]);
    const err = await client.setRateLimit("email.send", "fast").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as InvalidRequestError).details).toMatch(/^limit\.rate: /);
    expect(calls).toHaveLength(1);
  });
});

describe("schedules", () => {
  it("createSchedule sends the proto schedule (durations, policies) and is not retried", async () => {
    const { client, calls } = setup([grpcError(status.UNAVAILABLE, "down")]);
    await expect(
      client.createSchedule({ id: "hourly", intervalMs: 3_600_000, task: { type: "example.noop", payload: { a: 1 }, priority: 5, timeoutMs: 1500 }, overlapPolicy: "skip", catchupPolicy: "run_once" }),
    ).rejects.toBeInstanceOf(UnavailableError);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.method).toBe("createSchedule");
    expect(calls[0]!.request).toEqual({
      schedule: {
        id: "hourly",
        cron: "",
        interval: { seconds: 3600, nanos: 0 },
        timeZone: "",
        task: { type: "example.noop", queue: "", payload: { a: 1 }, priority: 5, maxAttempts: undefined, runAt: undefined, delay: undefined, timeout: { seconds: 1, nanos: 500_000_000 }, idempotencyKey: "" },
        overlapPolicy: OverlapPolicy.OVERLAP_POLICY_SKIP,
        catchupPolicy: CatchupPolicy.CATCHUP_POLICY_RUN_ONCE,
        paused: false,
        nextFireAt: undefined,
        lastFireAt: undefined,
        lastTaskId: "",
      },
    });
  });

  it("defaults the policies to allow and skip, and rejects unknown policy strings before calling", async () => {
    const { client, calls } = setup([{ schedule: protoSchedule() }]);
    await client.createSchedule({ id: "n", cron: "0 2 * * *", timeZone: "Europe/Paris", task: { type: "example.noop" } });
    expect(calls[0]!.request).toMatchObject({ schedule: { cron: "0 2 * * *", interval: undefined, timeZone: "Europe/Paris", overlapPolicy: OverlapPolicy.OVERLAP_POLICY_ALLOW, catchupPolicy: CatchupPolicy.CATCHUP_POLICY_SKIP, task: { payload: null } } });
    await expect(client.createSchedule({ id: "n", cron: "* * * * *", task: { type: "t" }, overlapPolicy: "never" as never })).rejects.toThrow(/overlapPolicy must be "allow" or "skip"/);
    await expect(client.createSchedule({ id: "n", cron: "* * * * *", task: { type: "t" }, catchupPolicy: "run-once" as never })).rejects.toThrow(/catchupPolicy must be "skip" or "run_once"/);
    expect(calls).toHaveLength(1);
  });

  it("converts schedules: policy strings, Dates, interval in ms, no empty strings", async () => {
    const fired = new Date("2025-01-01T01:00:00Z");
    const { client } = setup([
      { schedule: protoSchedule({ lastFireAt: fired, lastTaskId: "t1" }) },
      { schedules: [protoSchedule({ id: "every", cron: "", interval: { seconds: 90, nanos: 0 }, timeZone: "UTC", overlapPolicy: OverlapPolicy.OVERLAP_POLICY_UNSPECIFIED, catchupPolicy: CatchupPolicy.CATCHUP_POLICY_UNSPECIFIED, task: { type: "t", queue: "q", payload: null, priority: -3, maxAttempts: 5, runAt: undefined, delay: undefined, timeout: { seconds: 2, nanos: 0 }, idempotencyKey: "" } })] },
    ]);
    expect(await client.getSchedule("nightly-metadata")).toEqual({
      id: "nightly-metadata",
      cron: "0 2 * * *",
      timeZone: "Europe/Paris",
      task: { type: "example.noop", queue: "default", payload: { batchSize: 10 }, priority: 0, maxAttempts: 3 },
      overlapPolicy: "skip",
      catchupPolicy: "run_once",
      paused: false,
      nextFireAt: new Date("2025-01-02T01:00:00Z"),
      lastFireAt: fired,
      lastTaskId: "t1",
    });
    const [every] = await client.listSchedules();
    expect(every).toEqual({
      id: "every",
      intervalMs: 90_000,
      timeZone: "UTC",
      task: { type: "t", queue: "q", payload: null, priority: -3, maxAttempts: 5, timeoutMs: 2000 },
      overlapPolicy: "allow",
      catchupPolicy: "skip",
      paused: false,
      nextFireAt: new Date("2025-01-02T01:00:00Z"),
    });
  });

  it("retries get, list, update, delete, pause and resume; never trigger", async () => {
    const down = () => grpcError(status.UNAVAILABLE, "down");
    const { client, calls } = setup([
      down(), { schedule: protoSchedule() },
      down(), { schedules: [] },
      down(), { schedule: protoSchedule({ cron: "30 2 * * *" }) },
      down(), { schedule: protoSchedule({ paused: true, nextFireAt: undefined }) },
      down(), { schedule: protoSchedule() },
      down(), {},
      down(),
    ]);
    await client.getSchedule("n");
    expect(await client.listSchedules()).toEqual([]);
    expect((await client.updateSchedule({ id: "nightly-metadata", cron: "30 2 * * *", task: { type: "example.noop" } })).cron).toBe("30 2 * * *");
    const paused = await client.pauseSchedule("n");
    expect(paused.paused).toBe(true);
    expect("nextFireAt" in paused).toBe(false);
    expect((await client.resumeSchedule("n")).paused).toBe(false);
    await client.deleteSchedule("n");
    await expect(client.triggerSchedule("n")).rejects.toBeInstanceOf(UnavailableError);
    expect(calls.map((c) => c.method)).toEqual([
      "getSchedule", "getSchedule", "listSchedules", "listSchedules", "updateSchedule", "updateSchedule",
      "pauseSchedule", "pauseSchedule", "resumeSchedule", "resumeSchedule", "deleteSchedule", "deleteSchedule", "triggerSchedule",
    ]);
    expect(calls[12]!.request).toEqual({ id: "n" });
  });

  it("triggerSchedule returns the enqueued task", async () => {
    const { client } = setup([{ task: protoTask({ id: "t9", payload: { batchSize: 10 } }) }]);
    expect(await client.triggerSchedule("nightly-metadata")).toMatchObject({ id: "t9", payload: { batchSize: 10 }, status: "queued" });
  });

  it("maps NOT_FOUND and ALREADY_EXISTS to their classes", async () => {
    const { client } = setup([grpcError(status.NOT_FOUND, "schedule x not found"), grpcError(status.ALREADY_EXISTS, "schedule x already exists")]);
    await expect(client.getSchedule("x")).rejects.toBeInstanceOf(TaskNotFoundError);
    await expect(client.createSchedule({ id: "x", cron: "* * * * *", task: { type: "t" } })).rejects.toBeInstanceOf(AlreadyExistsError);
  });
});
