/**
 * taskorch driver: the real services as separate processes (`cli.js scheduler`, `coordinator`,
 * `worker`), driven over gRPC (SchedulerService, loaded from proto/ with @grpc/proto-loader).
 *
 * Pickup latency is measured by a worker inside the bench process built from the worker SDK
 * (`Worker.registerHandler`), so handler start and enqueue start share one clock. Set
 * BENCH_TASKORCH_PICKUP=db to measure it instead from the tasks table (started_at - created_at,
 * Postgres clock, with a regular `worker` process); the JSON notes which one was used.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import pg from "pg";
import { dbUrl, epochMs, freePort, NATS_URL, PgAdmin, sleep, track } from "./common.js";
import { stopChildren } from "./peer-workers.js";
import type { Instance, RunContext, Setting, SystemDriver, WorkloadName } from "./types.js";
import { bulkSweep } from "./workloads.js";

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const TASKORCH_ROOT = resolve(process.env.BENCH_TASKORCH_ROOT ?? resolve(BENCH_DIR, ".."));
const CLI = resolve(TASKORCH_ROOT, "services/all-in-one/dist/cli.js");
const TASK_TYPE = "example.noop";
const READY_TIMEOUT_MS = 60_000;
const CLIENTS = 32;
const RECOVERY_TASKS = 100;
const RECOVERY_POLL_MS = 20;
type PickupMode = "sdk" | "db";
const PICKUP: PickupMode = process.env.BENCH_TASKORCH_PICKUP === "db" ? "db" : "sdk";
/** Extra node flags for every taskorch process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (NODE_OPTIONS refuses --cpu-prof). */
const NODE_ARGS = (process.env.BENCH_TASKORCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");

type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void;
interface SchedulerClient extends grpc.Client {
  EnqueueTask: Unary<EnqueueReq, { task: { id: string } }>;
  EnqueueTasks: Unary<{ tasks: EnqueueReq[]; readMask?: { paths: string[] } }, { tasks: { id: string }[] }>;
}
interface EnqueueReq {
  type: string;
  queue: string;
  /** google.protobuf.Value */
  payload: Record<string, unknown>;
  /** google.protobuf.Duration */
  delay?: { seconds: number; nanos: number };
}

function loadClientCtor(): new (addr: string, creds: grpc.ChannelCredentials, opts?: grpc.ChannelOptions) => SchedulerClient {
  const def = protoLoader.loadSync("taskorch/v1/scheduler_service.proto", {
    includeDirs: [resolve(TASKORCH_ROOT, "proto")],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { taskorch: { v1: { SchedulerService: new (...a: never[]) => SchedulerClient } } };
  return pkg.taskorch.v1.SchedulerService as never;
}

function call<Req, Res>(fn: Unary<Req, Res>, client: SchedulerClient, req: Req): Promise<Res> {
  return new Promise((res, rej) => fn.call(client, req, (err, out) => (err ? rej(err) : res(out))));
}

/** One taskorch process; resolves once it logged "taskorch: started" (or "Worker: started" for workers). */
class TaskorchProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<number>;
  private tail: string[] = [];
  constructor(command: string, env: Record<string, string>, log: (m: string) => void) {
    this.child = track(spawn(process.execPath, [...NODE_ARGS, CLI, command], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
    this.ready = new Promise((resolveReady, reject) => {
      let buf = "";
      const onLine = (line: string) => {
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
        if (!line.startsWith("{")) return;
        let rec: { msg?: string; time?: string; level?: string };
        try {
          rec = JSON.parse(line) as typeof rec;
        } catch {
          return;
        }
        if (rec.level === "error" || rec.level === "fatal") log(`taskorch ${command}: ${line.slice(0, 400)}`);
        if (rec.msg === "Worker: started" || (rec.msg === "taskorch: started" && command !== "worker")) {
          clearTimeout(timer);
          resolveReady(rec.time ? Date.parse(rec.time) : epochMs());
        }
      };
      const feed = (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          onLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      };
      this.child.stdout!.on("data", feed);
      this.child.stderr!.on("data", feed);
      this.child.once("exit", (code) => reject(new Error(`taskorch ${command} exited with ${code} before it was ready:\n${this.tail.join("\n")}`)));
      const timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new Error(`taskorch ${command} not ready within ${READY_TIMEOUT_MS} ms:\n${this.tail.join("\n")}`));
      }, READY_TIMEOUT_MS);
      this.child.once("exit", () => clearTimeout(timer));
    });
    this.ready.catch(() => undefined);
  }
}

class TaskorchInstance implements Instance {
  database: string;
  notes: string[] = [];
  readonly inProcessPickup = PICKUP === "sdk";
  private readonly procs: TaskorchProcess[] = [];
  /** Workload "recovery": the coordinators by WORKER_ID (DISTRIBUTED_MODE=true) and the env every process gets. */
  private readonly coordinators = new Map<string, TaskorchProcess>();
  private recoveryEnv: Record<string, string> = {};
  private workerProcs: TaskorchProcess[] = [];
  private client!: SchedulerClient;
  private monitor!: pg.Client;
  private sdkStop: (() => Promise<void>) | undefined;
  private readonly prefix: string;

  constructor(
    private readonly ctx: RunContext,
    private readonly setting: Setting,
    private readonly admin: PgAdmin,
    private readonly workload: WorkloadName,
  ) {
    this.database = ctx.name;
    this.prefix = ctx.name.slice(0, 32);
  }

  private env(grpcPort: number, metricsPort: number, extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: dbUrl(this.database),
      NATS_URL,
      NATS_PREFIX: this.prefix,
      GRPC_PORT: String(grpcPort),
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: "127.0.0.1",
      GRPC_HOST: "127.0.0.1",
      ...extra,
    };
  }

  async start(): Promise<void> {
    await this.admin.createDatabase(this.database);
    if (this.workload === "recovery") {
      const iv = this.setting.intervals as Record<string, string>;
      // Short SHUTDOWN_TIMEOUT: at close, the surviving worker aborts its 10-minute sleeps at once.
      this.recoveryEnv = { ...iv, DISTRIBUTED_MODE: "true", SHUTDOWN_TIMEOUT: "1s" };
    }
    const { grpcPort: sg } = await this.spawnWithPorts("scheduler", this.procs, true, this.recoveryEnv);
    if (this.workload === "recovery") {
      for (const id of ["bench-coord-1", "bench-coord-2"]) await this.spawnCoordinator(id);
    } else {
      await this.spawnWithPorts("coordinator", this.procs, true);
    }
    const Ctor = loadClientCtor();
    this.client = new Ctor(`127.0.0.1:${sg}`, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 256 * 1024 * 1024 });
    await new Promise<void>((res, rej) => this.client.waitForReady(Date.now() + 10_000, (e) => (e ? rej(e) : res())));
    this.monitor = new pg.Client({ connectionString: dbUrl(this.database) });
    await this.monitor.connect();
  }

  /** Spawns one process on fresh free ports, retrying when another process grabbed a port first (EADDRINUSE). */
  private async spawnWithPorts(command: string, into: TaskorchProcess[], grpc: boolean, extra: Record<string, string> = {}): Promise<{ grpcPort: number; proc: TaskorchProcess }> {
    for (let attempt = 1; ; attempt++) {
      const grpcPort = grpc ? await freePort() : 0;
      const p = new TaskorchProcess(command, this.env(grpcPort, await freePort(), extra), this.ctx.log);
      try {
        await p.ready;
        into.push(p);
        return { grpcPort, proc: p };
      } catch (err) {
        if (attempt >= 5 || !String(err).includes("EADDRINUSE")) throw err;
        this.ctx.log(`taskorch ${command}: port taken, retrying`);
      }
    }
  }

  private async spawnCoordinator(id: string): Promise<void> {
    const { proc } = await this.spawnWithPorts("coordinator", this.procs, true, { ...this.recoveryEnv, WORKER_ID: id });
    this.coordinators.set(id, proc);
  }

  private req(i: number): EnqueueReq {
    return { type: TASK_TYPE, queue: "default", payload: { numberValue: i } };
  }

  async enqueueBatch(from: number, count: number): Promise<void> {
    const readMask = Array.isArray(this.setting.readMask) ? { paths: this.setting.readMask as string[] } : undefined;
    await call(this.client.EnqueueTasks, this.client, { tasks: Array.from({ length: count }, (_, k) => this.req(from + k)), readMask });
  }

  async enqueueOne(i: number): Promise<void> {
    await call(this.client.EnqueueTask, this.client, this.req(i));
  }

  async startDrainWorkers(): Promise<number> {
    const n = typeof this.setting.procs === "number" ? this.setting.procs : 1;
    const pool = String(this.setting.poolSize ?? 10);
    await Promise.all(Array.from({ length: n }, () => this.spawnWithPorts("worker", this.workerProcs, false, { WORKER_POOL_SIZE: pool, WORKER_QUEUES: "default" })));
    return Math.min(...(await Promise.all(this.workerProcs.map((p) => p.ready))));
  }

  async anyLeft(): Promise<boolean> {
    this.ctx.benchQueries.n++;
    // One probe of each partial index that holds the unfinished tasks (pending; queued or running).
    const r = await this.monitor.query<{ left: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM tasks WHERE status = 'pending') OR EXISTS (SELECT 1 FROM tasks WHERE status IN ('queued', 'running')) AS left",
    );
    return r.rows[0].left;
  }

  async startLatencyWorker(onStart: (i: number) => void): Promise<void> {
    if (PICKUP === "db") {
      this.notes.push("pickup measured from the tasks table: started_at - created_at (Postgres clock), with a `worker` process");
      await this.startDrainWorkers();
      return;
    }
    this.notes.push("pickup measured in the bench process: worker-sdk Worker.registerHandler('example.noop') start minus EnqueueTask call start");
    const sdk = await loadSdk();
    const nc = await sdk.connectBus({ natsUrl: NATS_URL, name: "taskorch-bench-worker", logger: sdk.logger });
    const worker = new sdk.Worker({
      nc,
      natsPrefix: this.prefix,
      workerId: `bench-${process.pid}`,
      queues: ["default"],
      poolSize: typeof this.setting.poolSize === "number" ? this.setting.poolSize : 10,
      heartbeatIntervalMs: 10_000,
      defaultTimeoutMs: 60_000,
      shutdownTimeoutMs: 10_000,
      maxResultBytes: 1 << 20,
      logger: sdk.logger,
    });
    worker.registerHandler(TASK_TYPE, ({ payload }: { payload: unknown }) => {
      onStart(payload as number);
      return null;
    });
    await worker.start();
    this.sdkStop = async () => {
      await worker.stop();
      await nc.drain().catch(() => undefined);
    };
  }

  /** For PICKUP=db: per-task pickup from the table (ms), keyed by payload sequence number. */
  async pickupOverride(): Promise<Map<number, number> | undefined> {
    if (PICKUP !== "db") return undefined;
    this.ctx.benchQueries.n++;
    const r = await this.monitor.query<{ i: string; ms: number }>(
      "SELECT payload::text AS i, extract(epoch FROM started_at - created_at) * 1000 AS ms FROM tasks WHERE started_at IS NOT NULL",
    );
    return new Map(r.rows.map((x) => [Number(x.i), Number(x.ms)]));
  }

  /** DB clock as epoch ms (sub-millisecond), of now() or of a timestamptz expression. */
  private async dbNowMs(): Promise<number> {
    this.ctx.benchQueries.n++;
    const r = await this.monitor.query<{ t: string }>("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::text AS t");
    return Number(r.rows[0].t);
  }

  private async waitFor(what: string, timeoutMs: number, cond: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`recovery: timed out waiting for ${what}`);
      await sleep(RECOVERY_POLL_MS);
    }
  }

  private async leaderLease(): Promise<{ leaderId: string; epoch: number; acquiredMs: number } | undefined> {
    this.ctx.benchQueries.n++;
    const r = await this.monitor.query<{ leader_id: string; epoch: string; acq: string }>(
      "SELECT leader_id, epoch::text, (extract(epoch FROM acquired_at) * 1000)::text AS acq FROM leader_lease WHERE name = 'maintenance' AND expires_at > now()",
    );
    const row = r.rows[0];
    return row ? { leaderId: row.leader_id, epoch: Number(row.epoch), acquiredMs: Number(row.acq) } : undefined;
  }

  private async workerRegistered(id: string): Promise<boolean> {
    this.ctx.benchQueries.n++;
    const r = await this.monitor.query("SELECT 1 FROM workers WHERE id = $1", [id]);
    return r.rowCount === 1;
  }

  private async runningOn(workerId: string): Promise<{ n: number; lastStartMs: number }> {
    this.ctx.benchQueries.n++;
    const r = await this.monitor.query<{ n: number; last: string | null }>(
      "SELECT count(*)::int AS n, (extract(epoch FROM max(started_at)) * 1000)::text AS last FROM tasks WHERE status = 'running' AND worker_id = $1 AND type = 'example.sleep'",
      [workerId],
    );
    return { n: r.rows[0].n, lastStartMs: Number(r.rows[0].last) };
  }

  /**
   * Workload "recovery": worker A (pool 100) holds 100 running 10-minute example.sleep tasks, worker
   * B (pool 100) is idle; A is SIGKILLed and the time until all 100 are running on B is measured.
   * Then the leading coordinator is SIGKILLed (a third one is started afterwards so that two run
   * again) and the new leader SIGTERMed: each time until the lease shows a new epoch held by
   * another coordinator, and until the new leader acts: a task enqueued right after the kill with a
   * 10 ms delay is admitted (pending -> queued) by the leader only, stamped with its epoch (queue "default":
   * the leader admits only into queues some alive worker serves; B's pool is full, so it stays queued).
   * "poll" times are on the bench clock (kill() call until the poll saw it, every 20 ms); "DB" times
   * are the database's own timestamps (started_at, acquired_at, dispatched_at) minus clock_timestamp()
   * read right after the kill.
   */
  async recovery(): Promise<{ metrics: Record<string, number>; tasks: number }> {
    const workerTimeoutMs = this.setting.workerTimeoutMs as number;
    const leaderTermMs = this.setting.leaderTermMs as number;
    const m: Record<string, number> = {};
    await this.waitFor("a leader", leaderTermMs + 30_000, async () => (await this.leaderLease()) !== undefined);

    // --- worker crash ---
    const workerEnv = (id: string) => ({ ...this.recoveryEnv, WORKER_ID: id, WORKER_POOL_SIZE: String(RECOVERY_TASKS), WORKER_QUEUES: "default" });
    const { proc: a } = await this.spawnWithPorts("worker", this.workerProcs, false, workerEnv("bench-a"));
    await this.waitFor("worker A registered", 30_000, () => this.workerRegistered("bench-a"));
    const sleepReq: EnqueueReq = { type: "example.sleep", queue: "default", payload: { structValue: { fields: { ms: { numberValue: 600_000 } } } } };
    await call(this.client.EnqueueTasks, this.client, { tasks: Array.from({ length: RECOVERY_TASKS }, () => sleepReq) });
    await this.waitFor(`${RECOVERY_TASKS} tasks running on worker A`, 60_000, async () => (await this.runningOn("bench-a")).n === RECOVERY_TASKS);
    await this.spawnWithPorts("worker", this.workerProcs, false, workerEnv("bench-b"));
    await this.waitFor("worker B registered", 30_000, () => this.workerRegistered("bench-b"));
    await sleep(200);

    const killAt = epochMs();
    a.child.kill("SIGKILL");
    const dbKill = await this.dbNowMs();
    this.ctx.benchQueries.n++;
    const hb = await this.monitor.query<{ ms: string }>("SELECT ($1::float8 - extract(epoch FROM last_heartbeat) * 1000)::text AS ms FROM workers WHERE id = 'bench-a'", [dbKill]);
    let again: { n: number; lastStartMs: number } = { n: 0, lastStartMs: Number.NaN };
    await this.waitFor(`${RECOVERY_TASKS} tasks running on worker B`, workerTimeoutMs + 60_000, async () => {
      again = await this.runningOn("bench-b");
      return again.n === RECOVERY_TASKS;
    });
    m["worker crash -> all running again ms"] = epochMs() - killAt;
    m["worker crash -> all running again (DB) ms"] = again.lastStartMs - dbKill;
    m["worker crash: last heartbeat before kill ms"] = Number(hb.rows[0]?.ms);

    // --- leader crash (SIGKILL), then graceful handover (SIGTERM) ---
    for (const signal of ["SIGKILL", "SIGTERM"] as const) {
      const old = await this.leaderLease();
      if (!old) throw new Error("recovery: no leader before the leader kill");
      const leader = this.coordinators.get(old.leaderId);
      if (!leader) throw new Error(`recovery: leader ${old.leaderId} is not one of the bench's coordinators`);
      const key = signal === "SIGKILL" ? "leader SIGKILL" : "leader SIGTERM";
      const t = await this.measureLeaderHandover(leader, old, signal, leaderTermMs + 30_000);
      m[`${key} -> new lease ms`] = t.leaseAt - t.killAt;
      m[`${key} -> new lease (DB) ms`] = t.leaseDbMs - t.dbKill;
      m[`${key} -> new leader acts ms`] = t.actsAt - t.killAt;
      m[`${key} -> new leader acts (DB) ms`] = t.actsDbMs - t.dbKill;
      this.coordinators.delete(old.leaderId);
      if (signal === "SIGKILL") await this.spawnCoordinator("bench-coord-3");
    }
    return { metrics: m, tasks: RECOVERY_TASKS };
  }

  private async measureLeaderHandover(
    leader: TaskorchProcess,
    old: { leaderId: string; epoch: number },
    signal: "SIGKILL" | "SIGTERM",
    timeoutMs: number,
  ): Promise<{ killAt: number; dbKill: number; leaseAt: number; leaseDbMs: number; actsAt: number; actsDbMs: number }> {
    const marker = (): Promise<string> =>
      call(this.client.EnqueueTask, this.client, { type: TASK_TYPE, queue: "default", payload: { numberValue: 0 }, delay: { seconds: 0, nanos: 10_000_000 } }).then((r) => r.task.id);
    const killAt = epochMs();
    leader.child.kill(signal);
    const dbKill = await this.dbNowMs();
    let markerId: string | undefined;
    let markerP = marker().then((id) => (markerId = id));
    let leaseAt = Number.NaN;
    let leaseDbMs = Number.NaN;
    let actsAt = Number.NaN;
    let actsDbMs = Number.NaN;
    const deadline = Date.now() + timeoutMs;
    while (Number.isNaN(leaseAt) || Number.isNaN(actsAt)) {
      if (Date.now() > deadline) {
        this.ctx.benchQueries.n++;
        const t = markerId ? (await this.monitor.query("SELECT status, leader_epoch, run_at, dispatched_at FROM tasks WHERE id = $1", [markerId])).rows[0] : undefined;
        const lease = await this.leaderLease();
        throw new Error(`recovery: no new leader acting within ${timeoutMs} ms of ${signal} (old ${JSON.stringify(old)}, lease now ${JSON.stringify(lease)}, new lease seen after ${leaseAt - killAt} ms, marker ${markerId}: ${JSON.stringify(t)})`);
      }
      const lease = await this.leaderLease();
      if (Number.isNaN(leaseAt) && lease && lease.epoch > old.epoch && lease.leaderId !== old.leaderId) {
        leaseAt = epochMs();
        leaseDbMs = lease.acquiredMs;
      }
      if (markerId !== undefined && Number.isNaN(actsAt)) {
        this.ctx.benchQueries.n++;
        const r = await this.monitor.query<{ e: string | null; d: string | null }>(
          "SELECT leader_epoch::text AS e, (extract(epoch FROM dispatched_at) * 1000)::text AS d FROM tasks WHERE id = $1",
          [markerId],
        );
        const e = r.rows[0]?.e;
        if (e !== null && e !== undefined && Number(e) > old.epoch) {
          actsAt = epochMs();
          actsDbMs = Number(r.rows[0].d);
        } else if (e !== null && e !== undefined) {
          // admitted by the old leader before it stopped (SIGTERM): the next marker shows the successor
          this.notes.push(`${signal}: a marker task was admitted by the outgoing leader (epoch ${e}); another one was enqueued`);
          markerId = undefined;
          markerP = marker().then((id) => (markerId = id));
        }
      }
      if (Number.isNaN(leaseAt) || Number.isNaN(actsAt)) await sleep(RECOVERY_POLL_MS);
    }
    await markerP;
    return { killAt, dbKill, leaseAt, leaseDbMs, actsAt, actsDbMs };
  }

  async close(): Promise<void> {
    await this.sdkStop?.();
    await stopChildren(this.workerProcs.map((p) => p.child));
    await stopChildren([...this.procs].reverse().map((p) => p.child));
    this.client?.close();
    await this.monitor?.end().catch(() => undefined);
    await deleteStreams(this.prefix).catch((err: unknown) => this.ctx.log(`taskorch: could not delete NATS streams of ${this.prefix}: ${String(err)}`));
  }
}

interface Sdk {
  connectBus: (c: { natsUrl: string; name: string; logger: unknown }) => Promise<{ drain(): Promise<void>; close(): Promise<void> }>;
  ensureStreams: (nc: unknown, subjects: unknown) => Promise<{ streams: { delete(name: string): Promise<boolean> } }>;
  subjectsFor: (prefix: string) => { dispatchStream: string; reportsStream: string };
  Worker: new (cfg: Record<string, unknown>) => {
    registerHandler(type: string, fn: (ctx: { payload: unknown }) => unknown): unknown;
    start(): Promise<void>;
    stop(): Promise<void>;
  };
  logger: unknown;
}

let sdkCache: Sdk | undefined;
/** The worker SDK and bus library, from the taskorch tree (built with `npm run build` at its root). */
async function loadSdk(): Promise<Sdk> {
  if (sdkCache) return sdkCache;
  const imp = (p: string) => import(pathToFileURL(resolve(TASKORCH_ROOT, p)).href) as Promise<Record<string, unknown>>;
  const [bus, sdk, telemetry] = await Promise.all([imp("libs/bus/dist/index.js"), imp("libs/worker-sdk/dist/index.js"), imp("libs/telemetry/dist/index.js")]);
  const logger = (telemetry.createLogger as (c: unknown) => { level: string })({ service: "taskorch-bench", nodeId: "bench", debug: false });
  logger.level = "warn";
  sdkCache = { connectBus: bus.connectBus, ensureStreams: bus.ensureStreams, subjectsFor: bus.subjectsFor, Worker: sdk.Worker, logger } as Sdk;
  return sdkCache;
}

async function deleteStreams(prefix: string): Promise<void> {
  const sdk = await loadSdk();
  const nc = await sdk.connectBus({ natsUrl: NATS_URL, name: "taskorch-bench-cleanup", logger: sdk.logger });
  try {
    const subjects = sdk.subjectsFor(prefix);
    const jsm = await sdk.ensureStreams(nc, subjects);
    for (const s of [subjects.dispatchStream, subjects.reportsStream]) await jsm.streams.delete(s).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** The commit the taskorch tree was built from (a `.bench-commit` file for exported snapshots, else git). */
function rootCommit(): string {
  try {
    return readFileSync(resolve(TASKORCH_ROOT, ".bench-commit"), "utf8").trim();
  } catch {
    try {
      const head = execFileSync("git", ["-C", TASKORCH_ROOT, "rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
      const dirty = execFileSync("git", ["-C", TASKORCH_ROOT, "status", "--porcelain", "--untracked-files=no", "--", "libs", "services", "proto"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
      return dirty ? `${head}+uncommitted changes` : head;
    } catch {
      return "?";
    }
  }
}

function rootVersion(): string {
  try {
    const p = JSON.parse(readFileSync(resolve(TASKORCH_ROOT, "services/all-in-one/package.json"), "utf8")) as { version?: string };
    return p.version ?? "?";
  } catch {
    return "?";
  }
}

function recoverySetting(name: string, intervals: Record<string, string>, workerTimeoutMs: number, leaderTermMs: number): Setting {
  return { label: `${name}: ${Object.entries(intervals).map(([k, v]) => `${k}=${v}`).join(" ")}`, intervals, workerTimeoutMs, leaderTermMs };
}

/** BENCH_TASKORCH_DRAIN="500,100x2" replaces the drain sweep (pool size, optionally x processes). */
function drainSettings(w: (poolSize: number, procs?: number) => Setting): Setting[] {
  const spec = process.env.BENCH_TASKORCH_DRAIN;
  if (!spec) return [w(10), w(100), w(1000), w(2000), w(500, 2)];
  return spec.split(",").map((part) => {
    const m = /^(\d+)(?:x(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`BENCH_TASKORCH_DRAIN: ${JSON.stringify(part)} is not <pool>[x<processes>], e.g. 500 or 100x2`);
    return w(Number(m[1]), m[2] ? Number(m[2]) : 1);
  });
}

export function taskorchDriver(admin: PgAdmin): SystemDriver {
  const w = (poolSize: number, procs = 1): Setting => ({ label: `worker WORKER_POOL_SIZE=${poolSize}${procs > 1 ? ` x${procs} processes` : ""}`, poolSize, procs });
  const settings: Partial<Record<WorkloadName, Setting[]>> = {
    // Every task back in full (the default), and only the ids (read_mask, as a producer of large
    // batches that needs nothing else would ask).
    bulk: [...bulkSweep({ label: "EnqueueTasks over gRPC, batches of 1000" }), ...bulkSweep({ label: "EnqueueTasks over gRPC, batches of 1000, read_mask=id", readMask: ["id"] })],
    single: [{ label: `EnqueueTask over gRPC, ${CLIENTS} concurrent calls, one channel` }],
    drain: drainSettings(w),
    steady: [{ label: PICKUP === "sdk" ? "in-bench worker-sdk Worker, poolSize=10" : "worker process, pickup from tasks table", poolSize: 10 }],
    // Not a sweep: both interval sets are always run and reported (main.ts). Production: 1 repetition.
    recovery: [
      recoverySetting("test intervals", { HEARTBEAT_INTERVAL: "500ms", WORKER_TIMEOUT: "3s", LEADER_TERM: "3s", CLEANUP_INTERVAL: "2s" }, 3_000, 3_000),
      { ...recoverySetting("production intervals", { HEARTBEAT_INTERVAL: "10s", WORKER_TIMEOUT: "30s", LEADER_TERM: "30s", CLEANUP_INTERVAL: "1m" }, 30_000, 30_000), reps: 1 },
    ],
  };
  return {
    name: "taskorch",
    postgres: true,
    async versions() {
      return { taskorch: rootVersion(), commit: rootCommit(), root: TASKORCH_ROOT, "taskorch-pickup": PICKUP };
    },
    settings: (workload) => settings[workload] ?? [{ label: "defaults" }],
    async unavailable() {
      if (!existsSync(CLI)) return `${CLI} not found (build taskorch first: npm ci && npm run build at the repo root)`;
      return undefined;
    },
    async create(ctx, setting, workload) {
      const inst = new TaskorchInstance(ctx, setting, admin, workload);
      try {
        await inst.start();
      } catch (err) {
        await inst.close().catch(() => undefined);
        throw err;
      }
      await sleep(0);
      return inst;
    },
  };
}

export type { TaskorchInstance };
