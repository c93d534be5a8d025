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
    /** Called when publishes fail (e.g. the stream vanished), so the caller can repair it. */
    private readonly onFailureFunc: (reason: string) => void = () => {},
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
    const failed = items.filter((_, i) => results[i]!.status === "rejected");
    const firstError = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (firstError) this.onFailureFunc(String(firstError.reason));
    return failed;
  }

  close(): void {
    this.publisher.close();
  }
}
