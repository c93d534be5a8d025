import type { NatsConnection, Subscription, SubscriptionOptions } from "@nats-io/transport-node";

/** How long to wait for the server's PONG before going on without it (NATS down or reconnecting). */
export const CONFIRM_TIMEOUT_MS = 1000;

export interface ConfirmedSubscription {
  sub: Subscription;
  /** True once the server has the subscription; false if that was not confirmed in time. */
  confirmed: Promise<boolean>;
}

/**
 * Subscribes and confirms it with a PING/PONG after the SUB: once `confirmed` is true, the server
 * delivers every message published from then on, so a caller that reads state after it cannot
 * miss a later change's announcement. For subscriptions held only while they are needed (a
 * waiter, a leader), which a message published a moment after subscribing must still reach.
 */
export function subscribeConfirmed(nc: NatsConnection, subject: string, options: SubscriptionOptions, timeoutMs = CONFIRM_TIMEOUT_MS): ConfirmedSubscription {
  const sub = nc.subscribe(subject, options);
  let timer: NodeJS.Timeout | undefined;
  const confirmed = Promise.race([
    nc.flush().then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
  ]).finally(() => clearTimeout(timer));
  return { sub, confirmed };
}
