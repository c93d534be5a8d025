import type { NatsConnection } from "@nats-io/transport-node";

/** nats-server's default max_payload, assumed until the server's INFO says otherwise. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * Room kept in every message for what surrounds a payload or result: ids, type, queue, trace
 * context, headers, and the other entries' framing in a batch.
 */
export const ENVELOPE_BYTES = 4096;

/** A batch message's own headers and framing. */
const BATCH_FRAMING_BYTES = 512;

/** The most bytes one message to this server may carry (its max_payload). */
export function maxMessageBytes(nc: NatsConnection): number {
  return nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
}

/** What the entries of one batch message (dispatches, reports) may add up to. */
export function batchBudget(nc: NatsConnection): number {
  return maxMessageBytes(nc) - BATCH_FRAMING_BYTES;
}

/**
 * The largest payload or result that fits in one message with its envelope. A task whose payload
 * (or result) is bigger could never be sent: the scheduler refuses it at enqueue, the worker
 * fails the attempt.
 */
export function largestBody(nc: NatsConnection): number {
  return maxMessageBytes(nc) - ENVELOPE_BYTES;
}

/**
 * Splits `items`, in order, into runs of at most `maxCount` whose sizes add up to at most
 * `budget` bytes, so that each run fits in one message. An item bigger than the budget goes alone
 * (the publish of it then fails and is reported; it is never merged with others).
 */
export function chunkBySize<T>(items: readonly T[], sizeOf: (item: T) => number, budget: number, maxCount: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= maxCount || bytes + size > budget)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
