import { Server, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import type { HealthCheck, Logger } from "@taskorch/telemetry";
import { descriptorSetPath } from "@taskorch/proto";
import { HealthImplementation } from "grpc-health-check";
import { addReflection } from "./reflection.js";
import { authInterceptor, tolerantDefinition, TokenStore, type TokenStoreConfig } from "./auth.js";
import { isLoopbackHost, serverCredentialsFor, type GrpcTlsConfig } from "./tls.js";

export interface GrpcServiceBinding {
  /** Fully qualified name, e.g. "taskorch.v1.SchedulerService" (used for health status). */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface GrpcServerConfig {
  host: string;
  port: number;
  services: GrpcServiceBinding[];
  logger: Logger;
  /** Largest request accepted, in bytes. */
  maxReceiveMessageBytes?: number;
  /** Dependencies probed every few seconds: grpc.health.v1 answers NOT_SERVING while one fails. */
  healthChecks?: HealthCheck[];
  /** Serve TLS (mutual TLS with a client CA); plaintext when absent (docs/security.md). */
  tls?: GrpcTlsConfig;
  /** Require API tokens (AUTH_TOKENS_FILE); every call runs as "anonymous" admin when absent. */
  auth?: TokenStoreConfig;
}

export interface GrpcServer {
  port: number;
  server: Server;
  /** Marks the server as draining: NOT_SERVING from now on, whatever the checks say. */
  setDraining(): void;
  /** Stops accepting calls, lets running ones finish within graceMs, then cuts them. */
  close(graceMs: number): Promise<void>;
}

const HEALTH_PROBE_INTERVAL_MS = 2000;
const HEALTH_CHECK_TIMEOUT_MS = 2000;

function withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.catch(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Starts a gRPC server with the standard health service and server reflection (v1 and v1alpha) on it. */
export async function startGrpcServer(config: GrpcServerConfig): Promise<GrpcServer> {
  // Both read their files now, so a missing or bad file fails the start naming its variable.
  const tokens = config.auth ? new TokenStore(config.auth, config.logger) : undefined;
  const { credentials, provider } = serverCredentialsFor(config.tls, config.logger);
  const server = new Server({
    "grpc.max_receive_message_length": config.maxReceiveMessageBytes ?? 16 * 1024 * 1024,
    "grpc.keepalive_permit_without_calls": 1,
    interceptors: [authInterceptor({ tokens, logger: config.logger })],
  });
  const names = config.services.map((s) => s.name);
  for (const s of config.services) server.addService(tolerantDefinition(s.definition), s.implementation);
  const health = new HealthImplementation(Object.fromEntries(["", ...names].map((n) => [n, "NOT_SERVING" as const])));
  health.addToServer(server);
  // Reflection from the real descriptors buf builds, so grpcurl resolves every type (PITFALLS.md).
  addReflection(server, { descriptorSetPath, services: [...names, "grpc.health.v1.Health"] });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${config.host}:${config.port}`, credentials, (err, boundPort) => {
      if (err) reject(new Error(`binding gRPC server to ${config.host}:${config.port}`, { cause: err }));
      else resolve(boundPort);
    });
  });
  const security = { tls: provider ? provider.describe() : false, auth: tokens ? { tokens: tokens.names } : false };
  if (!provider && !isLoopbackHost(config.host)) {
    config.logger.warn(
      { grpc_host: config.host, grpc_port: port },
      "GrpcServer: serving PLAINTEXT gRPC beyond loopback; set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE outside local development",
    );
  }
  if (!tokens && !isLoopbackHost(config.host)) {
    config.logger.warn({ grpc_host: config.host, grpc_port: port }, "GrpcServer: no AUTH_TOKENS_FILE; every caller can do everything");
  }
  config.logger.info({ grpc_port: port, ...security }, "GrpcServer: security");
  let draining = false;
  let lastServing: boolean | undefined;
  const setServing = (serving: boolean) => {
    if (serving === lastServing) return;
    lastServing = serving;
    for (const n of ["", ...names]) health.setStatus(n, serving ? "SERVING" : "NOT_SERVING");
    if (serving === false && !draining) config.logger.warn("GrpcServer: health NOT_SERVING (a dependency does not answer)");
  };
  const probe = async () => {
    const checks = config.healthChecks ?? [];
    const results = await Promise.all(checks.map((c) => withTimeout(c.checkFunc(), HEALTH_CHECK_TIMEOUT_MS)));
    setServing(!draining && results.every(Boolean));
  };
  await probe();
  const probeTimer = setInterval(() => void probe(), HEALTH_PROBE_INTERVAL_MS);
  probeTimer.unref();
  return {
    port,
    server,
    setDraining: () => {
      draining = true;
      setServing(false);
    },
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        clearInterval(probeTimer);
        provider?.close();
        tokens?.close();
        draining = true;
        setServing(false);
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
