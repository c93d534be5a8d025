import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import pg from "pg";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";

/** Where the local servers are; CI and `make test` start them when absent. */
export const TEST_DATABASE_ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one suite; drop() removes it (even with open connections). On the
 * test server unless `adminUrl` names another (e.g. a ThrowawayPostgres).
 */
export async function createTestDatabase(adminUrl = TEST_DATABASE_ADMIN_URL): Promise<TestDatabase> {
  const name = uniqueName("taskorch_test");
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestNats {
  url: string;
  prefix: string;
  /** Deletes the prefix's streams. */
  cleanup(): Promise<void>;
}

/** A NATS subject/stream prefix of its own for one suite. */
export function createTestNats(): TestNats {
  const prefix = uniqueName("t").replace(/_/g, "-");
  return {
    url: TEST_NATS_URL,
    prefix,
    async cleanup() {
      const nc = await connect({ servers: TEST_NATS_URL });
      try {
        const jsm = await jetstreamManager(nc);
        // The prefix's own streams, and those of prefixes derived from it (`${prefix}-2`), which a
        // failed test leaves behind when it does not reach its own cleanup.
        const names: string[] = [];
        for await (const s of jsm.streams.list()) {
          if (s.config.name.startsWith(`${prefix}_`) || s.config.name.startsWith(`${prefix}-`)) names.push(s.config.name);
        }
        for (const name of names) await jsm.streams.delete(name).catch(() => false);
      } finally {
        await nc.close();
      }
    },
  };
}

/**
 * The ports outgoing connections take their local port from (Linux: ip_local_port_range). A port
 * from bind(0) lies in that range: between freePort() and the service's own bind, seconds later,
 * a new connection to Postgres or NATS could take it, or bind(0) could hand it out again (seen as
 * EADDRINUSE when a test cluster started). Ports below the range are taken by neither.
 */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {
    // Not Linux: the IANA dynamic range (macOS, Windows).
  }
  return [49152, 65535];
}

const FIRST_PORT = 20000;
/** Ports this process has handed out: never twice, even once their service has closed them. */
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that nothing listens on, below the ephemeral range, not handed out before. */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const last = Math.max(FIRST_PORT + 1000, ephemeralLow - 1);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = FIRST_PORT + Math.floor(Math.random() * (last - FIRST_PORT));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free port in ${FIRST_PORT}-${last} after 200 tries`);
}

/** Polls `fn` until it returns a truthy value (returned) or the timeout passes (throws its last error). */
export async function eventually<T>(fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const until = Date.now() + (opts.timeoutMs ?? 20_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) {
      throw new Error(`eventually: ${opts.what ?? "condition"} not met within ${opts.timeoutMs ?? 20_000}ms${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
