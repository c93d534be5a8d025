import { countActiveTasks, listLimits, listWorkers, type Pool } from "@taskorch/store";
import { metrics } from "@taskorch/telemetry";
import type { MaintenanceService } from "./maintainer.js";

/**
 * QueueGaugeReporter: keeps tasks_pending{type}, tasks_running{type}, workers_total and the
 * limit gauges (taskorch_rate_limit_per_second, taskorch_queue_concurrency_limit) current.
 * Only the leader exports them (so sum() over replicas is right); they are cleared when it stops.
 */
export class QueueGaugeReporter implements MaintenanceService {
  readonly name = "QueueGaugeReporter";
  readonly retryAfterMs: number;

  constructor(
    private readonly pool: Pool,
    private readonly workerTimeoutMs: number,
    private readonly intervalMs: number,
  ) {
    this.retryAfterMs = intervalMs;
  }

  async runOnce(): Promise<number> {
    const [counts, workers, limits] = await Promise.all([countActiveTasks(this.pool), listWorkers(this.pool, this.workerTimeoutMs), listLimits(this.pool)]);
    metrics.rateLimit.reset();
    metrics.queueConcurrencyLimit.reset();
    for (const r of limits.rate) metrics.rateLimit.set({ type: r.type }, (r.limit * 1000) / r.periodMs);
    for (const q of limits.queue) metrics.queueConcurrencyLimit.set({ queue: q.queue }, q.maxConcurrency);
    metrics.tasksPending.reset();
    metrics.tasksRunning.reset();
    for (const c of counts) {
      metrics.tasksPending.set({ type: c.type }, c.pending);
      metrics.tasksRunning.set({ type: c.type }, c.running);
    }
    metrics.workersTotal.set(workers.filter((w) => w.alive).length);
    return this.intervalMs;
  }

  onStop(): void {
    metrics.rateLimit.reset();
    metrics.queueConcurrencyLimit.reset();
    metrics.tasksPending.reset();
    metrics.tasksRunning.reset();
    metrics.workersTotal.reset();
  }
}
