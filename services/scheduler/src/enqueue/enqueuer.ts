import {
  AlreadyExistsError,
  GroupCommitter,
  toDispatchItem,
  type DispatchItem,
  type TaskRecord,
  type TaskSpec,
} from "@taskorch/domain";
import { deleteTasks, getTasksByIdempotencyKeys, inTransaction, insertTasks, type AdmissionWindow, type Pool } from "@taskorch/store";
import { metrics, type Logger } from "@taskorch/telemetry";

export interface EnqueueResult {
  task: TaskRecord;
  deduplicated: boolean;
}

export interface EnqueuerConfig {
  pool: Pool;
  logger: Logger;
  /** Called after commit with the attempts ready to publish; must not throw. */
  dispatchFunc: (items: DispatchItem[]) => void;
  /**
   * Called after commit when tasks were stored PENDING: "ready" when some are delayed (the leader
   * must plan for their due time), "held" when all were due but held back (full window, older
   * tasks waiting, limits).
   */
  backlogFunc: (event: "ready" | "held") => void;
  window: AdmissionWindow;
  maxBatch?: number;
  maxInFlight?: number;
}

function canonicalJson(text: string): string {
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]))
        : v;
  return JSON.stringify(sortKeys(JSON.parse(text)));
}

/** Same idempotency key, same request? Type, queue and payload must match. */
function sameRequest(spec: TaskSpec, existing: TaskRecord): boolean {
  return spec.type === existing.type && spec.queue === existing.queue && canonicalJson(spec.payloadJson) === canonicalJson(existing.payloadJson);
}

/**
 * Accepts tasks with group commit: concurrent EnqueueTask calls share one INSERT and one commit
 * (PITFALLS.md: per-task round trips decide throughput). A group (one EnqueueTasks call) is written
 * in one transaction, so it is all-or-none; when a group's idempotency key turns out to belong to a
 * different request, that group's rows are deleted again before the commit.
 * Only after COMMIT are tasks handed to the dispatcher (invariant 1: accepted means durable).
 */
export class Enqueuer {
  private readonly committer: GroupCommitter<TaskSpec, EnqueueResult>;

  constructor(private readonly config: EnqueuerConfig) {
    this.committer = new GroupCommitter({
      maxBatch: config.maxBatch ?? 2000,
      maxInFlight: config.maxInFlight ?? 2,
      // Calls read from one HTTP/2 read arrive in one turn: one INSERT for all of them.
      flushAtTurnEnd: true,
      flushFunc: (specs, groupSizes) => this.flush(specs, groupSizes),
    });
  }

  /** Stores the specs atomically; resolves once they are committed. */
  enqueue(specs: TaskSpec[]): Promise<EnqueueResult[]> {
    return this.committer.submit(specs);
  }

  private async flush(specs: TaskSpec[], groupSizes: number[]): Promise<Array<EnqueueResult | Error>> {
    // Without idempotency keys nothing can conflict: one INSERT is atomic on its own, so it runs
    // as a single autocommitted statement (one round trip instead of BEGIN/INSERT/COMMIT).
    if (specs.every((s) => s.idempotencyKey === null)) {
      const inserted = await insertTasks(this.config.pool, specs, this.config.window);
      if (inserted.length !== specs.length) throw new Error(`inserted ${inserted.length} of ${specs.length} tasks without idempotency keys`);
      this.afterCommit(inserted);
      return inserted.map((task) => ({ task, deduplicated: false }));
    }
    const { inserted, results, undo } = await inTransaction(this.config.pool, async (client) => {
      const inserted = await insertTasks(client, specs, this.config.window);
      const byId = new Map(inserted.map((t) => [t.id, t]));
      const missingKeys = specs.filter((s) => !byId.has(s.id) && s.idempotencyKey !== null).map((s) => s.idempotencyKey!);
      const existing = new Map((await getTasksByIdempotencyKeys(client, missingKeys)).map((t) => [t.idempotencyKey!, t]));
      const results = specs.map((spec): EnqueueResult | Error => {
        const mine = byId.get(spec.id);
        if (mine) return { task: mine, deduplicated: false };
        const prior = existing.get(spec.idempotencyKey ?? "");
        if (!prior) return new Error(`task ${spec.id} was neither inserted nor found by idempotency key`);
        if (!sameRequest(spec, prior)) {
          return new AlreadyExistsError(
            `idempotency_key ${JSON.stringify(spec.idempotencyKey)} already belongs to task ${prior.id} (type ${prior.type}, queue ${prior.queue}) with a different request; use a new key`,
          );
        }
        return { task: prior, deduplicated: true };
      });
      // All-or-none per group: undo the inserts of groups that failed.
      const undo: string[] = [];
      let offset = 0;
      for (const size of groupSizes) {
        const group = results.slice(offset, offset + size);
        if (group.some((r) => r instanceof Error)) {
          for (const r of group) if (!(r instanceof Error) && !r.deduplicated) undo.push(r.task.id);
        }
        offset += size;
      }
      await deleteTasks(client, undo);
      return { inserted, results, undo };
    });
    const undone = new Set(undo);
    this.afterCommit(inserted.filter((t) => !undone.has(t.id)));
    return results;
  }

  /** Counts and hands over what was committed: due tasks to publish, and a nudge when some wait. */
  private afterCommit(committed: TaskRecord[]): void {
    const ready: DispatchItem[] = [];
    let held = false;
    let delayed = false;
    for (const t of committed) {
      metrics.tasksEnqueued.inc({ type: t.type });
      if (t.status === "queued") ready.push(toDispatchItem(t));
      // run_at and created_at are both the database's clock: a later run_at means a delayed task.
      else if (t.runAt.getTime() > t.createdAt.getTime()) delayed = true;
      else held = true;
    }
    if (ready.length > 0) this.config.dispatchFunc(ready);
    if (delayed) this.config.backlogFunc("ready");
    else if (held) this.config.backlogFunc("held");
  }
}
