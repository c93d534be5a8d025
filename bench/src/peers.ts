/** Drivers of the peers a user would pick instead of taskorch: graphile-worker, pg-boss, BullMQ. */
import { createRequire } from "node:module";
import type { ChildProcess } from "node:child_process";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { makeWorkerUtils } from "graphile-worker";
import pg from "pg";
import PgBoss from "pg-boss";
import { dbUrl, PgAdmin, REDIS_HOST, REDIS_PORT } from "./common.js";
import { spawnWorkerHosts, startPeerWorker, stopChildren, type PeerWorkerConfig } from "./peer-workers.js";
import type { Instance, RunContext, Setting, SystemDriver, WorkloadName } from "./types.js";
import { bulkSweep } from "./workloads.js";

const require = createRequire(import.meta.url);
const pkgVersion = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;

const TASK = "noop";
const CLIENTS = 32;

/** Common plumbing of a peer instance: drain worker hosts, in-process latency worker, monitor client. */
abstract class PeerInstance implements Instance {
  protected children: ChildProcess[] = [];
  protected stopLatency: (() => Promise<void>) | undefined;
  constructor(
    protected readonly workerCfg: PeerWorkerConfig,
    protected readonly setting: Setting,
  ) {}
  abstract enqueueBatch(from: number, count: number): Promise<void>;
  abstract enqueueOne(i: number): Promise<void>;
  abstract anyLeft(): Promise<boolean>;
  async startDrainWorkers(): Promise<number> {
    const procs = typeof this.setting.procs === "number" ? this.setting.procs : 1;
    const { children, readyAt } = await spawnWorkerHosts(this.workerCfg, procs);
    this.children = children;
    return readyAt;
  }
  async startLatencyWorker(onStart: (i: number) => void): Promise<void> {
    this.stopLatency = await startPeerWorker(this.workerCfg, onStart);
  }
  protected async stopWorkers(): Promise<void> {
    await this.stopLatency?.();
    await stopChildren(this.children);
  }
  abstract close(): Promise<void>;
}

function settingsFor(workload: WorkloadName, table: Partial<Record<WorkloadName, Setting[]>>, fallback: Setting): Setting[] {
  return table[workload] ?? [fallback];
}

// ---------------------------------------------------------------- graphile-worker

class GraphileInstance extends PeerInstance {
  database: string;
  private constructor(
    cfg: PeerWorkerConfig,
    setting: Setting,
    private readonly utils: Awaited<ReturnType<typeof makeWorkerUtils>>,
    private readonly monitor: pg.Client,
    private readonly ctx: RunContext,
  ) {
    super(cfg, setting);
    this.database = ctx.name;
  }
  static async create(ctx: RunContext, setting: Setting, admin: PgAdmin): Promise<GraphileInstance> {
    await admin.createDatabase(ctx.name);
    const connectionString = dbUrl(ctx.name);
    const utils = await makeWorkerUtils({ connectionString, maxPoolSize: CLIENTS + 2 });
    await utils.migrate();
    const monitor = new pg.Client({ connectionString });
    await monitor.connect();
    return new GraphileInstance({ system: "graphile-worker", connectionString, queue: TASK, setting }, setting, utils, monitor, ctx);
  }
  async enqueueBatch(from: number, count: number): Promise<void> {
    await this.utils.addJobs(Array.from({ length: count }, (_, k) => ({ identifier: TASK, payload: { i: from + k } })));
  }
  async enqueueOne(i: number): Promise<void> {
    await this.utils.addJob(TASK, { i });
  }
  async anyLeft(): Promise<boolean> {
    this.ctx.benchQueries.n++;
    // Done jobs are deleted: any row is a job left. In id order, so that the deleted jobs' index
    // entries, marked dead by the first probe that meets them, are skipped by the next ones.
    const r = await this.monitor.query<{ left: boolean }>("SELECT EXISTS (SELECT 1 FROM graphile_worker._private_jobs ORDER BY id LIMIT 1) AS left");
    return r.rows[0].left;
  }
  async close(): Promise<void> {
    await this.stopWorkers();
    await this.utils.release();
    await this.monitor.end();
  }
}

export function graphileDriver(admin: PgAdmin): SystemDriver {
  const lq = (concurrency: number, size: number, batchDelay: number, procs = 1): Setting => ({
    label: `concurrency=${concurrency} localQueue.size=${size} completeJobBatchDelay=failJobBatchDelay=${batchDelay}${procs > 1 ? ` procs=${procs}` : ""}`,
    concurrency,
    localQueueSize: size,
    completeJobBatchDelay: batchDelay,
    failJobBatchDelay: batchDelay,
    procs,
  });
  return {
    name: "graphile-worker",
    postgres: true,
    async versions() {
      return { "graphile-worker": pkgVersion("graphile-worker") };
    },
    settings(workload) {
      return settingsFor(
        workload,
        {
          bulk: bulkSweep({ label: "addJobs, batches of 1000" }),
          single: [{ label: `addJob, ${CLIENTS} clients` }],
          drain: [{ label: "concurrency=10 (defaults)", concurrency: 10 }, lq(32, 500, 0), lq(64, 1000, 10), lq(32, 500, 0, 2)],
          steady: [{ label: "concurrency=10 (defaults)", concurrency: 10 }, lq(32, 500, 0)],
        },
        { label: "defaults" },
      );
    },
    create: (ctx, setting) => GraphileInstance.create(ctx, setting, admin),
  };
}

// ---------------------------------------------------------------- pg-boss

class PgBossInstance extends PeerInstance {
  database: string;
  private constructor(
    cfg: PeerWorkerConfig,
    setting: Setting,
    private readonly boss: PgBoss,
    private readonly monitor: pg.Client,
    private readonly ctx: RunContext,
  ) {
    super(cfg, setting);
    this.database = ctx.name;
  }
  static async create(ctx: RunContext, setting: Setting, admin: PgAdmin): Promise<PgBossInstance> {
    await admin.createDatabase(ctx.name);
    const connectionString = dbUrl(ctx.name);
    const boss = new PgBoss({ connectionString, max: CLIENTS + 2 });
    boss.on("error", (err) => ctx.log(`pg-boss: ${String(err)}`));
    await boss.start();
    await boss.createQueue(TASK);
    const monitor = new pg.Client({ connectionString });
    await monitor.connect();
    return new PgBossInstance({ system: "pg-boss", connectionString, queue: TASK, setting }, setting, boss, monitor, ctx);
  }
  async enqueueBatch(from: number, count: number): Promise<void> {
    await this.boss.insert(Array.from({ length: count }, (_, k) => ({ name: TASK, data: { i: from + k } })));
  }
  async enqueueOne(i: number): Promise<void> {
    await this.boss.send(TASK, { i });
  }
  async anyLeft(): Promise<boolean> {
    this.ctx.benchQueries.n++;
    // Jobs not yet started are on pg-boss' own partial index (state < 'active'), probed first; only
    // when none is left does the monitor look for active ones (no index holds them: a scan, in the
    // last moments of a drain only).
    const r = await this.monitor.query<{ left: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM pgboss.job WHERE name = $1 AND state < 'active') OR EXISTS (SELECT 1 FROM pgboss.job WHERE name = $1 AND state = 'active') AS left",
      [TASK],
    );
    return r.rows[0].left;
  }
  async close(): Promise<void> {
    await this.stopWorkers();
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    await this.monitor.end();
  }
}

export function pgBossDriver(admin: PgAdmin): SystemDriver {
  const b = (batchSize: number, workers = 1, procs = 1): Setting => ({
    label: `work({batchSize: ${batchSize}, pollingIntervalSeconds: 0.5}) x${workers}${procs > 1 ? ` procs=${procs}` : ""}`,
    batchSize,
    workers,
    pollingIntervalSeconds: 0.5,
    procs,
  });
  return {
    name: "pg-boss",
    postgres: true,
    async versions() {
      return { "pg-boss": pkgVersion("pg-boss") };
    },
    settings(workload) {
      return settingsFor(
        workload,
        {
          bulk: bulkSweep({ label: "insert, batches of 1000" }),
          single: [{ label: `send, ${CLIENTS} clients` }],
          drain: [b(1000, 4), b(5000), b(5000, 4), b(10_000)],
          steady: [b(100)], // batchSize 1 was tried: a v10 worker then takes 1 job per polling interval (2/s) and falls behind at 200/s
        },
        { label: "defaults" },
      );
    },
    create: (ctx, setting) => PgBossInstance.create(ctx, setting, admin),
  };
}

// ---------------------------------------------------------------- BullMQ

class BullInstance extends PeerInstance {
  private constructor(
    cfg: PeerWorkerConfig,
    setting: Setting,
    private readonly queue: Queue,
    private readonly prefix: string,
  ) {
    super(cfg, setting);
  }
  static async create(ctx: RunContext, setting: Setting): Promise<BullInstance> {
    const prefix = `bench_${ctx.name}`;
    const queue = new Queue(TASK, { connection: { host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: null }, prefix });
    await queue.waitUntilReady();
    return new BullInstance({ system: "bullmq", queue: TASK, prefix, setting }, setting, queue, prefix);
  }
  async enqueueBatch(from: number, count: number): Promise<void> {
    await this.queue.addBulk(Array.from({ length: count }, (_, k) => ({ name: TASK, data: { i: from + k } })));
  }
  async enqueueOne(i: number): Promise<void> {
    await this.queue.add(TASK, { i });
  }
  async anyLeft(): Promise<boolean> {
    return (await this.queue.getJobCountByTypes("wait", "active", "prioritized", "delayed", "waiting-children")) > 0;
  }
  async close(): Promise<void> {
    await this.stopWorkers();
    // Delete only this run's keys (its own prefix).
    await this.queue.close();
    const client = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true });
    await client.connect();
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${this.prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== "0");
    client.disconnect();
  }
}

export function bullmqDriver(): SystemDriver {
  const c = (concurrency: number, procs = 1): Setting => ({ label: `Worker concurrency=${concurrency}, removeOnComplete${procs > 1 ? ` procs=${procs}` : ""}`, concurrency, procs });
  return {
    name: "bullmq",
    postgres: false,
    async versions() {
      return { bullmq: pkgVersion("bullmq"), ioredis: pkgVersion("ioredis") };
    },
    settings(workload) {
      return settingsFor(
        workload,
        {
          bulk: bulkSweep({ label: "addBulk, batches of 1000" }),
          single: [{ label: `add, ${CLIENTS} clients (one connection)` }],
          drain: [c(50), c(200), c(1000), c(200, 2)],
          steady: [c(50)],
        },
        { label: "defaults" },
      );
    },
    create: (ctx, setting) => BullInstance.create(ctx, setting),
  };
}
