import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { registry } from "./metrics.js";

/** A named dependency probe; resolves true when the dependency answers. */
export interface HealthCheck {
  name: string;
  checkFunc: () => Promise<boolean>;
}

export interface HealthServerConfig {
  host: string;
  port: number;
  nodeId: string;
  version: string;
  distributed: boolean;
  checks: HealthCheck[];
  logger: Logger;
}

export interface HealthServer {
  port: number;
  /** Marks start-up as finished: until then /health answers 503 "starting". */
  setReady(): void;
  /** Marks the process as draining: /health answers 503 from then on. */
  setDraining(): void;
  close(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2000;

async function runCheck(check: HealthCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check.checkFunc().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serves GET /metrics (Prometheus text) and GET /health (the seed's JSON, 503 when a dependency is
 * unreachable or the process drains).
 */
export async function startHealthServer(config: HealthServerConfig): Promise<HealthServer> {
  let draining = false;
  let ready = false;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      registry
        .metrics()
        .then((text) => res.writeHead(200, { "content-type": registry.contentType }).end(text))
        .catch((err: unknown) => {
          config.logger.error({ err }, "HealthServer: collecting metrics failed");
          res.writeHead(500).end();
        });
      return;
    }
    if (path === "/health" || path === "/healthz" || path === "/readyz") {
      Promise.all(config.checks.map(async (c) => [c.name, await runCheck(c)] as const)).then((results) => {
        const healthy = ready && !draining && results.every(([, ok]) => ok);
        const body = {
          status: healthy ? "healthy" : draining ? "draining" : !ready ? "starting" : "unhealthy",
          worker_id: config.nodeId,
          version: config.version,
          distributed: config.distributed,
          checks: Object.fromEntries(results.map(([name, ok]) => [name, ok ? "ok" : "unreachable"])),
        };
        res.writeHead(healthy ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(body));
      });
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics or /health\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    setReady: () => {
      ready = true;
    },
    setDraining: () => {
      draining = true;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
