/**
 * Keeps the benchmark running as the code changes: `bench/` is its own package that drives the
 * built services as a user would (CLI processes, gRPC, the worker SDK, SQL on the tasks table), so
 * a renamed flag, setting, column or index can break it without breaking any other test. This runs
 * taskorch through the four workloads at a tiny N and checks the table, the JSON and the cleanup.
 * It asserts no speed: speed is the benchmark's own business (docs/performance.md).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { TEST_DATABASE_ADMIN_URL, TEST_NATS_URL } from "@taskorch/testkit";
import pg from "pg";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BENCH = `${ROOT}bench`;
const N = 300;
const STEADY_N = 60;

interface BenchRep {
  metrics: Record<string, number>;
  tasks: number;
  commitsPerTask?: number;
  cpuUsPerTask?: number;
}
interface BenchCell {
  system: string;
  workload: string;
  best?: { reps: BenchRep[] };
}

/** Runs the bench to completion; resolves with its exit code and output. */
function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const admin = new URL(TEST_DATABASE_ADMIN_URL);
  const child = spawn(process.execPath, [`${BENCH}/dist/main.js`, ...args], {
    cwd: BENCH,
    env: {
      ...process.env,
      BENCH_PG_HOST: admin.hostname,
      BENCH_PG_PORT: admin.port || "5432",
      BENCH_PG_USER: decodeURIComponent(admin.username) || "postgres",
      BENCH_NATS_URL: TEST_NATS_URL,
      BENCH_TASKORCH_ROOT: ROOT,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("make bench (taskorch, tiny N)", () => {
  it("runs every workload end to end, prints the table, writes the JSON and leaves nothing behind", async () => {
    if (!existsSync(`${BENCH}/node_modules`)) throw new Error("bench dependencies are missing: run `npm --prefix bench ci` (make test does)");
    execFileSync(process.execPath, [`${BENCH}/node_modules/typescript/bin/tsc`, "-p", BENCH], { stdio: "inherit" });

    const workloads = ["bulk", "single", "drain", "steady"];
    const { code, stdout, stderr } = await runBench([
      "--systems", "taskorch", "--workloads", workloads.join(","), "--n", String(N), "--steady-n", String(STEADY_N), "--reps", "1", "--no-sweep",
    ]);
    expect(code, stderr).toBe(0);

    // The table: one throughput row per throughput workload, the latency rows, commits per task.
    for (const w of ["bulk", "single", "drain"]) expect(stdout).toMatch(new RegExp(`\\| ${w} +\\| taskorch +\\| [0-9,.]+ +\\|.*tasks/s`));
    expect(stdout).toMatch(/\| steady pickup p50 +\| taskorch +\| [0-9.]+ +\|.*ms/);
    expect(stdout).toMatch(/\| drain commits\/task +\| taskorch +\| [0-9.]+/);
    // Machine CPU per task (/proc/stat): 60 tasks at 200/s last 0.3 s, many clock ticks.
    expect(stdout).toMatch(/\| steady cpu us\/task +\| taskorch +\| [0-9,.]+ +\|.*\| CPU µs\/task +\|/);
    // The machine floors measured in the same run.
    for (const f of ["postgres single-row commits", "postgres rows in batches", "jetstream publish", "jetstream consume", "grpc no-op unary"]) {
      expect(stdout).toMatch(new RegExp(`\\| ${f} +\\| [0-9,]+ +\\|`));
    }
    for (const f of ["grpc no-op idle round trip p50", "postgres idle commit p50"]) expect(stdout).toMatch(new RegExp(`\\| ${f} +\\| [0-9.]+ +\\|.*\\| ms +\\|`));

    // The JSON: every workload ran all its tasks, and commits were counted.
    const file = /wrote (\S+\.json)/.exec(stderr)?.[1];
    expect(file, stderr).toBeDefined();
    try {
      const json = JSON.parse(readFileSync(file!, "utf8")) as { cells: BenchCell[]; floors: { name: string; values: number[] }[] };
      expect(json.floors.map((f) => f.name)).toHaveLength(7);
      for (const f of json.floors) expect(f.values.length === 1 && f.values[0]! > 0, `${f.name}: ${f.values.join(", ")}`).toBe(true);
      for (const w of workloads) {
        const cell = json.cells.find((c) => c.system === "taskorch" && c.workload === w);
        const rep = cell?.best?.reps[0];
        expect(rep, `${w} in ${file}`).toBeDefined();
        expect(rep!.tasks).toBe(w === "steady" ? STEADY_N : N);
        expect(Number.isFinite(rep!.commitsPerTask)).toBe(true);
        // A phase shorter than a clock tick may read 0; never negative, never missing.
        expect(rep!.cpuUsPerTask! >= 0, `${w} cpuUsPerTask = ${rep!.cpuUsPerTask}`).toBe(true);
        if (w === "steady") expect(rep!.cpuUsPerTask).toBeGreaterThan(0);
        expect(rep!.metrics["pickup missing"], `${w}: tasks whose handler never started`).toBeUndefined();
        for (const [k, v] of Object.entries(rep!.metrics)) expect(Number.isFinite(v) && v > 0, `${w} ${k} = ${v}`).toBe(true);
      }
    } finally {
      rmSync(file!, { force: true });
    }

    // Cleanup: the run's databases are dropped and its NATS streams deleted.
    const runId = /run (\w+): systems=/.exec(stderr)?.[1];
    expect(runId, stderr).toBeDefined();
    const admin = new pg.Client({ connectionString: TEST_DATABASE_ADMIN_URL });
    await admin.connect();
    try {
      const left = await admin.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [`bench_${runId}_%`]);
      expect(left.rows).toEqual([]);
    } finally {
      await admin.end();
    }
    const nc = await connect({ servers: TEST_NATS_URL });
    try {
      const names: string[] = [];
      for await (const s of (await jetstreamManager(nc)).streams.list()) names.push(s.config.name);
      expect(names.filter((n) => n.includes(`bench_${runId}_`))).toEqual([]);
    } finally {
      await nc.close();
    }
  }, 240_000);
});
