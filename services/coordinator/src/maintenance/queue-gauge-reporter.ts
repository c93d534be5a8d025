import { countActiveTasks, listWorkers, type Pool } from "@taskorch/store";
import { metrics } from "@taskorch/telemetry";
import type { MaintenanceService } from "./maintainer.js";

/**
 * QueueGaugeReporter: keeps tasks_pending{type}, tasks_running{type} and workers_total current.
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
    const [counts, workers] = await Promise.all([countActiveTasks(this.pool), listWorkers(this.pool, this.workerTimeoutMs)]);
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
    metrics.tasksPending.reset();
    metrics.tasksRunning.reset();
    metrics.workersTotal.reset();
  }
}
