import pg from "pg";

export type { Pool, PoolClient } from "pg";

export interface PoolConfig {
  databaseUrl: string;
  maxConnections: number;
  applicationName: string;
  /** DATABASE_QUERY_TIMEOUT: how long one statement may go unanswered before its connection is dropped. */
  queryTimeoutMs?: number;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

/** A pg pool with taskorch's settings. Errors of idle clients are reported, not thrown. */
export function createPool(config: PoolConfig, onIdleError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: config.maxConnections,
    application_name: config.applicationName,
    connectionTimeoutMillis: 5000,
    // A Postgres that vanished without closing its connections (a failover behind a virtual IP or
    // DNS name, a dropped network) leaves a statement waiting for an answer that never comes: TCP
    // gives up after ~15 minutes, and until then the pool's clients hang one by one. After this
    // long the statement fails (UNAVAILABLE to a caller) and its connection is dropped, not reused,
    // so the next statement opens a fresh one. Every statement of taskorch's takes milliseconds;
    // migrations set their own, longer limit.
    query_timeout: config.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
    // Every statement is a named prepared statement over arrays and parameters (libs/store/queries):
    // their generic plans are good, and re-planning the larger ones on each call (Postgres' default
    // for the first executions and whenever it guesses a custom plan is cheaper) cost ~2 ms per
    // enqueue batch when measured. Set at connection start, so it costs no extra round trip.
    // random_page_cost 1.1 (the usual value for SSDs; taskorch's hot rows are in shared buffers):
    // with the default 4 a generic plan of the claim and outcome UPDATEs joined their id arrays to
    // a sequential scan of the whole table until it held ~5,000 rows (0.19-0.45 ms per claim on a
    // young table, growing with it) instead of one primary-key probe per id (0.07 ms).
    options: "-c plan_cache_mode=force_generic_plan -c random_page_cost=1.1",
    idleTimeoutMillis: 30_000,
  });
  pool.on("error", (err) => {
    // pg-pool hangs the client on the error; logged, that would be every prepared statement's
    // text and the backend's cancel key, on one line.
    delete (err as Error & { client?: unknown }).client;
    onIdleError(err);
  });
  return pool;
}

/**
 * Runs `fn` inside BEGIN ... COMMIT on a client of its own (ROLLBACK when it throws) and resolves
 * with its result.
 *
 * A checked-out client emits 'error' when its connection dies (Postgres restarted, a reset
 * socket), even while a query runs, and pg-pool leaves that event to the borrower: unheard, it
 * crashes the process (seen when Postgres was stopped under a running coordinator). Here it is
 * heard: the failed query rejects `fn`, and the broken client is discarded instead of returned.
 * So is a client whose statement failed without an answer from Postgres (a query timeout): its
 * connection may still be waiting for that answer.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    if (!broken && isQueryTimeout(err)) broken = err;
    if (!broken) await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}

/** pg's error for a statement unanswered within query_timeout (its connection is left mid-statement). */
export function isQueryTimeout(err: unknown): err is Error {
  return err instanceof Error && err.message === "Query read timeout";
}

/** Resolves true when Postgres answers a trivial query. */
export async function pingDatabase(pool: pg.Pool): Promise<boolean> {
  await pool.query("SELECT 1");
  return true;
}
