import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Subjects } from "./subjects.js";

/**
 * How long a delivered, unclaimed dispatch may stay unacknowledged before JetStream redelivers it.
 * Workers only fetch as many messages as they have free slots and claim them at once, so this only
 * matters when a worker dies between delivery and claim: then its messages come back this fast.
 */
const DISPATCH_ACK_WAIT_MS = 10_000;
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

/** Adds a durable consumer, or updates the editable settings of one created by an older version. */
async function addOrUpdate(jsm: JetStreamManager, stream: string, config: Parameters<JetStreamManager["consumers"]["add"]>[1]): Promise<void> {
  try {
    await jsm.consumers.add(stream, config);
  } catch (err) {
    const name = config.durable_name!;
    const existing = await jsm.consumers.info(stream, name).catch(() => undefined);
    if (!existing) throw err;
    await jsm.consumers.update(stream, name, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending, max_waiting: config.max_waiting });
  }
}

/** The durable pull consumer all workers of one queue share. Idempotent. */
export async function ensureDispatchConsumer(jsm: JetStreamManager, s: Subjects, queue: string, maxAckPending: number): Promise<void> {
  await addOrUpdate(jsm, s.dispatchStream, {
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
  await addOrUpdate(jsm, s.reportsStream, {
    durable_name: s.reportsConsumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(REPORTS_ACK_WAIT_MS),
    max_ack_pending: 20_000,
    max_waiting: 512,
  });
}
