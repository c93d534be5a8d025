/**
 * Postgres or NATS goes away under a running cluster (a crash: `pg_ctl stop -m immediate`, SIGKILL
 * of nats-server) for longer than WORKER_TIMEOUT, and comes back. Nothing is restarted: the
 * services must ride it out.
 *
 * What must hold: enqueues fail at once with UNAVAILABLE while Postgres is gone (nothing
 * half-written), every task accepted before runs to completion afterwards, and the workers that
 * kept running their tasks through the outage are not taken for dead because their heartbeats
 * could not be recorded, nor a task that finished in the outage for timed out because its report
 * could not be: each task succeeds in its first attempt, run once.
 */
import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import { TaskStatus } from "@taskorch/proto";
import {
  eventually,
  startTcpProxy,
  startThrowawayNats,
  startThrowawayPostgres,
  TEST_DATABASE_ADMIN_URL,
  type TcpProxy,
  type ThrowawayNats,
  type ThrowawayPostgres,
} from "@taskorch/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./cluster.js";

const base = { queue: "", priority: 0, idempotencyKey: "", runAt: undefined, delay: undefined, timeout: undefined, payload: undefined } as const;
/**
 * Heartbeats far apart against the leader's election retry (LEADER_TERM/3 = 1 s), so that after
 * the outage the new term's first rescue round usually comes before any heartbeat is recorded
 * again: the moment a leader that judged silence by the stale table would take every worker for dead.
 */
const HEARTBEAT_INTERVAL_MS = 4000;
const WORKER_TIMEOUT_MS = 5000;

let c: Cluster | undefined;
let pg: ThrowawayPostgres | undefined;
let nats: ThrowawayNats | undefined;
let proxy: TcpProxy | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && c) console.error(await c.diagnostics().catch((e: unknown) => `no diagnostics: ${String(e)}`));
  await c?.teardown();
  c = undefined;
  await pg?.stop();
  pg = undefined;
  await nats?.stop();
  nats = undefined;
  await proxy?.close();
  proxy = undefined;
});

const outageEnv = { HEARTBEAT_INTERVAL: `${HEARTBEAT_INTERVAL_MS}ms`, WORKER_TIMEOUT: `${WORKER_TIMEOUT_MS}ms` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Tasks that run across the whole outage, all running when it resolves. */
async function longRunningTasks(cluster: Cluster): Promise<string[]> {
  const { tasks } = await cluster.api.enqueueTasks({ tasks: Array.from({ length: 5 }, () => ({ ...base, type: "example.sleep", payload: { ms: 16_000 } })) });
  const ids = tasks.map((t) => t.id);
  await eventually(async () => Number((await cluster.sql.query("SELECT count(*) AS n FROM tasks WHERE id = ANY($1) AND status = 'running'", [ids])).rows[0].n) === 5, { what: "all 5 running" });
  // A settled cluster: the leader judges workers by their heartbeats (a heartbeat interval after its term began).
  await eventually(() => cluster.coordinator.output().includes("judging workers by their heartbeats and attempts by their timeouts again"), { timeoutMs: 15_000, what: "the leader judging heartbeats" });
  return ids;
}

/** A task of 1 s with a timeout of 1.5 s, running when this returns. */
async function reportDuringOutage(cluster: Cluster): Promise<string> {
  const { task } = await cluster.api.enqueueTask({ ...base, type: "example.sleep", payload: { ms: 1000 }, timeout: { seconds: 1, nanos: 500_000_000 } });
  const id = task!.id;
  await eventually(async () => (await cluster.sql.query("SELECT status FROM tasks WHERE id = $1", [id])).rows[0].status === "running", { intervalMs: 10, what: "the short task running" });
  return id;
}

/** Every task succeeded in its first attempt, and nothing else was rescued once the leader judged silence again. */
async function expectRunOnce(cluster: Cluster, ids: string[], leaderLogBefore: number): Promise<void> {
  for (const id of ids) {
    const r = await cluster.api.waitTask({ id, timeout: { seconds: 30, nanos: 0 } });
    expect(r.task?.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    // Not taken from its live worker and run again: one attempt, and no error on record.
    expect(r.task?.attempts).toBe(1);
    expect(r.task?.lastError ?? "").toBe("");
  }
  const since = () => cluster.coordinator.output().slice(leaderLogBefore);
  expect(since()).toMatch(/taking no silent worker for dead and no attempt past its timeout for lost until heartbeats and reports can have been recorded again/);
  await eventually(() => since().includes("judging workers by their heartbeats and attempts by their timeouts again"), { timeoutMs: 15_000, what: "the leader judging heartbeats again" });
  const rescued = await cluster.sql.query("SELECT count(*) AS n FROM tasks WHERE attempts > 1 OR last_error IS NOT NULL");
  expect(Number(rescued.rows[0].n)).toBe(0);
}

describe("Postgres goes away and comes back", () => {
  it("running tasks stay with their live workers, enqueues fail UNAVAILABLE meanwhile, and every accepted task succeeds once", async () => {
    pg = await startThrowawayPostgres();
    c = await startCluster({ postgresAdminUrl: pg.adminUrl, workers: 1, env: outageEnv });
    const processes = [c.scheduler, ...c.coordinators, ...c.workers];
    const ids = await longRunningTasks(c);

    // And one that finishes early in the outage, its report waiting in JetStream, while its timeout
    // (plus the leader's 5 s grace) runs out before Postgres is back: finished is not timed out.
    const quick = await reportDuringOutage(c);
    ids.push(quick);

    const leaderLogBefore = c.coordinator.output().length;
    const schedulerLogBefore = c.scheduler.output().length;
    await pg.crash();
    const refused = (await c.api.enqueueTask({ ...base, type: "example.noop" }).then(
      () => undefined,
      (e: ServiceError) => e,
    )) as ServiceError | undefined;
    expect(refused?.code).toBe(grpcStatus.UNAVAILABLE);
    expect(refused?.details).toMatch(/database is unavailable/);
    // Longer than WORKER_TIMEOUT: every worker's last recorded heartbeat is older than that when it is back.
    await sleep(WORKER_TIMEOUT_MS + 1500);
    await pg.start();

    // Accepting again without a restart of anything.
    const after = await eventually(() => c!.api.enqueueTask({ ...base, type: "example.noop" }).catch(() => undefined), { timeoutMs: 30_000, what: "an enqueue accepted again" });
    const done = await c.api.waitTask({ id: after.task!.id, timeout: { seconds: 30, nanos: 0 } });
    expect(done.task?.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    await expectRunOnce(c, ids, leaderLogBefore);
    expect(processes.every((p) => p.child.exitCode === null && p.child.signalCode === null)).toBe(true);

    // Loops that failed every second through the outage logged their first failure and their
    // recovery, not a line (with a stack) per retry.
    const leaderLog = logLines(c.coordinator.output().slice(leaderLogBefore));
    expect(leaderLog.filter((m) => m === "Elector: election round failed")).toHaveLength(1);
    expect(leaderLog).toContain("Elector: election rounds work again");
    const schedulerLog = logLines(c.scheduler.output().slice(schedulerLogBefore));
    expect(schedulerLog.filter((m) => m.startsWith("ReportApplier: writing reports failed"))).toHaveLength(1);
    expect(schedulerLog).toContain("ReportApplier: writing reports works again");
  });
});

/** The messages of a process's JSON log lines. */
function logLines(output: string): string[] {
  return output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
}

describe("NATS goes away and comes back", () => {
  it("running tasks stay with their live workers, and every task succeeds once", async () => {
    nats = await startThrowawayNats();
    c = await startCluster({ workers: 1, env: { ...outageEnv, NATS_URL: nats.url } });
    const processes = [c.scheduler, ...c.coordinators, ...c.workers];
    const ids = await longRunningTasks(c);

    // A report made while NATS is gone waits in the worker until it can be published.
    ids.push(await reportDuringOutage(c));

    const leaderLogBefore = c.coordinator.output().length;
    nats.kill();
    // Longer than WORKER_TIMEOUT without a heartbeat reaching the workers table; Postgres stays up.
    await sleep(WORKER_TIMEOUT_MS + 1500);
    await nats.restart();

    await expectRunOnce(c, ids, leaderLogBefore);
    // And new work flows again.
    const after = await eventually(() => c!.api.enqueueTask({ ...base, type: "example.noop" }).catch(() => undefined), { timeoutMs: 30_000, what: "an enqueue accepted" });
    const done = await c.api.waitTask({ id: after.task!.id, timeout: { seconds: 30, nanos: 0 } });
    expect(done.task?.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    expect(processes.every((p) => p.child.exitCode === null && p.child.signalCode === null)).toBe(true);
  });
});

describe("Postgres vanishes without closing its connections (a failover behind its address)", () => {
  it("statements on the dead connections fail after DATABASE_QUERY_TIMEOUT, and the services carry on over fresh ones", async () => {
    const admin = new URL(TEST_DATABASE_ADMIN_URL);
    proxy = await startTcpProxy(Number(admin.port || 5432), admin.hostname);
    c = await startCluster({ servicesPostgresPort: proxy.port, workers: 1, env: { DATABASE_QUERY_TIMEOUT: "2s" } });
    const processes = [c.scheduler, ...c.coordinators, ...c.workers];
    // Every service holds pooled connections: work flowed through all of them.
    const warm = await c.api.enqueueTasks({ tasks: Array.from({ length: 50 }, () => ({ ...base, type: "example.noop" })) });
    for (const t of warm.tasks) expect((await c.api.waitTask({ id: t.id, timeout: { seconds: 30, nanos: 0 } })).task?.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);

    // Nothing comes back on the open connections, and nothing closes them; new ones reach Postgres.
    proxy.freeze();
    const answered = (p: Promise<unknown>) => Promise.race([p.then(() => true, () => false), sleep(5000).then(() => false)]);
    const accepted = await eventually(
      async () => {
        const call = c!.api.enqueueTask({ ...base, type: "example.noop" });
        return (await answered(call)) ? call : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "an enqueue accepted over a fresh connection" },
    );
    const done = await c.api.waitTask({ id: (await accepted).task!.id, timeout: { seconds: 30, nanos: 0 } });
    // Admitted or dispatched, claimed and its report recorded: every service got past its dead connections.
    expect(done.task?.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    expect(processes.every((p) => p.child.exitCode === null && p.child.signalCode === null)).toBe(true);
  });
});
