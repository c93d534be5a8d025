import pg from "pg";

export type { Pool, PoolClient } from "pg";

export interface PoolConfig {
  databaseUrl: string;
  maxConnections: number;
  applicationName: string;
}

/** A pg pool with taskorch's settings. Errors of idle clients are reported, not thrown. */
export function createPool(config: PoolConfig, onIdleError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: config.maxConnections,
    application_name: config.applicationName,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  pool.on("error", onIdleError);
  return pool;
}

/** Resolves true when Postgres answers a trivial query. */
export async function pingDatabase(pool: pg.Pool): Promise<boolean> {
  await pool.query("SELECT 1");
  return true;
}
