import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Logger } from "@taskorch/telemetry";
import { descriptorSetPath } from "@taskorch/proto";
import { HealthImplementation } from "grpc-health-check";
import { addReflection } from "./reflection.js";

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
}

export interface GrpcServer {
  port: number;
  server: Server;
  /** Reports SERVING or NOT_SERVING through grpc.health.v1 for "" and every service. */
  setServing(serving: boolean): void;
  /** Stops accepting calls, lets running ones finish within graceMs, then cuts them. */
  close(graceMs: number): Promise<void>;
}

/** Starts a gRPC server with the standard health service and server reflection (v1 and v1alpha) on it. */
export async function startGrpcServer(config: GrpcServerConfig): Promise<GrpcServer> {
  const server = new Server({
    "grpc.max_receive_message_length": config.maxReceiveMessageBytes ?? 16 * 1024 * 1024,
    "grpc.keepalive_permit_without_calls": 1,
  });
  const names = config.services.map((s) => s.name);
  for (const s of config.services) server.addService(s.definition, s.implementation);
  const health = new HealthImplementation(Object.fromEntries(["", ...names].map((n) => [n, "NOT_SERVING" as const])));
  health.addToServer(server);
  // Reflection from the real descriptors buf builds, so grpcurl resolves every type (PITFALLS.md).
  addReflection(server, { descriptorSetPath, services: [...names, "grpc.health.v1.Health"] });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${config.host}:${config.port}`, ServerCredentials.createInsecure(), (err, boundPort) => {
      if (err) reject(new Error(`binding gRPC server to ${config.host}:${config.port}`, { cause: err }));
      else resolve(boundPort);
    });
  });
  const setServing = (serving: boolean) => {
    for (const n of ["", ...names]) health.setStatus(n, serving ? "SERVING" : "NOT_SERVING");
  };
  setServing(true);
  return {
    port,
    server,
    setServing,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
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
