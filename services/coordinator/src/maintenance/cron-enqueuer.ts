/**
 * CronEnqueuer: fires due schedules (Celery beat, cluster-wide). Leader only.
 *
 * Exactly once per tick: a tick's task carries the idempotency key `schedule:<id>:<tick time>`,
 * and the insert and the move to the next tick share one transaction fenced by the leader's term.
 * A leader that dies between the two leaves the tick due; its successor fires it again and the
 * key returns the task already inserted. A deposed leader's transaction changes nothing.
 *
 * Late ticks (the cluster was down, a failover): within MISFIRE_GRACE each missed tick fires in
 * order; beyond it, catch-up "skip" drops them and "run_once" fires one for them all. Overlap
 * "skip" skips a tick while the previous tick's task is unfinished.
 */
import { newTaskId, nextTick, toDispatchItem, type DispatchItem, type TaskSpec, type Timing } from "@taskorch/domain";
import type { Dispatcher } from "@taskorch/bus";
import {
  advanceSchedule,
  getTasksByIdempotencyKeys,
  inTransaction,
  insertTasks,
  lockDueSchedules,
  nextScheduleInMs,
  type AdmissionWindow,
  type DueSchedule,
  type LeaderTerm,
  type Pool,
} from "@taskorch/store";
import { ATTR, context, metrics, trace, traceparentOf, tracer, type Logger } from "@taskorch/telemetry";
import type { MaintenanceService } from "./maintainer.js";

export const MISFIRE_GRACE_MS = 60_000;
const MAX_SLEEP_MS = 1000;

export interface CronEnqueuerConfig {
  pool: Pool;
  dispatcher: Dispatcher;
  logger: Logger;
  window: AdmissionWindow;
}

function timingOf(s: DueSchedule): Timing {
  return s.cron !== null ? { kind: "cron", cron: s.cron, timeZone: s.timeZone } : { kind: "interval", intervalMs: s.intervalMs! };
}

export class CronEnqueuer implements MaintenanceService {
  readonly name = "CronEnqueuer";
  readonly retryAfterMs = MAX_SLEEP_MS;

  constructor(private readonly config: CronEnqueuerConfig) {}

  async runOnce(term: LeaderTerm): Promise<number> {
    const { pool, logger } = this.config;
    const ready: DispatchItem[] = [];
    let fired = 0;
    await inTransaction(pool, async (client) => {
      const due = await lockDueSchedules(client, 100);
      for (const s of due) {
        const timing = timingOf(s);
        const tick = s.nextFireAt;
        const late = s.dbNow.getTime() - tick.getTime();
        let fire = true;
        let next = nextTick(timing, tick, s.createdAt);
        if (late > MISFIRE_GRACE_MS) {
          fire = s.catchupPolicy === "run_once";
          next = nextTick(timing, s.dbNow, s.createdAt);
        }
        if (fire && s.overlapPolicy === "skip" && ["pending", "queued", "running"].includes(s.lastTaskStatus ?? "")) fire = false;
        let taskId: string | null = null;
        if (fire) {
          const task = await this.fire(client, s, tick);
          taskId = task.id;
          if (task.fresh && task.dispatch) ready.push(task.dispatch);
          fired++;
        }
        const ok = await advanceSchedule(client, term, { id: s.id, expected: tick, next, firedAt: fire ? tick : null, taskId });
        if (!ok) throw new Error(`schedule ${s.id}: tick ${tick.toISOString()} could not be recorded (leadership lost?)`);
        if (!fire) logger.info({ schedule: s.id, tick: tick.toISOString(), late_ms: late }, "CronEnqueuer: skipped tick");
      }
    });
    if (ready.length > 0) await this.config.dispatcher.dispatch(ready);
    if (fired > 0) logger.info({ fired }, "CronEnqueuer: fired schedules");
    const next = await nextScheduleInMs(pool);
    return next === null ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(0, next));
  }

  /** Inserts the tick's task (or finds the one an earlier leader inserted for the same tick). */
  private async fire(client: Parameters<typeof insertTasks>[0], s: DueSchedule, tick: Date): Promise<{ id: string; fresh: boolean; dispatch?: DispatchItem }> {
    const key = `schedule:${s.id}:${tick.toISOString()}`;
    const span = tracer.startSpan(`schedule ${s.id}`, { attributes: { [ATTR.taskType]: s.taskType, [ATTR.taskQueue]: s.taskQueue, "taskorch.schedule.id": s.id, "taskorch.schedule.tick": tick.toISOString() } });
    const spec: TaskSpec = {
      id: newTaskId(),
      type: s.taskType,
      queue: s.taskQueue,
      payloadJson: s.taskPayloadJson,
      priority: s.taskPriority,
      maxAttempts: s.taskMaxAttempts,
      runAt: null,
      delayMs: 0,
      timeoutMs: s.taskTimeoutMs,
      idempotencyKey: key,
      // The tick's span is the root of the task's trace (a cron-fired task has no caller).
      traceparent: traceparentOf(trace.setSpan(context.active(), span)),
      groupId: null,
    };
    try {
      const [inserted] = await insertTasks(client, [spec], this.config.window);
      if (inserted) {
        metrics.tasksEnqueued.inc({ type: inserted.type });
        span.setAttribute(ATTR.taskId, inserted.id);
        return {
          id: inserted.id,
          fresh: true,
          dispatch: inserted.status === "queued" ? toDispatchItem(inserted) : undefined,
        };
      }
      const [existing] = await getTasksByIdempotencyKeys(client, [key]);
      if (!existing) throw new Error(`schedule ${s.id}: tick task neither inserted nor found`);
      span.addEvent("schedule.tick_already_fired");
      return { id: existing.id, fresh: false };
    } finally {
      span.end();
    }
  }
}
