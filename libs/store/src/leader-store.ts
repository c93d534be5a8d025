import type { Queryable } from "./task-store.js";
import { sql } from "./sql.js";

/** The single lease that the maintenance leader holds; queries name it in their guard. */
export const MAINTENANCE_LEASE = "maintenance";

export interface Lease {
  leaderId: string;
  epoch: number;
  acquiredAt: Date;
  expiresAt: Date;
  held: boolean;
  /** Milliseconds until expiry by the DB clock (negative once expired). */
  remainingMs: number;
}

export async function attemptElect(
  db: Queryable,
  leaderId: string,
  termMs: number,
  force: boolean,
): Promise<{ epoch: number; expiresAt: Date; acquiredAt: Date } | undefined> {
  const res = await db.query<{ epoch: string; expires_at: Date; acquired_at: Date }>({
    ...sql("LeaderAttemptElect"),
    values: [MAINTENANCE_LEASE, leaderId, termMs, force],
  });
  const row = res.rows[0];
  return row ? { epoch: Number(row.epoch), expiresAt: row.expires_at, acquiredAt: row.acquired_at } : undefined;
}

export async function renewLease(db: Queryable, leaderId: string, epoch: number, termMs: number): Promise<Date | undefined> {
  const res = await db.query<{ expires_at: Date }>({ ...sql("LeaderRenew"), values: [MAINTENANCE_LEASE, leaderId, epoch, termMs] });
  return res.rows[0]?.expires_at;
}

export async function resignLease(db: Queryable, leaderId: string, epoch: number): Promise<void> {
  await db.query({ ...sql("LeaderResign"), values: [MAINTENANCE_LEASE, leaderId, epoch] });
}

export async function getLease(db: Queryable): Promise<Lease | undefined> {
  const res = await db.query<{ leader_id: string; epoch: string; acquired_at: Date; expires_at: Date; held: boolean; remaining_ms: string }>({
    ...sql("LeaderGet"),
    values: [MAINTENANCE_LEASE],
  });
  const row = res.rows[0];
  return row
    ? { leaderId: row.leader_id, epoch: Number(row.epoch), acquiredAt: row.acquired_at, expiresAt: row.expires_at, held: row.held, remainingMs: Number(row.remaining_ms) }
    : undefined;
}
