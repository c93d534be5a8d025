import type { NatsConnection, Subjects } from "@taskorch/bus";
import { TaskEvents } from "@taskorch/proto";
import type { Logger } from "@taskorch/telemetry";
import type { Subscription } from "@nats-io/transport-node";

/**
 * Wakes WaitTask callers when their task finishes. Whoever makes a task terminal (any scheduler
 * replica, the coordinator) announces it on `<prefix>.events.finished`; every replica listens.
 * Core NATS may drop an event, so callers also re-check Postgres on a slow timer.
 */
export class TaskWaiter {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly anyWaiters = new Set<() => void>();
  private sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(this.subjects.finished, {
      callback: (err, msg) => {
        if (err) return;
        for (const fn of [...this.anyWaiters]) fn();
        if (this.waiters.size === 0) return;
        try {
          for (const id of TaskEvents.decode(msg.data).taskIds) this.wake(id);
        } catch (e) {
          this.logger.warn({ err: e }, "TaskWaiter: dropped malformed event");
        }
      },
    });
  }

  /** Announces finished tasks to every replica (including this one). */
  announce(taskIds: string[]): void {
    if (taskIds.length > 0) this.nc.publish(this.subjects.finished, TaskEvents.encode({ taskIds }).finish());
  }

  /** Resolves when the task is announced finished, or after `ms`, or when `signal` aborts. */
  waitForEvent(taskId: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(taskId);
      if (!set) this.waiters.set(taskId, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(taskId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
      set.add(done);
    });
  }

  /** Resolves at the next finished event about any task, or after `ms`, or on abort. */
  waitForAnyEvent(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.anyWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
      this.anyWaiters.add(done);
    });
  }

  private wake(taskId: string): void {
    const set = this.waiters.get(taskId);
    if (set) for (const fn of [...set]) fn();
  }

  stop(): void {
    this.sub?.unsubscribe();
    for (const set of this.waiters.values()) for (const fn of [...set]) fn();
    for (const fn of [...this.anyWaiters]) fn();
  }
}
