import type { LeaderTerm, Queryable } from "./task-store.js";
import { sql } from "./sql.js";

export interface WorkerHeartbeat {
  workerId: string;
  hostname: string;
  queues: string[];
  capacity: number;
  active: number;
  version: string;
}

export interface WorkerRecord extends Omit<WorkerHeartbeat, "workerId"> {
  id: string;
  startedAt: Date;
  lastHeartbeat: Date;
  alive: boolean;
}

/**
 * Records heartbeats in one statement; the database clock stamps them. Last one per worker wins.
 * Resolves with the ids of workers that add dispatch capacity (new, back from the dead, bigger pool,
 * more queues): worth waking the Admitter for.
 */
export async function upsertWorkers(db: Queryable, beats: readonly WorkerHeartbeat[], workerTimeoutMs: number): Promise<string[]> {
  if (beats.length === 0) return [];
  const latest = [...new Map(beats.map((b) => [b.workerId, b])).values()];
  const res = await db.query<{ id: string }>({
    ...sql("WorkerUpsertMany"),
    values: [
      latest.map((b) => b.workerId),
      latest.map((b) => b.hostname),
      latest.map((b) => b.queues.join(",")),
      latest.map((b) => b.capacity),
      latest.map((b) => b.active),
      latest.map((b) => b.version),
      workerTimeoutMs,
    ],
  });
  return res.rows.map((r) => r.id);
}

export async function listWorkers(db: Queryable, workerTimeoutMs: number): Promise<WorkerRecord[]> {
  const res = await db.query<{
    id: string;
    hostname: string;
    queues: string[];
    capacity: number;
    active: number;
    version: string;
    started_at: Date;
    last_heartbeat: Date;
    alive: boolean;
  }>({ ...sql("WorkerList"), values: [workerTimeoutMs] });
  return res.rows.map((r) => ({
    id: r.id,
    hostname: r.hostname,
    queues: r.queues,
    capacity: r.capacity,
    active: r.active,
    version: r.version,
    startedAt: r.started_at,
    lastHeartbeat: r.last_heartbeat,
    alive: r.alive,
  }));
}

export async function deleteDeadWorkers(db: Queryable, term: LeaderTerm, retentionMs: number): Promise<string[]> {
  const res = await db.query<{ id: string }>({ ...sql("WorkerDeleteDead"), values: [term.leaderId, term.epoch, retentionMs] });
  return res.rows.map((r) => r.id);
}
