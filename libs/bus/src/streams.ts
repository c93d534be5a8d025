import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Subjects } from "./subjects.js";

/** How long a worker may hold an unacknowledged dispatch before JetStream redelivers it. */
const DISPATCH_ACK_WAIT_MS = 30_000;
const REPORTS_ACK_WAIT_MS = 30_000;

/**
 * Creates (or updates) the two streams. Both are work queues: a message is gone once acknowledged,
 * and nothing in them is needed to rebuild state (Postgres holds it, invariant 2).
 */
export async function ensureStreams(nc: NatsConnection, s: Subjects): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  const wanted = [
    { name: s.dispatchStream, subjects: [s.dispatchWildcard] },
    { name: s.reportsStream, subjects: [s.reports] },
  ];
  for (const w of wanted) {
    try {
      await jsm.streams.info(w.name);
    } catch {
      await jsm.streams
        .add({ name: w.name, subjects: w.subjects, retention: RetentionPolicy.Workqueue, storage: StorageType.File })
        .catch(async (err: unknown) => {
          // Another process created it between our info and add: fine if it now exists.
          await jsm.streams.info(w.name).catch(() => {
            throw err;
          });
        });
    }
  }
  return jsm;
}

/** The durable pull consumer all workers of one queue share. Idempotent. */
export async function ensureDispatchConsumer(jsm: JetStreamManager, s: Subjects, queue: string, maxAckPending: number): Promise<void> {
  await jsm.consumers.add(s.dispatchStream, {
    durable_name: s.dispatchConsumer(queue),
    filter_subject: s.dispatch(queue),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(DISPATCH_ACK_WAIT_MS),
    max_ack_pending: maxAckPending,
    max_waiting: 4096,
  });
}

/** The durable pull consumer the schedulers share to apply reports. Idempotent. */
export async function ensureReportsConsumer(jsm: JetStreamManager, s: Subjects): Promise<void> {
  await jsm.consumers.add(s.reportsStream, {
    durable_name: s.reportsConsumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(REPORTS_ACK_WAIT_MS),
    max_ack_pending: 20_000,
    max_waiting: 512,
  });
}
