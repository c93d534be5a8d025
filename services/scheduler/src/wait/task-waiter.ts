import { subscribeConfirmed, type NatsConnection, type Subjects } from "@taskorch/bus";
import { TaskEvents } from "@taskorch/proto";
import type { Logger } from "@taskorch/telemetry";
import type { Subscription } from "@nats-io/transport-node";

/** How long the subscription outlives its last waiter: a burst of WaitTask calls subscribes once. */
const DEFAULT_LINGER_MS = 30_000;

/**
 * Wakes WaitTask and WaitGroup callers when tasks finish. Whoever makes a task terminal (any
 * scheduler replica, the coordinator) announces it on `<prefix>.events.finished`. Core NATS may
 * drop an event, so callers also re-check Postgres on a slow timer.
 *
 * A replica listens only while one of its callers waits (and for a linger time after the last
 * one): announcements are one message per batch of outcomes, and every listening replica
 * receives every replica's. A replica with no waiter (the common case under load) then receives
 * none of them: the server drops what nobody listens to.
 */
export class TaskWaiter {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly anyWaiters = new Set<() => void>();
  private sub: Subscription | undefined;
  /** Resolves once the server has the current subscription. */
  private confirmed: Promise<void> | undefined;
  private listeners = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly logger: Logger,
    private readonly lingerMs = DEFAULT_LINGER_MS,
  ) {}

  /** Whether this replica is subscribed to announcements now. */
  get listening(): boolean {
    return this.sub !== undefined;
  }

  /**
   * Subscribes (if not yet) and resolves once the server has the subscription, so that a task
   * read from Postgres after this cannot finish unannounced to the caller. Call the returned
   * function when done waiting.
   */
  async listen(): Promise<() => void> {
    if (this.stopped) return () => {};
    this.listeners++;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (!this.sub) this.subscribe();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.listeners--;
      if (this.listeners === 0 && this.sub) {
        this.lingerTimer = setTimeout(() => this.unsubscribe(), this.lingerMs);
        this.lingerTimer.unref();
      }
    };
    await this.confirmed;
    return release;
  }

  private subscribe(): void {
    try {
      const { sub, confirmed } = subscribeConfirmed(this.nc, this.subjects.finished, {
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
      this.sub = sub;
      // Not confirmed (NATS down): waits go on and end on their Postgres re-check timer.
      this.confirmed = confirmed.then((ok) => {
        if (!ok) this.logger.warn("TaskWaiter: subscription not confirmed; waits re-check Postgres on their timer");
      });
    } catch (err) {
      // A closed or closing connection: waits still end, on their Postgres re-check timer.
      this.logger.warn({ err }, "TaskWaiter: not subscribed to announcements; waits re-check Postgres on their timer");
    }
  }

  private unsubscribe(): void {
    this.lingerTimer = undefined;
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.confirmed = undefined;
  }

  /** Announces finished tasks to every listening replica (this one included). */
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
    this.stopped = true;
    clearTimeout(this.lingerTimer);
    this.unsubscribe();
    for (const set of this.waiters.values()) for (const fn of [...set]) fn();
    for (const fn of [...this.anyWaiters]) fn();
  }
}
