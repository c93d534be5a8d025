import { readdirSync, readFileSync } from "node:fs";
import type { Pool, QueryConfig } from "pg";
import { inTransaction } from "./pool.js";

const MIGRATION_DIR = new URL("../migrations/", import.meta.url);
/** Arbitrary constant: the advisory lock every taskorch process takes to migrate. */
const MIGRATION_LOCK_KEY = 7_361_226_001;
/**
 * Migrations may build indexes over a big table, and wait for another process's migration: they
 * are exempt from DATABASE_QUERY_TIMEOUT (an hour each, rather than none, so a vanished Postgres
 * still ends a start-up some day).
 */
const MIGRATION_STATEMENT_TIMEOUT_MS = 3_600_000;

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies migrations/NNNN_*.sql in order, each in its own transaction, under a transaction-level
 * advisory lock so that several processes starting at once migrate exactly once: the ones that
 * wait find the work done.
 */
export async function migrate(pool: Pool): Promise<MigrationResult> {
  const files = readdirSync(MIGRATION_DIR).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort();
  const applied: string[] = [];
  await inTransaction(pool, async (client) => {
    await client.query({ text: "SELECT pg_advisory_xact_lock($1)", values: [MIGRATION_LOCK_KEY], query_timeout: MIGRATION_STATEMENT_TIMEOUT_MS } as QueryConfig);
    await client.query(
      "CREATE TABLE IF NOT EXISTS taskorch_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set((await client.query<{ version: string }>("SELECT version FROM taskorch_migrations")).rows.map((r) => r.version));
    for (const file of files) {
      if (done.has(file)) continue;
      await client.query({ text: readFileSync(new URL(file, MIGRATION_DIR), "utf8"), query_timeout: MIGRATION_STATEMENT_TIMEOUT_MS } as QueryConfig);
      await client.query("INSERT INTO taskorch_migrations (version) VALUES ($1)", [file]);
      applied.push(file);
    }
  }).catch((err: unknown) => {
    throw new Error("applying database migrations", { cause: err });
  });
  return { applied };
}
