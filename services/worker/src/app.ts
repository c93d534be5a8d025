import { busAuthFromSettings, connectBus, pingBus, type NatsConnection } from "@taskorch/bus";
import type { TaskorchConfig } from "@taskorch/config";
import type { HealthCheck, Logger } from "@taskorch/telemetry";
import { Worker, type TaskHandlerFunc } from "@taskorch/worker-sdk";
import { registerExampleHandlers } from "./examples.js";

export interface WorkerApp {
  readonly workerId: string;
  readonly healthChecks: HealthCheck[];
  registerHandler(type: string, fn: TaskHandlerFunc): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The worker service: the SDK's Worker with the example handlers registered. NATS only. */
export function createWorkerApp(config: TaskorchConfig, logger: Logger, workerId: string): WorkerApp {
  const log = logger.child({ component: "worker" });
  let nc: NatsConnection | undefined;
  let worker: Worker | undefined;
  const extra = new Map<string, TaskHandlerFunc>();
  return {
    workerId,
    healthChecks: [{ name: "nats", checkFunc: () => (nc ? pingBus(nc) : Promise.resolve(false)) }],
    registerHandler(type, fn) {
      extra.set(type, fn);
      worker?.registerHandler(type, fn);
    },
    async start() {
      nc = await connectBus({ natsUrl: config.natsUrl, name: `taskorch-worker-${workerId}`, logger: log, auth: busAuthFromSettings(config) });
      worker = new Worker({
        nc,
        natsPrefix: config.natsPrefix,
        workerId,
        queues: config.workerQueues,
        poolSize: config.workerPoolSize,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        defaultTimeoutMs: config.defaultTaskTimeoutMs,
        shutdownTimeoutMs: config.shutdownTimeoutMs,
        maxResultBytes: config.maxPayloadBytes,
        logger: log,
      });
      registerExampleHandlers(worker);
      for (const [type, fn] of extra) worker.registerHandler(type, fn);
      await worker.start();
    },
    async stop() {
      await worker?.stop();
      await nc?.drain().catch(() => undefined);
    },
  };
}
