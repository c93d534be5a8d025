/**
 * Postgres goes away under a running cluster (a crash: `pg_ctl stop -m immediate`) for longer than
 * WORKER_TIMEOUT, and comes back. Nothing is restarted: the services must ride it out.
 *
 * What must hold: enqueues fail at once with UNAVAILABLE while it is gone (nothing half-written),
 * every task accepted before runs to completion afterwards, and the workers that kept running
 * their tasks through the outage are not taken for dead because their heartbeats could not be
 * recorded: each task succeeds in its first attempt, run once.
 */
import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import { TaskStatus } from "@taskorch/proto";
import { eventually, startThrowawayPostgres, type ThrowawayPostgres } from "@taskorch/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { FAST_ENV, startCluster, type Cluster } from "./cluster.js";

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
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && c) console.error(await c.diagnostics().catch((e: unknown) => `no diagnostics: ${String(e)}`));
  await c?.teardown();
  c = undefined;
  await pg?.stop();
  pg = undefined;
});

describe("Postgres goes away and comes back", () => {
  it("running tasks stay with their live workers, enqueues fail UNAVAILABLE meanwhile, and every accepted task succeeds once", async () => {
    pg = await startThrowawayPostgres();
    c = await startCluster({
      postgresAdminUrl: pg.adminUrl,
      workers: 1,
      env: { HEARTBEAT_INTERVAL: `${HEARTBEAT_INTERVAL_MS}ms`, WORKER_TIMEOUT: `${WORKER_TIMEOUT_MS}ms` },
    });
    const processes = [c.scheduler, ...c.coordinators, ...c.workers];
    expect(FAST_ENV.LEADER_TERM).toBe("3s");

    // Tasks that run across the whole outage.
    const { tasks } = await c.api.enqueueTasks({ tasks: Array.from({ length: 5 }, () => ({ ...base, type: "example.sleep", payload: { ms: 16_000 } })) });
    const ids = tasks.map((t) => t.id);
    await eventually(async () => Number((await c!.sql.query("SELECT count(*) AS n FROM tasks WHERE id = ANY($1) AND status = 'running'", [ids])).rows[0].n) === 5, { what: "all 5 running" });

    // A settled cluster: the leader judges workers by their heartbeats (a heartbeat interval after its term began).
    await eventually(() => c!.coordinator.output().includes("judging workers by their heartbeats again"), { timeoutMs: 15_000, what: "the leader judging heartbeats" });
    const leaderLogBefore = c.coordinator.output().length;
    await pg.crash();
    const refused = (await c.api.enqueueTask({ ...base, type: "example.noop" }).then(
      () => undefined,
      (e: ServiceError) => e,
    )) as ServiceError | undefined;
    expect(refused?.code).toBe(grpcStatus.UNAVAILABLE);
    expect(refused?.details).toMatch(/database is unavailable/);
    // Longer than WORKER_TIMEOUT: every worker's last recorded heartbeat is older than that when it is back.
    await new Promise((r) => setTimeout(r, WORKER_TIMEOUT_MS + 1500));
    await pg.start();

    // Accepting again without a restart of anything.
    const after = await eventually(() => c!.api.enqueueTask({ ...base, type: "example.noop" }).catch(() => undefined), { timeoutMs: 30_000, what: "an enqueue accepted again" });
    const done = await c.api.waitTask({ id: after.task!.id, timeout: { seconds: 30, nanos: 0 } });
    expect(done.task?.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);

    for (const id of ids) {
      const r = await c.api.waitTask({ id, timeout: { seconds: 30, nanos: 0 } });
      expect(r.task?.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
      // Not taken from its live worker and run again: one attempt, and no error on record.
      expect(r.task?.attempts).toBe(1);
      expect(r.task?.lastError ?? "").toBe("");
    }
    expect(processes.every((p) => p.child.exitCode === null && p.child.signalCode === null)).toBe(true);
    // And the leader said why it waited before judging workers by their heartbeats again.
    const since = () => c!.coordinator.output().slice(leaderLogBefore);
    expect(since()).toMatch(/not taking silent workers for dead until their heartbeats can have been recorded again/);
    await eventually(() => since().includes("judging workers by their heartbeats again"), { timeoutMs: 15_000, what: "the leader judging heartbeats again" });
    // Judging again, it finds the worker alive: still nothing rescued.
    const rescued = await c.sql.query("SELECT count(*) AS n FROM tasks WHERE attempts > 1 OR last_error IS NOT NULL");
    expect(Number(rescued.rows[0].n)).toBe(0);
  });
});
