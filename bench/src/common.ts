/** Shared helpers: statistics, Postgres admin (throwaway databases, commit counters), ports, timing. */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { performance } from "node:perf_hooks";
import pg from "pg";

export const PG_HOST = process.env.BENCH_PG_HOST ?? "127.0.0.1";
export const PG_PORT = Number(process.env.BENCH_PG_PORT ?? 5432);
export const PG_USER = process.env.BENCH_PG_USER ?? "postgres";
export const REDIS_HOST = process.env.BENCH_REDIS_HOST ?? "127.0.0.1";
export const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 6379);
export const NATS_URL = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";

export const now = (): number => performance.now();
/** Wall clock with sub-millisecond resolution, comparable across processes on this machine. */
export const epochMs = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * CPU time the whole machine has spent so far (user, nice, system, irq and softirq of every core, in
 * ms; not idle, iowait or steal), from /proc/stat: its delta over a phase is what the phase cost
 * every process together (the system's services, Postgres, Redis or NATS, and the clients in the
 * bench process). Undefined where there is no /proc/stat. Resolution: one clock tick (10 ms).
 */
export function machineCpuMs(): number | undefined {
  let line: string | undefined;
  try {
    line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  } catch {
    return undefined;
  }
  const f = line.trim().split(/\s+/);
  if (f[0] !== "cpu") return undefined;
  const [user, nice, system, , , irq, softirq] = f.slice(1, 8).map(Number);
  const ticksPerSecond = 100; // USER_HZ, 100 on Linux on every architecture Node supports
  return ((user + nice + system + irq + softirq) * 1000) / ticksPerSecond;
}

export function dbUrl(db: string): string {
  return `postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/${db}`;
}

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile of an unsorted list. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** One connection to the `postgres` database for CREATE/DROP DATABASE and pg_stat_database. */
export class PgAdmin {
  private client = new pg.Client({ connectionString: dbUrl("postgres") });
  async connect(): Promise<void> {
    await this.client.connect();
  }
  async createDatabase(name: string): Promise<void> {
    await this.client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await this.client.query(`CREATE DATABASE "${name}"`);
  }
  async dropDatabase(name: string): Promise<void> {
    // BENCH_KEEP_DB=1 keeps each repetition's database for a look afterwards (timelines, EXPLAIN).
    if (process.env.BENCH_KEEP_DB === "1") return;
    await this.client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
  /**
   * Statements executed in the database so far (BEGIN and COMMIT included), from
   * pg_stat_statements; undefined when this Postgres does not load it (shared_preload_libraries).
   */
  async statements(name: string): Promise<number | undefined> {
    if (this.statementsAvailable === undefined) {
      const libs = (await this.client.query<{ shared_preload_libraries: string }>("SHOW shared_preload_libraries")).rows[0]!.shared_preload_libraries;
      // Only where the library is loaded: elsewhere the extension's view cannot be read, and
      // creating it would leave it behind in the machine's own `postgres` database.
      this.statementsAvailable = /\bpg_stat_statements\b/.test(libs);
      if (this.statementsAvailable) await this.client.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    }
    if (!this.statementsAvailable) return undefined;
    const r = await this.client.query<{ n: string }>(
      "SELECT coalesce(sum(calls), 0)::text AS n FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)",
      [name],
    );
    return Number(r.rows[0]!.n);
  }
  private statementsAvailable: boolean | undefined;
  /** Committed transactions of the database as the statistics system has them (flushed by backends at exit or ~10 s idle). */
  async xactCommit(name: string): Promise<number> {
    const r = await this.client.query<{ c: string }>("SELECT xact_commit::text AS c FROM pg_stat_database WHERE datname = $1", [name]);
    return Number(r.rows[0]?.c ?? 0);
  }
  /** Waits until no backend is connected to the database (so each has flushed its statistics). */
  async waitNoBackends(name: string, timeoutMs = 15_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
      if (r.rows[0].n === 0) return true;
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
  }
  async serverVersion(): Promise<string> {
    const r = await this.client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return r.rows[0].v;
  }
  async listDatabases(prefix: string): Promise<string[]> {
    const r = await this.client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${prefix}%`]);
    return r.rows.map((x) => x.datname);
  }
  async end(): Promise<void> {
    await this.client.end();
  }
}

/** Ports freePort() handed out in this run: never twice, even once their service has closed them. */
const handedOut = new Set<number>();

/**
 * A loopback TCP port nothing listens on, below the ephemeral range (Linux' ip_local_port_range).
 * A port from bind(0) lies in that range, where an outgoing connection to Postgres or NATS can take
 * it before the service binds it (the same fix as testkit's freePort; the bench has its own deps).
 */
export async function freePort(): Promise<number> {
  let ephemeralLow = 49152;
  try {
    ephemeralLow = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // Not Linux: the IANA dynamic range.
  }
  const first = 20000;
  const last = Math.max(first + 1000, ephemeralLow - 1);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = first + Math.floor(Math.random() * (last - first));
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free port in ${first}-${last} after 200 tries`);
}

/** Runs `n` calls of `fn(i)` through `concurrency` loops, each awaiting its previous call. */
export async function runConcurrent(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const loops = Array.from({ length: Math.min(concurrency, n) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      await fn(i);
    }
  });
  await Promise.all(loops);
}

/**
 * Durations (ms) of `count` calls of `trip`, each after a pause of `pauseMs`: the round trip of a
 * hop whose two ends sleep between messages, as at a steady low rate.
 */
export async function idleDurations(trip: () => Promise<unknown>, count: number, pauseMs: number): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < count; i++) {
    await sleep(pauseMs);
    const t0 = now();
    await trip();
    durations.push(now() - t0);
  }
  return durations;
}

/**
 * Polls `anyLeft` every `intervalMs` until it says no task is left; returns the time it first did.
 * The monitors answer with one index probe (or a Redis count), never a count of the rows: a
 * count read every unfinished row, or the whole table, on every poll, in the same Postgres as the
 * system measured (17-30 ms of Postgres time per poll at 100,000 tasks for taskorch and pg-boss).
 */
export async function waitUntilNoneLeft(anyLeft: () => Promise<boolean>, intervalMs: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await anyLeft();
    const at = epochMs();
    if (!left) return at;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for every task to be recorded done`);
    await sleep(intervalMs);
  }
}

/** Every child process the bench spawned, so that none outlives it whatever way it exits. */
const children = new Set<ChildProcess>();
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
