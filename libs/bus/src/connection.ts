import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "@taskorch/telemetry";

export type { NatsConnection };

export interface BusConnectionConfig {
  natsUrl: string;
  name: string;
  logger: Logger;
}

/**
 * Connects to NATS and keeps reconnecting forever: NATS is transport, so an outage delays work
 * (Postgres keeps the truth) and must never end the process.
 */
export async function connectBus(config: BusConnectionConfig): Promise<NatsConnection> {
  const nc = await connect({
    servers: config.natsUrl.split(",").map((s) => s.trim()),
    name: config.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: false,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error") {
        config.logger.warn({ nats_status: s.type }, `Bus: NATS ${s.type}`);
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
