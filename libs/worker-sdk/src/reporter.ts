import { GroupCommitter } from "@taskorch/domain";
import { batchBudget, chunkBySize, StreamPublisher, type NatsConnection, type Subjects } from "@taskorch/bus";
import { ReportBatch, type Report } from "@taskorch/proto";
import type { Logger } from "@taskorch/telemetry";

const RETRY_MS = [100, 250, 500, 1000, 2000, 5000];
const MAX_REPORTS_PER_MESSAGE = 1000;
/** What a report carries besides its result or error (ids, attempt, type, duration, trace context). */
const REPORT_OVERHEAD_BYTES = 256;

function reportBytes(r: Report): number {
  return (r.resultJson?.length ?? 0) + (r.failure ? Buffer.byteLength(r.failure.message) : 0) + r.type.length + REPORT_OVERHEAD_BYTES;
}

/**
 * Sends attempt outcomes to `<prefix>.reports` (JetStream), many per message: reports finished
 * while a publish is in flight go out together. A report is retried until the stream stores it
 * (or the worker stops); if the worker dies first, the coordinator recovers the attempt.
 */
export class Reporter {
  private readonly publisher: StreamPublisher;
  private readonly committer: GroupCommitter<Report, true>;
  private stopped = false;
  /** Reports handed over and not yet stored (or given up). */
  private undelivered = 0;
  /** flushed() calls waiting for `undelivered` to reach 0. */
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly workerId: string,
    private readonly logger: Logger,
    /** Called when a publish fails (the reports stream may have vanished). */
    private readonly onFailureFunc: (reason: string) => void = () => {},
  ) {
    this.publisher = new StreamPublisher(nc);
    this.committer = new GroupCommitter({
      maxBatch: MAX_REPORTS_PER_MESSAGE,
      maxInFlight: 2,
      // Attempts that finish in one turn (no-op handlers of one claim reply) share one message, as
      // far as the server's max_payload allows (big results go in messages of their own).
      flushAtTurnEnd: true,
      flushFunc: async (reports) => {
        for (const chunk of chunkBySize(reports, reportBytes, batchBudget(this.nc), MAX_REPORTS_PER_MESSAGE)) {
          await this.publishWithRetry(ReportBatch.encode({ workerId: this.workerId, reports: chunk }).finish());
        }
        return reports.map(() => true as const);
      },
    });
  }

  /** Resolves once the reports stream has stored the report. */
  report(r: Report): Promise<void> {
    this.undelivered++;
    // One promise per report beyond the batch's own: this runs once per attempt.
    return this.committer.submit([r]).then(
      () => this.settled(),
      (err: unknown) => {
        this.settled();
        throw err;
      },
    );
  }

  private settled(): void {
    if (--this.undelivered > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Reports handed over and not yet stored by the stream. */
  get inFlight(): number {
    return this.undelivered;
  }

  /** Resolves when every report handed over is stored (or given up), or after `ms`; true if all were. */
  async flushed(ms: number): Promise<boolean> {
    if (this.undelivered === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    return this.undelivered === 0;
  }

  private async publishWithRetry(data: Uint8Array): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.publisher.publish(this.subjects.reports, data);
        return;
      } catch (err) {
        if (this.stopped) throw err;
        this.onFailureFunc(String(err));
        const wait = RETRY_MS[Math.min(i, RETRY_MS.length - 1)]!;
        this.logger.warn({ err, retry_in_ms: wait }, "Reporter: publishing reports failed");
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.publisher.close();
  }
}
