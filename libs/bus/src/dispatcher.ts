import type { DispatchItem } from "@taskorch/domain";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { DispatchBatch } from "@taskorch/proto";
import { ATTR, contextFromTraceparent, failSpan, SpanKind, traceparentOf, tracer, trace, type Span } from "@taskorch/telemetry";
import { dispatchMessageOf, encodeDispatch } from "./codec.js";
import { batchBudget, chunkBySize } from "./message-size.js";
import { StreamPublisher } from "./publisher.js";
import type { Subjects } from "./subjects.js";

/** Header that marks a DispatchBatch (a message without it holds one DispatchMessage). */
export const DISPATCH_BATCH_HEADER = "Taskorch-Dispatch";
/**
 * Most attempts per DispatchBatch. A burst costs one JetStream message (store, delivery, ack) per
 * batch instead of per attempt; small enough that a worker usually has room for a whole batch
 * (it claims what it has slots for and lets JetStream redeliver the message for the rest).
 */
export const MAX_DISPATCH_BATCH = 32;
/** What a batch entry carries besides its payload (ids, attempt, limits, trace context, framing). */
const ITEM_OVERHEAD_BYTES = 160;

/** About how many bytes an attempt takes in a DispatchBatch. */
function itemBytes(item: DispatchItem): number {
  return Buffer.byteLength(item.payloadJson) + item.type.length + item.queue.length + ITEM_OVERHEAD_BYTES;
}

/**
 * Publishes attempts to `<prefix>.dispatch.<queue>`: alone as a DispatchMessage, or, when several
 * of one queue go out together, as DispatchBatch messages of up to MAX_DISPATCH_BATCH that fit in
 * the server's max_payload (32 payloads of 100 KB would not: a batch that big was refused on every
 * try, and its tasks stayed QUEUED for good).
 */
export class Dispatcher {
  private readonly publisher: StreamPublisher;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    /** Called when publishes fail (e.g. the stream vanished), so the caller can repair it. */
    private readonly onFailureFunc: (reason: string) => void = () => {},
  ) {
    this.publisher = new StreamPublisher(nc);
  }

  /** Publishes every item; resolves with the ones that failed (they stay QUEUED and are re-sent later). */
  async dispatch(items: readonly DispatchItem[]): Promise<DispatchItem[]> {
    const byQueue = new Map<string, DispatchItem[]>();
    for (const item of items) {
      const list = byQueue.get(item.queue);
      if (list) list.push(item);
      else byQueue.set(item.queue, [item]);
    }
    const budget = batchBudget(this.nc);
    const chunks: DispatchItem[][] = [];
    for (const list of byQueue.values()) chunks.push(...chunkBySize(list, itemBytes, budget, MAX_DISPATCH_BATCH));
    const results = await Promise.allSettled(chunks.map((chunk) => (chunk.length === 1 ? this.publishOne(chunk[0]!) : this.publishBatch(chunk))));
    const failed = chunks.filter((_, i) => results[i]!.status === "rejected").flat();
    const firstError = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (firstError) this.onFailureFunc(String(firstError.reason));
    return failed;
  }

  /**
   * A traced task gets a PRODUCER span under the context stored with it (the EnqueueTask span), so
   * every attempt, however late and from whichever process, joins the task's trace; the span's
   * own context travels to the worker (header for a single message, field for a batch item).
   */
  private producerSpan(item: DispatchItem): { span: Span; traceparent: string } | undefined {
    if (!item.traceparent) return undefined;
    const subject = this.subjects.dispatch(item.queue);
    const parent = contextFromTraceparent(item.traceparent);
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
      parent,
    );
    return { span, traceparent: traceparentOf(trace.setSpan(parent, span)) ?? item.traceparent };
  }

  private async publishOne(item: DispatchItem): Promise<void> {
    const subject = this.subjects.dispatch(item.queue);
    const traced = this.producerSpan(item);
    if (!traced) return this.publisher.publish(subject, encodeDispatch(item), { promptly: true });
    const h = headers();
    h.set("traceparent", traced.traceparent);
    await this.ended([traced.span], this.publisher.publish(subject, encodeDispatch(item), { headers: h, promptly: true }));
  }

  private async publishBatch(items: DispatchItem[]): Promise<void> {
    const spans: Span[] = [];
    const messages = items.map((item) => {
      const traced = this.producerSpan(item);
      if (traced) spans.push(traced.span);
      return dispatchMessageOf(item, traced?.traceparent ?? "");
    });
    const h = headers();
    h.set(DISPATCH_BATCH_HEADER, "batch");
    await this.ended(spans, this.publisher.publish(this.subjects.dispatch(items[0]!.queue), DispatchBatch.encode({ items: messages }).finish(), { headers: h, promptly: true }));
  }

  private async ended(spans: Span[], publish: Promise<void>): Promise<void> {
    try {
      await publish;
    } catch (err) {
      for (const span of spans) failSpan(span, err);
      throw err;
    } finally {
      for (const span of spans) span.end();
    }
  }

  close(): void {
    this.publisher.close();
  }
}
