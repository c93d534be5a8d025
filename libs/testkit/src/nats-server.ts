import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, freePort } from "./env.js";

/** The nats-server binary tests start (Debian's package). */
export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

export interface ThrowawayNats {
  port: number;
  /** nats://127.0.0.1:<port> (use tls:// yourself when the config turns TLS on). */
  url: string;
  dir: string;
  output(): string;
  /** SIGKILL: NATS gone at once, as in a crash (stop() still removes its store). */
  kill(): void;
  /** Starts it again after kill(), on the same port with the same store (streams kept). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a private nats-server with JetStream on a free port, with `config` (authorization,
 * accounts, tls, http monitoring blocks...) appended to its configuration file. For tests of NATS
 * auth and TLS, of NATS going away, and of what the server sees.
 */
export async function startThrowawayNats(config = ""): Promise<ThrowawayNats> {
  const dir = mkdtempSync(join(tmpdir(), "taskorch-nats-"));
  const port = await freePort();
  const file = join(dir, "nats.conf");
  writeFileSync(file, `host: 127.0.0.1\nport: ${port}\njetstream { store_dir: "${join(dir, "js")}" }\n${config}\n`);
  let out = "";
  let child: ChildProcess;
  let exited: Promise<void>;
  let done = false;
  const launch = async () => {
    const proc = spawn(NATS_SERVER_BIN, ["-c", file], { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    done = false;
    const before = out.length;
    proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    void exited.then(() => (done = true));
    try {
      await eventually(
        () => {
          if (done) throw new Error(`nats-server exited:\n${out}`);
          return out.slice(before).includes("Server is ready");
        },
        { timeoutMs: 10_000, what: "nats-server ready" },
      );
    } catch (err) {
      proc.kill("SIGKILL");
      throw err;
    }
  };
  await launch();
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    dir,
    output: () => out,
    kill() {
      if (!done) child.kill("SIGKILL");
    },
    async restart() {
      if (!done) {
        child.kill("SIGKILL");
        await exited;
      }
      await launch();
    },
    async stop() {
      if (!done) {
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
