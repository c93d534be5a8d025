import type { DispatchItem } from "@taskorch/domain";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { encodeDispatch } from "./codec.js";
import { StreamPublisher } from "./publisher.js";
import type { Subjects } from "./subjects.js";

/**
 * Publishes attempts to `<prefix>.dispatch.<queue>`. The message id `<task>:<attempt>` lets JetStream
 * drop a duplicate publish of the same attempt inside its de-duplication window.
 */
export class Dispatcher {
  private readonly publisher: StreamPublisher;

  constructor(
    nc: NatsConnection,
    private readonly subjects: Subjects,
  ) {
    this.publisher = new StreamPublisher(nc);
  }

  /** Publishes every item; resolves with the ones that failed (they stay QUEUED and are re-sent later). */
  async dispatch(items: readonly DispatchItem[]): Promise<DispatchItem[]> {
    const results = await Promise.allSettled(
      items.map((item) => {
        const h = item.traceparent ? headers() : undefined;
        if (h && item.traceparent) h.set("traceparent", item.traceparent);
        return this.publisher.publish(this.subjects.dispatch(item.queue), encodeDispatch(item), { headers: h });
      }),
    );
    return items.filter((_, i) => results[i]!.status === "rejected");
  }

  close(): void {
    this.publisher.close();
  }
}
