import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { TaskStatus } from "@taskorch/proto";
import {
  eventually,
  freePort,
  metricValue,
  parseMetrics,
  schedulerClient,
  spawnService,
  startThrowawayNats,
  type ServiceProcess,
  type ThrowawayNats,
} from "@taskorch/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { nodeIdOf, startCluster, type Cluster } from "./cluster.js";

const base = { queue: "", priority: 0, idempotencyKey: "", runAt: undefined, delay: undefined, timeout: undefined, payload: undefined } as const;
const LEADER_TERM_MS = 3000;
const RENEW_MS = LEADER_TERM_MS / 3;

let c: Cluster | undefined;
/** A nats-server of a test's own (with monitoring), stopped after its cluster. */
let ownNats: ThrowawayNats | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && c) console.error(await c.diagnostics());
  await c?.teardown();
  c = undefined;
  await ownNats?.stop();
  ownNats = undefined;
});

/** How many of a worker's reports the scheduler refused as no longer current (its debug log). */
function refusedReports(schedulerLog: string, workerId: string): number {
  let n = 0;
  for (const line of schedulerLog.split("\n")) {
    if (!line.includes("ReportApplier: ignored reports")) continue;
    const entry = JSON.parse(line) as { stale: number; worker: string };
    if (entry.worker === workerId) n += entry.stale;
  }
  return n;
}

async function countWhere(cluster: Cluster, where: string, params: unknown[] = []): Promise<number> {
  return Number((await cluster.sql.query(`SELECT count(*) AS n FROM tasks WHERE ${where}`, params)).rows[0].n);
}

async function leaderProcess(cluster: Cluster): Promise<{ proc: ServiceProcess; epoch: number }> {
  const leader = await eventually(async () => {
    const l = await cluster.coord.getLeader({});
    return l.held ? l : undefined;
  }, { what: "a leader" });
  const proc = cluster.coordinators.find((p) => nodeIdOf(p) === leader.leaderId);
  if (!proc) throw new Error(`leader ${leader.leaderId} is none of our coordinators`);
  return { proc, epoch: leader.epoch };
}

/** Asks whichever coordinator still answers. */
async function getLeader(cluster: Cluster, via: ServiceProcess) {
  const { coordinatorClient } = await import("@taskorch/testkit");
  const client = coordinatorClient(via.grpcPort);
  try {
    return await client.getLeader({});
  } finally {
    client.close();
  }
}

describe("recovery when processes die", () => {
  it("SIGKILL of a worker in the middle of 200 slow tasks: every task still succeeds, recorded once", async () => {
    c = await startCluster({ workers: 2, workerEnv: { WORKER_POOL_SIZE: "60" } });
    const before = metricValue(parseMetrics(await c.scheduler.metricsText()), "tasks_completed_total", { type: "example.sleep", status: "success" });
    const { tasks } = await c.api.enqueueTasks({ tasks: Array.from({ length: 200 }, () => ({ ...base, type: "example.sleep", payload: { ms: 1500 } })) });
    const ids = tasks.map((t) => t.id);
    const victim = c.workers[1]!;
    const victimId = nodeIdOf(victim);
    await eventually(async () => (await countWhere(c!, "status = 'running' AND worker_id = $1", [victimId])) >= 20, { what: "victim busy" });
    const killedWith = await countWhere(c, "status = 'running' AND worker_id = $1", [victimId]);
    victim.signal("SIGKILL");
    await victim.exited;
    const budgetMs = 3000 /* WORKER_TIMEOUT */ + 2000 /* CLEANUP_INTERVAL */ + 30_000; /* the work itself on 2 cores */
    await eventually(async () => (await countWhere(c!, "id = ANY($1) AND status = 'succeeded'", [ids])) === 200, { timeoutMs: budgetMs, intervalMs: 200, what: "all 200 succeeded" });
    const rescued = (await c.sql.query("SELECT attempts, last_error FROM tasks WHERE id = ANY($1) AND attempts > 1", [ids])).rows as Array<{ attempts: number; last_error: string }>;
    expect(rescued.length).toBeGreaterThanOrEqual(killedWith);
    expect(rescued.every((r) => r.attempts === 2 && r.last_error.includes(`worker lost (worker ${victimId})`))).toBe(true);
    const after = await eventually(async () => {
      const v = metricValue(parseMetrics(await c!.scheduler.metricsText()), "tasks_completed_total", { type: "example.sleep", status: "success" });
      return v - before >= 200 ? v : undefined;
    });
    expect(after - before).toBe(200);
  });

  it("a worker paused past WORKER_TIMEOUT (SIGSTOP): its attempts run elsewhere, and what it reports when it wakes changes nothing", async () => {
    // DEBUG: the scheduler logs the reports it refuses, which is how the test knows they arrived.
    c = await startCluster({ workers: 2, workerEnv: { WORKER_POOL_SIZE: "30" }, env: { DEBUG: "true" } });
    const before = metricValue(parseMetrics(await c.scheduler.metricsText()), "tasks_completed_total", { type: "example.sleep", status: "success" });
    const { tasks } = await c.api.enqueueTasks({ tasks: Array.from({ length: 40 }, () => ({ ...base, type: "example.sleep", payload: { ms: 4000 } })) });
    const ids = tasks.map((t) => t.id);
    const sleeper = c.workers[1]!;
    const sleeperId = nodeIdOf(sleeper);
    await eventually(async () => (await countWhere(c!, "status = 'running' AND worker_id = $1", [sleeperId])) >= 5, { what: "the sleeper busy" });
    const held = (await c.sql.query("SELECT id FROM tasks WHERE status = 'running' AND worker_id = $1", [sleeperId])).rows.map((r: { id: string }) => r.id);
    sleeper.signal("SIGSTOP");
    // Past WORKER_TIMEOUT (3 s) plus a rescue round: its attempts go to the other worker.
    await eventually(async () => (await countWhere(c!, "id = ANY($1) AND attempts = 2", [held])) === held.length, { timeoutMs: 15_000, intervalMs: 200, what: "its attempts taken away" });
    sleeper.signal("SIGCONT");
    await eventually(async () => (await countWhere(c!, "id = ANY($1) AND status = 'succeeded'", [ids])) === 40, { timeoutMs: 30_000, intervalMs: 200, what: "all 40 succeeded" });
    const rescued = (await c.sql.query("SELECT attempts, last_error FROM tasks WHERE id = ANY($1)", [held])).rows as Array<{ attempts: number; last_error: string }>;
    expect(rescued.every((r) => r.attempts === 2 && r.last_error.includes(`worker lost (worker ${sleeperId})`))).toBe(true);
    // The woken worker finished every attempt taken from it and reported it: each report refused.
    const taken = await countWhere(c, "id = ANY($1) AND last_error LIKE $2", [ids, `%worker lost (worker ${sleeperId})%`]);
    await eventually(() => refusedReports(c!.scheduler.output(), sleeperId) >= taken, { timeoutMs: 15_000, what: `${taken} late reports refused` });
    expect(refusedReports(c.scheduler.output(), sleeperId)).toBe(taken);
    // Each task's success is recorded once, whichever attempts ran.
    const after = metricValue(parseMetrics(await c.scheduler.metricsText()), "tasks_completed_total", { type: "example.sleep", status: "success" });
    expect(after - before).toBe(40);
    // It is alive again.
    await eventually(async () => (await c!.coord.listWorkers({})).workers.find((w) => w.id === sleeperId)?.alive === true, { what: "the sleeper alive again" });
  });

  it("SIGKILL of a scheduler under load: every task it accepted, and every claim and report it held, is carried through by the other", async () => {
    c = await startCluster({ workerEnv: { WORKER_POOL_SIZE: "50" } });
    const survivor = await spawnService("scheduler", { env: c.env });
    const api = schedulerClient(survivor.grpcPort);
    try {
      const victim = c.scheduler;
      // Enqueues keep going to the victim while it dies: every call that returned OK must run.
      const accepted: string[] = [];
      let stop = false;
      const enqueuing = (async () => {
        while (!stop) {
          await Promise.all(
            Array.from({ length: 8 }, () =>
              c!.api.enqueueTask({ ...base, type: "example.sleep", payload: { ms: 200 } }).then(
                (r) => void accepted.push(r.task!.id),
                () => undefined,
              ),
            ),
          );
        }
      })();
      // Both schedulers answer claims and apply reports; let the victim hold some of each.
      await eventually(async () => accepted.length >= 150 && (await countWhere(c!, "status = 'succeeded'")) >= 50, { timeoutMs: 30_000, what: "work flowing" });
      victim.signal("SIGKILL");
      await victim.exited;
      stop = true;
      await enqueuing;
      // A report the victim had fetched comes back after the reports stream's ack wait (30 s).
      await eventually(async () => (await countWhere(c!, "id = ANY($1) AND status = 'succeeded'", [accepted])) === accepted.length, {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: `all ${accepted.length} accepted tasks succeeded`,
      });
      // Nothing ran twice on account of the crash: no attempt was rescued or refused into a retry.
      expect(await countWhere(c, "id = ANY($1) AND (attempts <> 1 OR last_error IS NOT NULL)", [accepted])).toBe(0);
      expect((await api.getTask({ id: accepted[accepted.length - 1]! })).task?.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    } finally {
      api.close();
      await survivor.stop();
    }
  });

  it("SIGKILL of the leader: a successor leads within LEADER_TERM plus one renewal, and no task is lost", async () => {
    c = await startCluster({ coordinators: 2 });
    const { proc: leader, epoch } = await leaderProcess(c);
    const follower = c.coordinators.find((p) => p !== leader)!;
    // Retries need the leader (promotion): keep flaky tasks flowing across the failover.
    const first = await c.api.enqueueTasks({ tasks: Array.from({ length: 20 }, () => ({ ...base, type: "example.flaky", payload: { failTimes: 1 } })) });
    leader.signal("SIGKILL");
    const killedAt = Date.now();
    const successor = await eventually(async () => {
      const l = await getLeader(c!, follower);
      return l.held && l.epoch > epoch ? l : undefined;
    }, { timeoutMs: 20_000, intervalMs: 50, what: "a new leader" });
    const tookMs = Date.now() - killedAt;
    expect(successor.leaderId).toBe(nodeIdOf(follower));
    expect(successor.epoch).toBe(epoch + 1);
    expect(tookMs).toBeLessThan(LEADER_TERM_MS + RENEW_MS + 2000); // 2s of slack for a loaded CI machine
    const second = await c.api.enqueueTasks({ tasks: Array.from({ length: 20 }, () => ({ ...base, type: "example.flaky", payload: { failTimes: 1 } })) });
    const ids = [...first.tasks, ...second.tasks].map((t) => t.id);
    await eventually(async () => (await countWhere(c!, "id = ANY($1) AND status = 'succeeded'", [ids])) === 40, { timeoutMs: 30_000, what: "all flaky tasks succeeded" });
  });

  it("SIGTERM of the leader releases the lease: a follower takes over without waiting out the term", async () => {
    c = await startCluster({ coordinators: 2, env: { LEADER_TERM: "30s" } });
    const { proc: leader, epoch } = await leaderProcess(c);
    const follower = c.coordinators.find((p) => p !== leader)!;
    leader.signal("SIGTERM");
    const stoppedAt = Date.now();
    const successor = await eventually(async () => {
      const l = await getLeader(c!, follower);
      return l.held && l.epoch > epoch ? l : undefined;
    }, { timeoutMs: 20_000, intervalMs: 20, what: "handover" });
    // Far below the 30s term and the 10s renewal interval: only the resignation can explain it.
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    expect(successor.leaderId).toBe(nodeIdOf(follower));
    expect(await leader.exited).toBe(0);
    expect(leader.output()).toContain('"reason":"resigned"');
  });

  it("only the leader listens for capacity nudges, and a new leader does at once", async () => {
    const monitorPort = await freePort();
    ownNats = await startThrowawayNats(`http: "127.0.0.1:${monitorPort}"`);
    c = await startCluster({ coordinators: 2, env: { NATS_URL: ownNats.url } });
    const subject = `${c.nats.prefix}.events.capacity`;
    // Connections (by client id) that hold a subscription to the nudges, from the server's monitor.
    const listeners = async (): Promise<number[]> => {
      const connz = (await (await fetch(`http://127.0.0.1:${monitorPort}/connz?subs=1`)).json()) as { connections: Array<{ cid: number; subscriptions_list?: string[] }> };
      return connz.connections.filter((x) => (x.subscriptions_list ?? []).includes(subject)).map((x) => x.cid);
    };
    const { proc: leader } = await leaderProcess(c);
    const [first] = await eventually(async () => {
      const l = await listeners();
      return l.length === 1 ? l : undefined;
    }, { what: "one listener: the leader" });
    leader.signal("SIGTERM");
    await leader.exited;
    await eventually(async () => {
      const l = await listeners();
      return l.length === 1 && l[0] !== first ? l : undefined;
    }, { timeoutMs: 10_000, what: "the new leader listening" });
    // And the new leader leads: a task stored PENDING behind a delay is admitted and runs (by a
    // nudge or by the Admitter's timer; the listener count above is what shows who hears nudges).
    const { task } = await c.api.enqueueTask({ ...base, type: "example.noop", delay: { seconds: 0, nanos: 200_000_000 } });
    await eventually(async () => (await countWhere(c!, "id = $1 AND status = 'succeeded'", [task!.id])) === 1, { what: "delayed task run" });
  });

  it("a leader paused past its term (SIGSTOP) writes nothing as leader when it wakes", async () => {
    c = await startCluster({ coordinators: 2 });
    const { proc: old, epoch: oldEpoch } = await leaderProcess(c);
    const other = c.coordinators.find((p) => p !== old)!;
    old.signal("SIGSTOP");
    const successor = await eventually(async () => {
      const l = await getLeader(c!, other);
      return l.held && l.epoch > oldEpoch ? l : undefined;
    }, { timeoutMs: 20_000, what: "takeover" });
    expect(successor.leaderId).toBe(nodeIdOf(other));
    // Give the woken leader work it would do if it could: due retries and delayed tasks.
    const { tasks } = await c.api.enqueueTasks({
      tasks: [
        ...Array.from({ length: 10 }, () => ({ ...base, type: "example.flaky", payload: { failTimes: 2 } })),
        ...Array.from({ length: 10 }, () => ({ ...base, type: "example.noop", delay: { seconds: 0, nanos: 300_000_000 } })),
      ],
    });
    old.signal("SIGCONT");
    const ids = tasks.map((t) => t.id);
    await eventually(async () => (await countWhere(c!, "id = ANY($1) AND status = 'succeeded'", [ids])) === 20, { timeoutMs: 30_000, what: "all succeeded" });
    await eventually(() => old.output().includes('"msg":"Elector: no longer leader"'), { what: "old leader stepped down" });
    // Written by the old term after the takeover: nothing.
    expect(await countWhere(c, "leader_epoch = $1 AND updated_at >= $2", [oldEpoch, successor.acquiredAt])).toBe(0);
    expect(await countWhere(c, "id = ANY($1) AND leader_epoch = $2", [ids, successor.epoch])).toBeGreaterThan(0);
    const metrics = parseMetrics(await old.metricsText());
    expect(metricValue(metrics, "leader_status")).toBe(0);
    expect(metricValue(parseMetrics(await other.metricsText()), "leader_status")).toBe(1);
  });

  it("tasks queued when NATS loses its streams are re-dispatched from Postgres and succeed", async () => {
    // WORKER_TIMEOUT outlasts the freeze below, so the frozen worker still counts as capacity.
    c = await startCluster({ env: { DISPATCH_TIMEOUT: "2s", WORKER_TIMEOUT: "30s" }, workerEnv: { WORKER_QUEUES: "lost" } });
    // Let the worker's capacity be known, then freeze it so the queued messages stay in NATS.
    await eventually(async () => (await c!.coord.listWorkers({})).workers.some((w) => w.alive));
    const worker = c.workers[0]!;
    worker.signal("SIGSTOP");
    const nc = await connect({ servers: c.nats.url });
    const jsm = await jetstreamManager(nc);
    // Wait until the frozen worker's outstanding pull request has expired (after 5 s), or the
    // server would deliver the dispatch message into its socket before the stream is lost.
    await eventually(async () => (await jsm.consumers.info(`${c!.nats.prefix}_dispatch`, "dispatch-lost")).num_waiting === 0, {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: "no pull request waiting",
    });
    const { tasks } = await c.api.enqueueTasks({ tasks: Array.from({ length: 25 }, (_, i) => ({ ...base, type: "example.noop", queue: "lost", payload: { i } })) });
    expect(tasks.every((t) => t.status === TaskStatus.TASK_STATUS_QUEUED)).toBe(true);
    // The 25 attempts were committed together, so they went out as one DispatchBatch message.
    await eventually(async () => (await jsm.streams.info(`${c!.nats.prefix}_dispatch`)).state.messages >= 1, { what: "the dispatch message in the stream" });
    await jsm.streams.delete(`${c.nats.prefix}_dispatch`);
    await jsm.streams.delete(`${c.nats.prefix}_reports`);
    await nc.close();
    worker.signal("SIGCONT");
    const ids = tasks.map((t) => t.id);
    await eventually(async () => (await countWhere(c!, "id = ANY($1) AND status = 'succeeded'", [ids])) === 25, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: "re-dispatched tasks succeeded",
    });
    expect(await countWhere(c, "id = ANY($1) AND leader_epoch IS NOT NULL", [ids])).toBeGreaterThan(0);
  });

  it("a claim that Postgres committed after the worker stopped waiting for its answer: the worker's next claim is granted, not refused", async () => {
    // WORKER_TIMEOUT long: the worker stays alive throughout, so no orphan rescue can hide the bug.
    c = await startCluster({ env: { WORKER_TIMEOUT: "30s" } });
    // Postgres takes 6 s over this task's claim (a stalled disk, a lock): longer than the worker
    // waits for a claim's answer (5 s). The claim still commits, but nobody hears the grant.
    await c.sql.query(`
      CREATE FUNCTION slow_claim() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.status = 'queued' AND NEW.status = 'running' AND NEW.payload @> '{"slowClaim": true}' THEN
          PERFORM pg_sleep(6);
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER slow_claim BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION slow_claim();`);
    const { task } = await c.api.enqueueTask({ ...base, type: "example.noop", payload: { slowClaim: true } });
    const done = await c.api.waitTask({ id: task!.id, timeout: { seconds: 40, nanos: 0 } });
    // Not left RUNNING on a live worker that never ran it (until TASK_TIMEOUT, 30 minutes by default).
    expect(done.task?.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    expect(done.task?.attempts).toBe(1);
    expect(c.workers[0]!.output()).toContain("Worker: claim got no answer; will retry");
  });
});

describe("graceful shutdown", () => {
  it("a worker given SIGTERM finishes its running task before exiting; a second signal exits at once", async () => {
    c = await startCluster({ env: { SHUTDOWN_TIMEOUT: "20s" } });
    const { task } = await c.api.enqueueTask({ ...base, type: "example.sleep", payload: { ms: 1500 } });
    await eventually(async () => (await c!.api.getTask({ id: task!.id })).task!.status === TaskStatus.TASK_STATUS_RUNNING);
    const worker = c.workers[0]!;
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
    // It reported before it left: the attempt is recorded as a success, not recovered later.
    const { task: after } = await c.api.getTask({ id: task!.id });
    expect(after!.status).toBe(TaskStatus.TASK_STATUS_SUCCEEDED);
    expect(after!.attempts).toBe(1);

    const second = await c.startWorker({ SHUTDOWN_TIMEOUT: "60s" });
    const { task: long } = await c.api.enqueueTask({ ...base, type: "example.sleep", payload: { ms: 30_000, ignoreAbort: true } });
    await eventually(async () => (await c!.api.getTask({ id: long!.id })).task!.status === TaskStatus.TASK_STATUS_RUNNING);
    second.signal("SIGTERM");
    await eventually(() => second.output().includes("taskorch: shutting down"));
    const t0 = Date.now();
    second.signal("SIGTERM");
    expect(await second.exited).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
