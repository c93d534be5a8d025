/**
 * Maintainer: runs the leader-only maintenance services while this node leads (River's
 * maintenance leader + startstop services).
 *
 * Each service is a `runOnce(term)` that returns how long to sleep before the next run; the
 * Maintainer loops it with an initial jitter, catches and logs failures (retrying after the
 * service's interval), and stops every loop when leadership ends. Services never decide leadership
 * themselves: each of their writes carries the term and is fenced in SQL.
 */
import type { LeaderTerm } from "@taskorch/store";
import { FailureLog, type Logger } from "@taskorch/telemetry";

export interface MaintenanceService {
  name: string;
  /** Sleep after a failed run. */
  retryAfterMs: number;
  /** Does one round of work; resolves with the delay before the next round. */
  runOnce(term: LeaderTerm): Promise<number>;
  /** Called when leadership ends (e.g. to reset gauges only the leader may export). */
  onStop?(): void;
}

export class Maintainer {
  private abort: AbortController | undefined;
  private loops: Promise<void>[] = [];
  private readonly wakers = new Map<string, () => void>();
  private readonly pendingWake = new Set<string>();
  /** Per service, for this term: a round that fails every second through an outage logs a few lines, not one each time. */
  private failures = new Map<string, FailureLog>();

  constructor(
    private readonly services: MaintenanceService[],
    private readonly logger: Logger,
  ) {}

  /** Starts every service for this term (stopping a previous term's first). */
  async start(term: LeaderTerm): Promise<void> {
    await this.stop();
    const abort = new AbortController();
    this.abort = abort;
    this.failures = new Map(this.services.map((s) => [s.name, new FailureLog({ logger: this.logger, failedMsg: "Maintainer: service run failed", recoveredMsg: "Maintainer: service runs work again" })]));
    this.loops = this.services.map((s) => this.loop(s, term, abort.signal));
    this.logger.info({ epoch: term.epoch, services: this.services.map((s) => s.name) }, "Maintainer: started");
  }

  private async loop(service: MaintenanceService, term: LeaderTerm, signal: AbortSignal): Promise<void> {
    await sleep(Math.random() * 50, signal);
    while (!signal.aborted) {
      let delay: number;
      const failures = this.failures.get(service.name)!;
      try {
        delay = await service.runOnce(term);
        failures.succeeded({ service: service.name });
      } catch (err) {
        failures.failed(err, { service: service.name });
        delay = service.retryAfterMs;
      }
      if (this.pendingWake.delete(service.name)) continue;
      await this.sleepUnlessWoken(service.name, delay, signal);
    }
  }

  /**
   * Sleeps until the delay is over, the term ends or wake(name) is called, whichever is first, and
   * then leaves no timer or abort listener behind: the Admitter is woken after most rounds under
   * load, and a sleep left running each time piled up a timer and a listener per round.
   */
  private sleepUnlessWoken(name: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        if (this.wakers.get(name) === done) this.wakers.delete(name);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
      this.wakers.set(name, done);
    });
  }

  /** Runs a service's next round now (e.g. capacity was freed); remembered if it is mid-round. */
  wake(name: string): void {
    const waker = this.wakers.get(name);
    if (waker) waker();
    else if (this.abort) this.pendingWake.add(name);
  }

  /** Stops all loops; idempotent and safe before start. */
  async stop(): Promise<void> {
    if (!this.abort) return;
    this.abort.abort();
    this.abort = undefined;
    await Promise.all(this.loops);
    this.loops = [];
    for (const s of this.services) s.onStop?.();
    this.logger.info("Maintainer: stopped");
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
