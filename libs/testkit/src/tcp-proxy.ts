import { connect, createServer, type Socket } from "node:net";
import { freePort } from "./env.js";

export interface TcpProxy {
  port: number;
  /** Resets every connection through the proxy and refuses new ones, as a network partition would. */
  cut(): void;
  /** Lets connections through again. */
  restore(): void;
  /**
   * Stops forwarding on every open connection for good, without closing it, while new connections
   * go through: what a client sees when its server vanished silently and another took its address
   * (a failover behind a virtual IP). Its statements on the old connections are never answered.
   */
  freeze(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 to `targetPort`, for cutting one process off from a server (Postgres,
 * NATS) while the others keep it.
 */
export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let cut = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (cut) return client.resetAndDestroy();
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on("close", () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    upstream.on("close", () => client.destroy());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port,
    cut() {
      cut = true;
      for (const s of sockets) s.resetAndDestroy();
    },
    restore() {
      cut = false;
    },
    freeze() {
      for (const pair of pairs) {
        const [client, upstream] = pair;
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Read and drop what either side sends, so neither sees an error or a full buffer.
        client.on("data", () => undefined);
        upstream.on("data", () => undefined);
        pairs.delete(pair);
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
