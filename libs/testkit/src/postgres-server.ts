import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./env.js";

const run = promisify(execFile);

/**
 * Where initdb and pg_ctl are: POSTGRES_BIN_DIR, or the newest Debian installation
 * (/usr/lib/postgresql/<version>/bin).
 */
export function postgresBinDir(): string {
  if (process.env.POSTGRES_BIN_DIR) return process.env.POSTGRES_BIN_DIR;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`no Postgres server binaries under ${root}: install Debian's postgresql package, or set POSTGRES_BIN_DIR to the directory holding initdb and pg_ctl`);
  return join(root, versions[0]!, "bin");
}

export interface ThrowawayPostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth), for createTestDatabase. */
  adminUrl: string;
  /** Stops the server the way a crash would (`pg_ctl stop -m immediate`: no checkpoint, connections cut). */
  crash(): Promise<void>;
  /** Starts it again on the same port and data (crash recovery runs first). */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

/**
 * A private Postgres on a free port, for tests of Postgres going away. Its data lives in a
 * temporary directory; `fsync` is off (the tests stop the server, not the machine). Postgres will
 * not run as root, so as root the server runs as the `postgres` user.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), "taskorch-pg-"));
  const data = join(dir, "data");
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await run("chown", ["postgres:postgres", dir]);
  const pg = (tool: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args]) : run(join(bin, tool), args));
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const start = async () => {
    await pg("pg_ctl", ["-D", data, "-l", join(dir, "postgres.log"), "-w", "-t", "30", "-o", options, "start"]);
  };
  let running = false;
  try {
    await pg("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
    await start();
    running = true;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const stopServer = async (mode: "immediate" | "fast") => {
    if (!running) return;
    await pg("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]);
    running = false;
  };
  return {
    port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    crash: () => stopServer("immediate"),
    async start() {
      if (running) return;
      await start();
      running = true;
    },
    async stop() {
      await stopServer("fast").catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
