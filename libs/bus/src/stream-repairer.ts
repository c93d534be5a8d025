import type { ConsumerMessages, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "@taskorch/telemetry";
import { ensureStreams } from "./streams.js";
import type { Subjects } from "./subjects.js";

const MIN_GAP_MS = 1000;

/**
 * Recreates streams and consumers that vanished (a NATS restart without its store, a purge, an
 * operator's delete). NATS holds nothing we cannot rebuild: once the stream is back, the
 * coordinator re-dispatches what was lost from Postgres (invariant 2).
 */
export class StreamRepairer {
  private last = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly logger: Logger,
    /** Re-creates this process's own consumers after the streams exist again. */
    private readonly consumersFunc: (jsm: JetStreamManager) => Promise<void> = async () => {},
  ) {}

  /** Runs a repair unless one ran within the last second. */
  repair(reason: string): void {
    if (this.running || performance.now() - this.last < MIN_GAP_MS) return;
    this.last = performance.now();
    this.running = (async () => {
      try {
        const jsm = await ensureStreams(this.nc, this.subjects);
        await this.consumersFunc(jsm);
        this.logger.info({ reason }, "StreamRepairer: streams and consumers ensured");
      } catch (err) {
        this.logger.warn({ err, reason }, "StreamRepairer: repair failed; will try again");
      } finally {
        this.running = undefined;
      }
    })();
  }

  /** Watches a consume()/fetch() for a missing stream or consumer, repairs it and calls onLostFunc. */
  watch(messages: ConsumerMessages, onLostFunc: () => void = () => {}): void {
    void (async () => {
      for await (const s of messages.status()) {
        if (s.type === "consumer_not_found" || s.type === "stream_not_found" || s.type === "consumer_deleted") {
          this.repair(s.type);
          onLostFunc();
        }
      }
    })().catch(() => undefined);
  }
}
