import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { eventually, freePort } from "./env.js";

/** The built entry point every service process runs. */
export const CLI_PATH = fileURLToPath(new URL("../../../services/all-in-one/dist/cli.js", import.meta.url));

export interface ServiceProcess {
  command: string;
  /** The process's node id (worker_id in logs and /health), known once it is healthy. */
  nodeId: string;
  metricsPort: number;
  grpcPort: number;
  child: ChildProcess;
  /** Everything the process wrote so far (JSON log lines). */
  output(): string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM and wait for exit (SIGKILL after `ms`). */
  stop(ms?: number): Promise<void>;
  metricsText(): Promise<string>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** Wait until /health answers 200 (default true). */
  waitHealthy?: boolean;
  grpcPort?: number;
}

/** Starts `taskorch <command>` as a child process on free ports. */
export async function spawnService(command: string, options: SpawnOptions): Promise<ServiceProcess> {
  const metricsPort = await freePort();
  const grpcPort = options.grpcPort ?? (await freePort());
  const child = spawn(process.execPath, [CLI_PATH, command], {
    env: { PATH: process.env.PATH ?? "", GRPC_HOST: "127.0.0.1", METRICS_HOST: "127.0.0.1", GRPC_PORT: String(grpcPort), METRICS_PORT: String(metricsPort), ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const proc: ServiceProcess = {
    command,
    nodeId: "",
    metricsPort,
    grpcPort,
    child,
    output: () => out,
    exited,
    signal: (sig) => {
      if (!done) child.kill(sig);
    },
    async stop(ms = 15_000) {
      if (done) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), ms);
      await exited;
      clearTimeout(timer);
    },
    async metricsText() {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      return res.text();
    },
  };
  if (options.waitHealthy !== false) {
    try {
      await eventually(
        async () => {
          if (done) throw new Error(`exited early:\n${out}`);
          const res = await fetch(`http://127.0.0.1:${metricsPort}/health`).catch(() => undefined);
          if (res?.status !== 200) return false;
          proc.nodeId = ((await res.json()) as { worker_id: string }).worker_id;
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `${command} healthy` },
      );
    } catch (err) {
      child.kill("SIGKILL");
      throw new Error(`${command} did not become healthy: ${String(err)}\n--- output ---\n${out}`);
    }
  }
  return proc;
}
