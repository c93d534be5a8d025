/** How each peer's workers are started, shared by the in-process latency worker and the drain worker host. */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Worker as BullWorker } from "bullmq";
import { run as runGraphile } from "graphile-worker";
import PgBoss from "pg-boss";
import { REDIS_HOST, REDIS_PORT, track } from "./common.js";

export interface PeerWorkerConfig {
  system: "graphile-worker" | "pg-boss" | "bullmq";
  connectionString?: string;
  queue: string;
  prefix?: string;
  setting: Record<string, unknown>;
}

const num = (v: unknown, d: number): number => (typeof v === "number" ? v : d);

/** Starts the workers; onStart(i) is called at handler start with the task's sequence number. Returns a stop function. */
export async function startPeerWorker(cfg: PeerWorkerConfig, onStart: (i: number) => void): Promise<() => Promise<void>> {
  const s = cfg.setting;
  if (cfg.system === "graphile-worker") {
    const concurrency = num(s.concurrency, 10);
    const localQueueSize = num(s.localQueueSize, -1);
    const runner = await runGraphile({
      connectionString: cfg.connectionString,
      concurrency,
      maxPoolSize: concurrency + 4,
      noHandleSignals: true,
      pollInterval: num(s.pollInterval, 2000),
      logger: quietGraphileLogger,
      taskList: {
        [cfg.queue]: async (payload) => {
          onStart((payload as { i: number }).i);
        },
      },
      preset: {
        worker: {
          ...(localQueueSize > 1 ? { localQueue: { size: localQueueSize } } : {}),
          completeJobBatchDelay: num(s.completeJobBatchDelay, -1),
          failJobBatchDelay: num(s.failJobBatchDelay, -1),
        },
      },
    });
    return async () => {
      await runner.stop();
    };
  }
  if (cfg.system === "pg-boss") {
    const workers = num(s.workers, 1);
    const boss = new PgBoss({ connectionString: cfg.connectionString, max: workers + 4 });
    boss.on("error", (err) => process.stderr.write(`pg-boss: ${String(err)}\n`));
    await boss.start();
    for (let w = 0; w < workers; w++) {
      await boss.work<{ i: number }>(cfg.queue, { batchSize: num(s.batchSize, 1), pollingIntervalSeconds: num(s.pollingIntervalSeconds, 2) }, async (jobs) => {
        for (const j of jobs) onStart(j.data.i);
      });
    }
    return async () => {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    };
  }
  const worker = new BullWorker(
    cfg.queue,
    async (job) => {
      onStart((job.data as { i: number }).i);
    },
    {
      connection: { host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: null },
      prefix: cfg.prefix,
      concurrency: num(s.concurrency, 1),
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 1000 },
    },
  );
  await worker.waitUntilReady();
  return async () => {
    await worker.close();
  };
}

const noop = () => undefined;
const quietLog = { debug: noop, info: noop, warn: (m: string) => process.stderr.write(`graphile-worker: ${m}\n`), error: (m: string) => process.stderr.write(`graphile-worker: ${m}\n`) };
const quietGraphileLogger = {
  scope: () => quietGraphileLogger,
  ...quietLog,
} as never;

/** Spawns `procs` worker-host processes; resolves with their handles and the earliest ready time (epoch ms). */
export async function spawnWorkerHosts(cfg: PeerWorkerConfig, procs: number): Promise<{ children: ChildProcess[]; readyAt: number }> {
  const script = fileURLToPath(new URL("./worker-host.js", import.meta.url));
  const children: ChildProcess[] = [];
  const readies = await Promise.all(
    Array.from({ length: procs }, () => {
      const child = track(spawn(process.execPath, [script, JSON.stringify(cfg)], { stdio: ["ignore", "pipe", "inherit"] }));
      children.push(child);
      return new Promise<number>((resolve, reject) => {
        let buf = "";
        child.stdout!.on("data", (d: Buffer) => {
          buf += d.toString();
          const m = /READY ([0-9.]+)/.exec(buf);
          if (m) resolve(Number(m[1]));
        });
        child.once("exit", (code) => reject(new Error(`worker host exited with ${code} before it was ready`)));
      });
    }),
  );
  return { children, readyAt: Math.min(...readies) };
}

export async function stopChildren(children: ChildProcess[], timeoutMs = 20_000): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => c.kill("SIGKILL"), timeoutMs);
          c.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
          c.kill("SIGTERM");
        }),
    ),
  );
}
