import { readdirSync, readFileSync } from "node:fs";
import type { Pool } from "pg";
import { inTransaction } from "./pool.js";

const MIGRATION_DIR = new URL("../migrations/", import.meta.url);
/** Arbitrary constant: the advisory lock every taskorch process takes to migrate. */
const MIGRATION_LOCK_KEY = 7_361_226_001;

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
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(
      "CREATE TABLE IF NOT EXISTS taskorch_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set((await client.query<{ version: string }>("SELECT version FROM taskorch_migrations")).rows.map((r) => r.version));
    for (const file of files) {
      if (done.has(file)) continue;
      await client.query(readFileSync(new URL(file, MIGRATION_DIR), "utf8"));
      await client.query("INSERT INTO taskorch_migrations (version) VALUES ($1)", [file]);
      applied.push(file);
    }
  }).catch((err: unknown) => {
    throw new Error("applying database migrations", { cause: err });
  });
  return { applied };
}
