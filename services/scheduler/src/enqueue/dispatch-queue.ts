import type { DispatchItem } from "@taskorch/domain";
import type { Dispatcher } from "@taskorch/bus";
import type { Logger } from "@taskorch/telemetry";

const RETRY_DELAY_MS = 1000;
/** Beyond this many unpublished attempts we stop holding them: the coordinator re-dispatches from Postgres. */
const MAX_HELD = 100_000;

/**
 * Publishes committed attempts without holding up the RPC that committed them. Publishes that fail
 * (NATS down) are retried every second from memory; if this process dies meanwhile, the tasks are
 * still QUEUED in Postgres and the coordinator re-dispatches them after DISPATCH_TIMEOUT (invariant 2).
 */
export class DispatchQueue {
  private held: DispatchItem[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
  ) {}

  push(items: DispatchItem[]): void {
    const p = this.dispatcher.dispatch(items).then(
      (failed) => this.hold(failed),
      (err: unknown) => {
        this.logger.warn({ err }, "DispatchQueue: publish failed");
        this.hold(items);
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private hold(failed: DispatchItem[]): void {
    if (failed.length === 0) return;
    const room = MAX_HELD - this.held.length;
    if (room < failed.length) this.logger.warn({ dropped: failed.length - room }, "DispatchQueue: too many unpublished tasks; leaving the rest to the coordinator");
    this.held.push(...failed.slice(0, Math.max(0, room)));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const retry = this.held;
      this.held = [];
      if (retry.length > 0) {
        this.logger.info({ count: retry.length }, "DispatchQueue: retrying publishes");
        this.push(retry);
      }
    }, RETRY_DELAY_MS);
  }

  /** Waits for publishes in flight (used at shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    clearTimeout(this.timer);
  }
}
