import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "@taskorch/telemetry";
import { busAuthOptions, type BusAuthConfig } from "./auth.js";
import { consolidateFlushes } from "./flush-consolidation.js";

export type { NatsConnection };

/**
 * A NATS server that went silent (a crashed host, a network that drops packets, a failover behind
 * its address) closes nothing, and nats.js' default notices only after ~6 minutes (3 pings 2 min
 * apart); meanwhile publishes vanish, and heartbeats with them. With a ping every 5 s the
 * connection is taken for dead and re-made within ~15 s, well inside WORKER_TIMEOUT's default
 * 30 s, so the leader goes blind (HeartbeatSight) before it could take live workers for dead.
 */
const PING_INTERVAL_MS = 5_000;
const MAX_PINGS_OUT = 2;

export interface BusConnectionConfig {
  natsUrl: string;
  name: string;
  logger: Logger;
  /** Credentials and TLS (NATS_CREDS_FILE, NATS_TLS_CA_FILE, ...); none by default. */
  auth?: BusAuthConfig;
}

/**
 * Connects to NATS and keeps reconnecting forever: NATS is transport, so an outage delays work
 * (Postgres keeps the truth) and must never end the process. What one event-loop turn publishes
 * goes out in one write (consolidateFlushes).
 */
export async function connectBus(config: BusConnectionConfig): Promise<NatsConnection> {
  const nc = await connect({
    ...busAuthOptions(config.auth),
    servers: config.natsUrl.split(",").map((s) => s.trim()),
    name: config.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: PING_INTERVAL_MS,
    maxPingOut: MAX_PINGS_OUT,
    waitOnFirstConnect: false,
    // nats.js otherwise makes an Error per request() and flush() to keep the caller's stack for a
    // timeout: ~55 µs of CPU per claim request in the worker's profile. A timeout's message and
    // our own log line say enough.
    noAsyncTraces: true,
  });
  if (!consolidateFlushes(nc)) config.logger.debug("Bus: this nats.js version has no ProtocolHandler.flushPending; writes are not consolidated");
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error" || s.type === "staleConnection") {
        // Only the status type and, for errors, the message: never the server URL (it may carry a password).
        const detail = s.type === "error" && "error" in s ? { nats_error: String((s as { error?: unknown }).error) } : {};
        config.logger.warn({ nats_status: s.type, ...detail }, `Bus: NATS ${s.type}`);
      }
    }
  })();
  return nc;
}

/** Resolves true when the NATS server answers a round trip. */
export async function pingBus(nc: NatsConnection): Promise<boolean> {
  if (nc.isClosed()) return false;
  await nc.flush();
  return true;
}
