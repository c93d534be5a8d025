import type { DispatchItem } from "@taskorch/domain";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { ATTR, contextFromTraceparent, failSpan, SpanKind, traceparentOf, tracer, trace } from "@taskorch/telemetry";
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
    const results = await Promise.allSettled(items.map((item) => this.publishOne(item)));
    const failed = items.filter((_, i) => results[i]!.status === "rejected");
    const firstError = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (firstError) this.onFailureFunc(String(firstError.reason));
    return failed;
  }

  /**
   * A traced task gets a PRODUCER span under the context stored with it (the EnqueueTask span), so
   * every attempt, however late and from whichever process, joins the task's trace; the span's
   * own context travels to the worker in the `traceparent` header.
   */
  private async publishOne(item: DispatchItem): Promise<void> {
    const subject = this.subjects.dispatch(item.queue);
    if (!item.traceparent) return this.publisher.publish(subject, encodeDispatch(item));
    const span = tracer.startSpan(
      `publish ${item.queue}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [ATTR.taskId]: item.taskId,
          [ATTR.taskType]: item.type,
          [ATTR.taskQueue]: item.queue,
          [ATTR.attempt]: item.attempt,
          [ATTR.messagingSystem]: "nats",
          [ATTR.destination]: subject,
        },
      },
      contextFromTraceparent(item.traceparent),
    );
    const h = headers();
    h.set("traceparent", traceparentOf(trace.setSpan(contextFromTraceparent(item.traceparent), span)) ?? item.traceparent);
    try {
      await this.publisher.publish(subject, encodeDispatch(item), { headers: h });
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  close(): void {
    this.publisher.close();
  }
}
