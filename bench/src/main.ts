/**
 * taskorch benchmarks: taskorch vs graphile-worker, pg-boss and BullMQ through the same workloads
 * with no-op handlers. Prints one table and writes bench/results/<timestamp>.json.
 *
 *   npm --prefix bench ci && npm --prefix bench run bench -- [--systems a,b] [--workloads bulk,single,drain,steady,recovery]
 *        [--n 20000] [--reps 3] [--steady-n 2000] [--steady-rate 200] [--no-sweep] [--no-floors]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { Redis } from "ioredis";
import { machineCpuMs, median, PgAdmin, REDIS_HOST, REDIS_PORT, round } from "./common.js";
import { floorRows, measureFloors, type Floor } from "./floors.js";
import { bullmqDriver, graphileDriver, pgBossDriver } from "./peers.js";
import { taskorchDriver } from "./taskorch.js";
import { ONLY_TASKORCH, WORKLOADS, type RunContext, type Setting, type SystemDriver, type WorkloadName } from "./types.js";
import { runWorkload, type WorkloadParams } from "./workloads.js";

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ALL_SYSTEMS = ["taskorch", "graphile-worker", "pg-boss", "bullmq"];

interface Args {
  systems: string[];
  workloads: WorkloadName[];
  n: number;
  reps: number;
  steadyN: number;
  steadyRate: number;
  sweep: boolean;
  floors: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { systems: ALL_SYSTEMS, workloads: WORKLOADS, n: 20_000, reps: 3, steadyN: 2000, steadyRate: 200, sweep: true, floors: true };
  for (let k = 0; k < argv.length; k++) {
    const [flag, inline] = argv[k].split("=", 2);
    const val = () => inline ?? argv[++k];
    switch (flag) {
      case "--systems":
        a.systems = val().split(",").map((s) => s.trim()).filter(Boolean);
        break;
      case "--workloads":
        a.workloads = val().split(",").map((s) => s.trim()).filter(Boolean) as WorkloadName[];
        break;
      case "--n":
        a.n = Number(val());
        break;
      case "--reps":
        a.reps = Number(val());
        break;
      case "--steady-n":
        a.steadyN = Number(val());
        break;
      case "--steady-rate":
        a.steadyRate = Number(val());
        break;
      case "--no-sweep":
        a.sweep = false;
        break;
      case "--no-floors":
        a.floors = false;
        break;
      case "--help":
      case "-h":
        process.stdout.write("usage: npm run bench -- [--systems taskorch,graphile-worker,pg-boss,bullmq] [--workloads bulk,single,drain,steady,recovery] [--n 20000] [--reps 3] [--steady-n 2000] [--steady-rate 200] [--no-sweep] [--no-floors]\n");
        process.exit(0);
        break;
      default:
        throw new Error(`unknown flag ${argv[k]}`);
    }
  }
  for (const s of a.systems) if (!ALL_SYSTEMS.includes(s)) throw new Error(`unknown system ${s} (known: ${ALL_SYSTEMS.join(", ")})`);
  for (const w of a.workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w} (known: ${WORKLOADS.join(", ")})`);
  if (!(a.n > 0) || !(a.reps > 0) || !(a.steadyN > 0) || !(a.steadyRate > 0)) throw new Error("--n, --reps, --steady-n and --steady-rate must be positive");
  return a;
}

/** Primary metric of a workload and whether higher is better. */
const PRIMARY: Record<WorkloadName, { metric: string; higherBetter: boolean }> = {
  bulk: { metric: "throughput", higherBetter: true },
  single: { metric: "throughput", higherBetter: true },
  drain: { metric: "throughput", higherBetter: true },
  steady: { metric: "pickup p50 ms", higherBetter: false },
  recovery: { metric: "worker crash -> all running again ms", higherBetter: false },
};

interface Summary {
  median: number;
  min: number;
  max: number;
}
interface SettingResult {
  setting: Setting;
  reps: { metrics: Record<string, number>; commits?: number; commitsPerTask?: number; statementsPerTask?: number; cpuUsPerTask?: number; tasks: number }[];
  summary: Record<string, Summary>;
  notes: string[];
  error?: string;
}
interface Cell {
  system: string;
  workload: WorkloadName;
  best?: SettingResult;
  sweep: SettingResult[];
  skipped?: string;
}

const log = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

function summarize(values: number[]): Summary {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

async function runSetting(driver: SystemDriver, w: WorkloadName, setting: Setting, args: Args, admin: PgAdmin, runId: string, seq: () => number): Promise<SettingResult> {
  const params: WorkloadParams = { n: args.n, steadyN: args.steadyN, steadyRate: args.steadyRate, drainTimeoutMs: 300_000 };
  const result: SettingResult = { setting, reps: [], summary: {}, notes: [] };
  // A setting may fix its own number of repetitions (recovery with production intervals: 1).
  const reps = typeof setting.reps === "number" ? Math.min(setting.reps, args.reps) : args.reps;
  // Recovery runs for tens of seconds with idle heartbeats: commits per task mean nothing there.
  const countCommits = w !== "recovery";
  for (let r = 0; r < reps; r++) {
    const ctx: RunContext = { runId, name: `bench_${runId}_${seq()}`, benchQueries: { n: 0 }, log };
    let inst;
    try {
      inst = await driver.create(ctx, setting, w);
    } catch (err) {
      if (driver.postgres) await admin.dropDatabase(ctx.name).catch(() => undefined);
      throw err;
    }
    let c0 = 0;
    let q0 = 0;
    let s0: number | undefined;
    let cpu0: number | undefined;
    let cpuMs: number | undefined;
    let rep;
    try {
      rep = await runWorkload(w, inst, setting, params, {
        beforeMeasured: async () => {
          if (inst.database) c0 = await admin.xactCommit(inst.database);
          if (inst.database && countCommits) s0 = await admin.statements(inst.database);
          q0 = ctx.benchQueries.n;
        },
        workStarts: () => {
          cpu0 = machineCpuMs();
        },
        workEnds: () => {
          const cpu1 = machineCpuMs();
          if (cpu0 !== undefined && cpu1 !== undefined) cpuMs = cpu1 - cpu0;
        },
      });
    } finally {
      await inst.close().catch((err: unknown) => log(`${driver.name}: close failed: ${String(err)}`));
      for (const n of inst.notes ?? []) if (!result.notes.includes(n)) result.notes.push(n);
    }
    let commits: number | undefined;
    let statements: number | undefined;
    if (inst.database && !countCommits) {
      await admin.waitNoBackends(inst.database);
      await admin.dropDatabase(inst.database);
    } else if (inst.database) {
      const gone = await admin.waitNoBackends(inst.database);
      if (!gone) log(`${driver.name}: backends still connected to ${inst.database}; commit count may be short`);
      commits = (await admin.xactCommit(inst.database)) - c0 - (ctx.benchQueries.n - q0);
      const s1 = s0 === undefined ? undefined : await admin.statements(inst.database);
      if (s0 !== undefined && s1 !== undefined) statements = s1 - s0 - (ctx.benchQueries.n - q0);
      await admin.dropDatabase(inst.database);
    }
    const entry = {
      metrics: rep.metrics,
      tasks: rep.tasks,
      commits,
      commitsPerTask: commits === undefined ? undefined : commits / rep.tasks,
      statementsPerTask: statements === undefined ? undefined : statements / rep.tasks,
      // Recovery waits out timeouts with idle processes: CPU per task means nothing there.
      cpuUsPerTask: cpuMs === undefined || !countCommits ? undefined : (cpuMs * 1000) / rep.tasks,
    };
    result.reps.push(entry);
    const p = PRIMARY[w];
    log(`${driver.name} ${w} [${setting.label}] rep ${r + 1}/${reps}: ${p.metric}=${round(rep.metrics[p.metric])}${entry.commitsPerTask !== undefined ? ` commits/task=${round(entry.commitsPerTask, 3)}` : ""}${entry.statementsPerTask !== undefined ? ` statements/task=${round(entry.statementsPerTask, 3)}` : ""}${entry.cpuUsPerTask !== undefined ? ` cpu us/task=${round(entry.cpuUsPerTask, 1)}` : ""}`);
  }
  const keys = Object.keys(result.reps[0].metrics);
  for (const k of keys) result.summary[k] = summarize(result.reps.map((x) => x.metrics[k]));
  if (result.reps.every((x) => x.commitsPerTask !== undefined)) result.summary["commits/task"] = summarize(result.reps.map((x) => x.commitsPerTask!));
  if (result.reps.every((x) => x.statementsPerTask !== undefined)) result.summary["statements/task"] = summarize(result.reps.map((x) => x.statementsPerTask!));
  if (result.reps.every((x) => x.cpuUsPerTask !== undefined)) result.summary["cpu us/task"] = summarize(result.reps.map((x) => x.cpuUsPerTask!));
  return result;
}

function better(w: WorkloadName, a: SettingResult, b: SettingResult | undefined): boolean {
  if (!b) return true;
  const p = PRIMARY[w];
  const va = a.summary[p.metric]?.median;
  const vb = b.summary[p.metric]?.median;
  if (va === undefined || Number.isNaN(va)) return false;
  if (vb === undefined || Number.isNaN(vb)) return true;
  return p.higherBetter ? va > vb : va < vb;
}

function unitOf(metric: string): string {
  if (metric === "throughput") return "tasks/s";
  if (metric.endsWith(" ms")) return "ms";
  if (metric === "cpu us/task") return "CPU µs/task";
  return metric === "commits/task" || metric === "statements/task" ? metric : "";
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString("en-US");
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c])).join(" | ")} |`;
  return [line(rows[0]), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

function metricRows(cells: Cell[]): string[][] {
  const rows: string[][] = [["workload", "system", "median", "min", "max", "unit", "settings"]];
  for (const c of cells) {
    if (!c.best) {
      rows.push([c.workload, c.system, "—", "—", "—", "", c.skipped ?? "failed"]);
      continue;
    }
    for (const [metric, s] of Object.entries(c.best.summary)) {
      const name = metric === "throughput" ? c.workload : `${c.workload} ${metric.replace(/ ms$/, "")}`;
      rows.push([name, c.system, fmt(s.median), fmt(s.min), fmt(s.max), unitOf(metric), c.best.setting.label]);
    }
  }
  return rows;
}

interface Ratio {
  workload: string;
  metric: string;
  taskorch: number;
  bestPeer: string;
  bestPeerValue: number;
  /** > 1 means taskorch is better (throughput: taskorch/peer; latency: peer/taskorch). */
  advantage: number;
}

function ratios(cells: Cell[]): Ratio[] {
  const out: Ratio[] = [];
  const byWorkload = new Map<WorkloadName, Cell[]>();
  for (const c of cells) byWorkload.set(c.workload, [...(byWorkload.get(c.workload) ?? []), c]);
  for (const [w, list] of byWorkload) {
    const t = list.find((c) => c.system === "taskorch")?.best;
    if (!t) continue;
    const metrics = [...(w === "steady" ? ["enqueue p50 ms", "enqueue p99 ms", "pickup p50 ms", "pickup p99 ms"] : ["throughput"]), "cpu us/task"];
    for (const m of metrics) {
      if (!t.summary[m]) continue;
      const higher = m === "throughput";
      let best: { sys: string; v: number } | undefined;
      for (const c of list) {
        if (c.system === "taskorch" || !c.best?.summary[m]) continue;
        const v = c.best.summary[m].median;
        if (!best || (higher ? v > best.v : v < best.v)) best = { sys: c.system, v };
      }
      if (!best) continue;
      const tv = t.summary[m].median;
      out.push({ workload: w, metric: m, taskorch: tv, bestPeer: best.sys, bestPeerValue: best.v, advantage: higher ? tv / best.v : best.v / tv });
    }
  }
  return out;
}

interface Target {
  target: string;
  value: string;
  met: boolean | undefined;
}

function targets(cells: Cell[], rs: Ratio[]): Target[] {
  const get = (sys: string, w: WorkloadName, m: string) => cells.find((c) => c.system === sys && c.workload === w)?.best?.summary[m]?.median;
  const out: Target[] = [];
  for (const w of ["drain", "bulk"] as const) {
    const r = rs.find((x) => x.workload === w && x.metric === "throughput");
    out.push({ target: `${w}: ahead of the best peer`, value: r ? `${r.advantage.toFixed(2)}x ${r.bestPeer}` : "n/a", met: r ? r.advantage > 1 : undefined });
  }
  const ts = get("taskorch", "single", "throughput");
  const gs = get("graphile-worker", "single", "throughput");
  const bs = get("bullmq", "single", "throughput");
  out.push({ target: "single enqueue >= 10x graphile-worker (durable)", value: ts && gs ? `${(ts / gs).toFixed(1)}x` : "n/a", met: ts && gs ? ts / gs >= 10 : undefined });
  out.push({ target: "single enqueue ahead of BullMQ", value: ts && bs ? `${(ts / bs).toFixed(2)}x` : "n/a", met: ts && bs ? ts > bs : undefined });
  const p50 = get("taskorch", "steady", "pickup p50 ms");
  const p99 = get("taskorch", "steady", "pickup p99 ms");
  out.push({ target: "pickup p50 <= 3 ms at 200/s", value: p50 !== undefined ? `${fmt(p50)} ms` : "n/a", met: p50 !== undefined ? p50 <= 3 : undefined });
  out.push({ target: "pickup p99 <= 15 ms at 200/s", value: p99 !== undefined ? `${fmt(p99)} ms` : "n/a", met: p99 !== undefined ? p99 <= 15 : undefined });
  // Cost: Postgres round trips per task at load (statements where pg_stat_statements is loaded,
  // else commits), per hop that touches Postgres.
  const cost = (w: WorkloadName, hops: number, what: string) => {
    const st = get("taskorch", w, "statements/task");
    const v = st ?? get("taskorch", w, "commits/task");
    const unit = st !== undefined ? "statements" : "commits";
    out.push({
      target: `cost: ${what}, Postgres ${unit} per task per hop <= 1`,
      value: v !== undefined ? `${(v / hops).toFixed(3)} (${fmt(v)} per task, ${hops} hop${hops > 1 ? "s" : ""})` : "n/a",
      met: v !== undefined ? v / hops <= 1 : undefined,
    });
  };
  cost("drain", 3, "drain (admit, claim, outcome)");
  cost("single", 1, "single enqueue (insert)");
  // Recovery: the worst repetition (bench clock, kill() call until the poll saw it) against the bound.
  for (const c of cells) {
    if (c.workload !== "recovery" || !c.best) continue;
    const st = c.best.setting;
    const name = String(st.label).split(":")[0];
    const wt = st.workerTimeoutMs as number;
    const lt = st.leaderTermMs as number;
    const worst = (m: string) => Math.max(...c.best!.reps.map((r) => r.metrics[m]));
    const check = (what: string, metric: string, boundMs: number, bound: string) => {
      const v = worst(metric);
      out.push({ target: `${name}: ${what} <= ${bound} = ${fmt(boundMs / 1000)} s`, value: `${fmt(v / 1000)} s (worst of ${c.best!.reps.length})`, met: Number.isFinite(v) ? v <= boundMs : undefined });
    };
    check("worker crash -> 100 running again", "worker crash -> all running again ms", wt + 2000, "WORKER_TIMEOUT + 2 s");
    check("leader SIGKILL -> new leader acts", "leader SIGKILL -> new leader acts ms", lt + 1000, "LEADER_TERM + 1 s");
    check("leader SIGTERM -> new leader acts", "leader SIGTERM -> new leader acts ms", 1000, "1 s");
  }
  return out;
}

async function redisVersion(): Promise<string> {
  const r = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    return /redis_version:(\S+)/.exec(await r.info("server"))?.[1] ?? "?";
  } catch {
    return "unreachable";
  } finally {
    r.disconnect();
  }
}

function tryCmd(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    return "?";
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runId = Date.now().toString(36);
  const started = new Date();
  const admin = new PgAdmin();
  await admin.connect();
  const drivers: Record<string, SystemDriver> = {
    taskorch: taskorchDriver(admin),
    "graphile-worker": graphileDriver(admin),
    "pg-boss": pgBossDriver(admin),
    bullmq: bullmqDriver(),
  };
  const machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    node: process.version,
    postgres: await admin.serverVersion(),
    natsServer: tryCmd("nats-server", ["--version"]),
    redis: await redisVersion(),
    loadavgAtStart: loadavg().map((x) => round(x, 2)),
    loadavgAtEnd: [] as number[],
  };
  const versions: Record<string, Record<string, string>> = {};
  for (const s of args.systems) versions[s] = await drivers[s].versions().catch((e: unknown) => ({ error: String(e) }));
  log(`run ${runId}: systems=${args.systems.join(",")} workloads=${args.workloads.join(",")} n=${args.n} reps=${args.reps} sweep=${args.sweep}`);

  let seqN = 0;
  const seq = () => ++seqN;
  const cells: Cell[] = [];
  let floors: Floor[] | undefined;
  let floorsError: string | undefined;
  try {
    // A floor that cannot be measured (say, no NATS when only the peers run) does not stop the run.
    if (args.floors) floors = await measureFloors(admin, runId, args.n, args.reps, log).catch((err: unknown) => {
      floorsError = err instanceof Error ? err.message : String(err);
      log(`floors failed: ${floorsError}`);
      return undefined;
    });
    for (const w of args.workloads) {
      for (const s of args.systems) {
        if (ONLY_TASKORCH.includes(w) && s !== "taskorch") continue;
        const driver = drivers[s];
        const cell: Cell = { system: s, workload: w, sweep: [] };
        cells.push(cell);
        const why = await driver.unavailable?.();
        if (why) {
          cell.skipped = why;
          log(`${s}: skipped: ${why}`);
          continue;
        }
        // Recovery is not a sweep: every interval set is run and gets its own rows.
        const all = w === "recovery";
        const settings = args.sweep || all ? driver.settings(w) : driver.settings(w).slice(-1);
        for (const [k, setting] of settings.entries()) {
          const into = all && k > 0 ? { system: s, workload: w, sweep: [] } : cell;
          if (into !== cell) cells.push(into);
          try {
            const r = await runSetting(driver, w, setting, args, admin, runId, seq);
            into.sweep.push(r);
            if (better(w, r, into.best)) into.best = r;
          } catch (err) {
            log(`${s} ${w} [${setting.label}] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
            into.sweep.push({ setting, reps: [], summary: {}, notes: [], error: String(err) });
            if (all) into.skipped = `${setting.label}: failed`;
          }
        }
      }
    }
  } finally {
    for (const db of await admin.listDatabases(`bench_${runId}_`)) await admin.dropDatabase(db);
    await admin.end();
  }

  machine.loadavgAtEnd = loadavg().map((x) => round(x, 2));
  const rs = ratios(cells);
  const ts = targets(cells, rs);
  const out: string[] = [];
  out.push(`taskorch benchmarks — ${started.toISOString()} — n=${args.n} reps=${args.reps} (median/min/max over reps; best setting of the sweep shown)`);
  out.push(`machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGiB} GiB, node ${machine.node}, postgres ${machine.postgres}, ${machine.natsServer}, redis ${machine.redis}; load average at start ${machine.loadavgAtStart.join(" ")}, at end ${machine.loadavgAtEnd.join(" ")}`);
  out.push(`versions: ${Object.entries(versions).map(([s, v]) => `${s} ${Object.entries(v).map(([k, x]) => `${k}=${x}`).join(" ")}`).join("; ")}`);
  if (floors) {
    out.push("");
    out.push("machine floors (same run: Postgres, JetStream and gRPC on their own)");
    out.push(table(floorRows(floors, fmt)));
  } else if (floorsError) out.push(`machine floors: not measured: ${floorsError}`);
  out.push("");
  out.push(table(metricRows(cells)));
  if (rs.length > 0) {
    out.push("");
    out.push("taskorch vs the best peer (advantage > 1 means taskorch is better)");
    out.push(table([["workload", "metric", "taskorch", "best peer", "peer value", "advantage"], ...rs.map((r) => [r.workload, r.metric, fmt(r.taskorch), r.bestPeer, fmt(r.bestPeerValue), `${r.advantage.toFixed(2)}x`])]));
  }
  if (ts.some((t) => t.met !== undefined)) {
    out.push("");
    out.push("targets");
    out.push(table([["target", "value", "met"], ...ts.filter((t) => rs.length > 0 || t.met !== undefined).map((t) => [t.target, t.value, t.met === undefined ? "n/a" : t.met ? "yes" : "NO"])]));
  }
  if (args.sweep) {
    out.push("");
    out.push("sweep (primary metric, median of reps)");
    const rows = [["workload", "system", "setting", "median", "unit"]];
    for (const c of cells)
      for (const r of c.sweep) {
        const m = PRIMARY[c.workload].metric;
        rows.push([c.workload, c.system, r.setting.label, r.error ? `error: ${r.error.slice(0, 60)}` : fmt(r.summary[m]?.median ?? Number.NaN), unitOf(m)]);
      }
    out.push(table(rows));
  }
  const text = out.join("\n");
  process.stdout.write(`${text}\n`);

  const resultsDir = resolve(BENCH_DIR, "results");
  mkdirSync(resultsDir, { recursive: true });
  const file = resolve(resultsDir, `${started.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        args,
        machine,
        versions,
        floors: floors ?? (floorsError ? { error: floorsError } : undefined),
        method: {
          bulk: "N tasks through the batch API in batches of 1000, one client, with 1 and with 4 batch calls in flight (the setting's inFlight)",
          single: "N tasks through the single-task API from 32 concurrent callers",
          drain: "N tasks enqueued (untimed), then worker process(es) started; time from the first worker reporting ready until the store shows all N done",
          steady: "steadyN tasks one at a time at steadyRate/s (open loop) into idle in-process workers after a warm-up; enqueue = call duration, pickup = handler start - enqueue call start (same process clock)",
          recovery:
            "taskorch only, DISTRIBUTED_MODE=true, 2 coordinators; per interval set: worker A (pool 100) holds 100 running 10-minute example.sleep tasks, worker B (pool 100) idle, SIGKILL A, until all 100 run on B; SIGKILL of the leading coordinator, then (a third coordinator started) SIGTERM of the new leader, each until the lease shows a new epoch held by another coordinator and until the new leader admits a task enqueued right after the kill with a 10 ms delay (leader_epoch = new epoch). 'ms' = bench clock from the kill() call until a 20 ms poll saw it; '(DB) ms' = the database's own timestamp (started_at, acquired_at, dispatched_at) minus clock_timestamp() read right after the kill",
          commitsPerTask: "pg_stat_database.xact_commit delta of the system's database over the measured phase, read after every connection closed, minus the bench's own monitoring queries, divided by tasks",
          cpuUsPerTask: "CPU time (µs) of the whole machine (user, nice, system, irq, softirq of every core from /proc/stat; not idle, iowait or steal) over the measured work divided by tasks: every process together, the system's services, Postgres, Redis or NATS and the clients in the bench process; drain from the workers' readiness (their start-up excluded), steady including the idle time between tasks",
          statementsPerTask: "where this Postgres loads pg_stat_statements: the calls of every statement in the system's database over the measured phase (BEGIN and COMMIT included), minus the bench's own monitoring queries, divided by tasks",
        },
        cells,
        ratios: rs,
        targets: ts,
        table: text,
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${file}`);
}

for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130)); // children are killed on exit

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
