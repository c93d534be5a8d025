import { createTestDatabase, startTcpProxy, type TcpProxy, type TestDatabase } from "@taskorch/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool, inTransaction } from "./index.js";

let db: TestDatabase;
let pool: pg.Pool;
let admin: pg.Client;
const idleErrors: Error[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url, maxConnections: 2, applicationName: "taskorch-pool-test" }, (err) => idleErrors.push(err));
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
});

afterAll(async () => {
  await admin.end();
  await pool.end();
  await db.drop();
});

describe("inTransaction", () => {
  it("commits what the function did, and rolls it back when it throws", async () => {
    await pool.query("CREATE TABLE t (n int)");
    expect(await inTransaction(pool, async (c) => (await c.query("INSERT INTO t VALUES (1) RETURNING n")).rows[0].n)).toBe(1);
    await expect(
      inTransaction(pool, async (c) => {
        await c.query("INSERT INTO t VALUES (2)");
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect((await pool.query("SELECT array_agg(n) AS ns FROM t")).rows[0].ns).toEqual([1]);
  });

  it("outlives its connection dying mid-transaction: the call rejects, the process goes on, the client is discarded", async () => {
    // The server ends the backend between two statements, while no query runs: pg emits 'error'
    // on the checked-out client, which crashes the process when nobody listens.
    let pid = 0;
    const failed = await inTransaction(pool, async (c) => {
      pid = (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      // Awaited on the connection under the client, not on the client's 'error' (a listener there
      // would hear the event this test is about): the FATAL message, and with it the client's
      // 'error', comes before the socket's end.
      const ended = new Promise((r) => (c as unknown as { connection: NodeJS.EventEmitter }).connection.once("end", r));
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      await ended;
      await c.query("SELECT 1");
    }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(failed?.message).toMatch(/connection error|terminat/i);
    // The pool goes on, on another backend: the broken client did not go back into it.
    const again = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    expect(again.rows[0]!.pid).not.toBe(pid);
    expect(idleErrors).toEqual([]);
  });
});

describe("createPool", () => {
  it("reports an idle client's lost connection without the client object (no statements or cancel key in the logs)", async () => {
    const { pid } = (await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!;
    await admin.query("SELECT pg_terminate_backend($1)", [pid]);
    for (let i = 0; i < 100 && idleErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(idleErrors).toHaveLength(1);
    expect(idleErrors[0]!.message).toMatch(/terminat/i);
    expect(Object.keys(idleErrors[0]!)).not.toContain("client");
  });
});

describe("a Postgres that vanished without closing its connections", () => {
  // The pool reaches Postgres through a proxy that freezes the open connections (nothing comes
  // back, nothing errors) while new ones go through: a failover behind a virtual IP.
  let proxy: TcpProxy;
  const viaProxy = () => {
    const url = new URL(db.url);
    url.port = String(proxy.port);
    return createPool({ databaseUrl: url.toString(), maxConnections: 1, applicationName: "taskorch-pool-frozen", queryTimeoutMs: 500 }, () => undefined);
  };
  /** Rejects if `p` has not settled within ms: what a hang looks like here. */
  const within = <T>(p: Promise<T>, ms: number) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms))]);

  beforeAll(async () => {
    const url = new URL(db.url);
    proxy = await startTcpProxy(Number(url.port || 5432), url.hostname);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it("fails a statement after DATABASE_QUERY_TIMEOUT and answers the next one on a fresh connection", async () => {
    const p = viaProxy();
    try {
      await p.query("SELECT 1");
      proxy.freeze();
      await expect(within(p.query("SELECT 1"), 5000)).rejects.toThrow("Query read timeout");
      expect((await within(p.query<{ n: number }>("SELECT 2 AS n"), 5000)).rows[0]!.n).toBe(2);
    } finally {
      await within(p.end(), 2000).catch(() => undefined);
    }
  });

  it("discards a transaction's client whose statement timed out, instead of handing it to the next caller", async () => {
    const p = viaProxy();
    try {
      await inTransaction(p, (c) => c.query("SELECT 1"));
      proxy.freeze();
      await expect(within(inTransaction(p, (c) => c.query("SELECT 1")), 5000)).rejects.toThrow("Query read timeout");
      // The only client slot is free again, and on a live connection.
      expect((await within(p.query<{ n: number }>("SELECT 3 AS n"), 5000)).rows[0]!.n).toBe(3);
    } finally {
      await within(p.end(), 2000).catch(() => undefined);
    }
  });
});
