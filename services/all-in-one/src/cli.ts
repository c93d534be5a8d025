#!/usr/bin/env node
/**
 * The one `taskorch` entry point: `taskorch scheduler|coordinator|worker|all-in-one`.
 * main: config (validated once; a bad value exits naming the variable) -> logger -> apps ->
 * /metrics + /health -> signals (graceful stop within SHUTDOWN_TIMEOUT; a second signal exits at once).
 */
// First: starts tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set) before anything loads grpc-js.
import "@taskorch/telemetry/preload";
import { hostname } from "node:os";
import { ConfigError, loadConfig, type TaskorchConfig } from "@taskorch/config";
import { newNodeId, VERSION } from "@taskorch/domain";
import { createCoordinatorApp } from "@taskorch/coordinator";
import { createSchedulerApp } from "@taskorch/scheduler";
import { createLogger, shutdownTracing, startHealthServer, type HealthCheck, type HealthServer, type Logger } from "@taskorch/telemetry";
import { createWorkerApp } from "@taskorch/worker";
import { runDashboard } from "@taskorch/dashboard";
import { OPERATOR_USAGE, runOperatorCommand } from "./operator/index.js";

const USAGE = `taskorch ${VERSION} — distributed task orchestrator

Usage: taskorch <command>

Commands:
  all-in-one    scheduler + coordinator + worker in one process (DISTRIBUTED_MODE=false)
  scheduler     the public gRPC API (GRPC_PORT, default 50051)
  coordinator   leader election and maintenance (GRPC_PORT, default 50052)
  worker        runs task handlers pulled from NATS (WORKER_POOL_SIZE, WORKER_QUEUES)
  dashboard     web UI (DASHBOARD_PORT, default 8080; SCHEDULER_ADDR, COORDINATOR_ADDR)
  help          this text

Configuration is by environment only: DATABASE_URL, NATS_URL, GRPC_PORT, METRICS_PORT and the rest
listed in docs/configuration.md.`;

type Command = "all-in-one" | "scheduler" | "coordinator" | "worker";
const COMMANDS: ReadonlySet<string> = new Set(["all-in-one", "scheduler", "coordinator", "worker"]);

interface Component {
  name: string;
  healthChecks: HealthCheck[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

function buildComponents(command: Command, config: TaskorchConfig, logger: Logger, nodeId: string): { components: Component[]; afterStart: () => Promise<void> } {
  const grace = config.shutdownTimeoutMs;
  const components: Component[] = [];
  let afterStart = async () => {};
  if (command === "scheduler" || command === "all-in-one") {
    const app = createSchedulerApp(config, logger);
    components.push({ name: "scheduler", healthChecks: app.healthChecks, start: () => app.start(), stop: () => app.stop(grace) });
    if (config.enqueueExamples) {
      afterStart = async () => {
        const ids = await app.enqueueExamples();
        logger.info({ task_ids: ids }, "ENQUEUE_EXAMPLES: enqueued example tasks");
      };
    }
  }
  if (command === "coordinator" || command === "all-in-one") {
    const app = createCoordinatorApp(config, logger, {
      nodeId,
      grpcPort: command === "all-in-one" ? config.coordinatorGrpcPort : undefined,
      localWorkerIds: command === "all-in-one" ? [nodeId] : undefined,
    });
    components.push({ name: "coordinator", healthChecks: app.healthChecks, start: () => app.start(), stop: () => app.stop(grace) });
  }
  if (command === "worker" || command === "all-in-one") {
    const app = createWorkerApp(config, logger, nodeId);
    components.push({ name: "worker", healthChecks: app.healthChecks, start: () => app.start(), stop: () => app.stop() });
  }
  return { components, afterStart };
}

async function main(argv: string[]): Promise<number> {
  const op = await runOperatorCommand(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  if (op !== undefined) return op;
  const command = argv[0] ?? "help";
  if (command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n\n${OPERATOR_USAGE}\n`);
    return 0;
  }
  if (command === "dashboard") return runDashboard(process.env);
  if (command === "--version" || command === "version") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (!COMMANDS.has(command)) {
    process.stderr.write(`taskorch: unknown command ${JSON.stringify(command)}\n\n${USAGE}\n`);
    return 2;
  }
  let config: TaskorchConfig;
  try {
    config = loadConfig(process.env, command === "worker" ? [] : ["databaseUrl"]);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`taskorch ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const nodeId = config.nodeId ?? newNodeId(hostname(), process.pid);
  const pretty = config.logFormat === "pretty" || (config.logFormat === "auto" && process.stdout.isTTY === true);
  const logger = createLogger({ service: `taskorch-${command}`, nodeId, debug: config.debug, pretty });
  const { components, afterStart } = buildComponents(command as Command, config, logger, nodeId);

  let health: HealthServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, "taskorch: second signal, exiting at once");
      process.exit(1);
    }
    logger.info({ signal, shutdown_timeout_ms: config.shutdownTimeoutMs }, "taskorch: shutting down");
    health?.setDraining();
    stopping = (async () => {
      for (const c of [...components].reverse()) {
        await c.stop().catch((err: unknown) => logger.error({ err, component: c.name }, "taskorch: stop failed"));
      }
      await health?.close();
      await shutdownTracing();
      logger.info("taskorch: stopped");
      process.exit(0);
    })();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  try {
    health = await startHealthServer({
      host: config.metricsHost,
      port: config.metricsPort,
      nodeId,
      version: VERSION,
      distributed: config.distributedMode,
      checks: dedupeChecks(components.flatMap((c) => c.healthChecks)),
      logger,
    });
    for (const c of components) await c.start();
    // Healthy only once every component serves (the gRPC port is bound), not merely reachable.
    health.setReady();
    logger.info({ command, metrics_port: health.port, version: VERSION }, "taskorch: started");
    await afterStart();
  } catch (err) {
    logger.error({ err }, "taskorch: start failed");
    for (const c of [...components].reverse()) await c.stop().catch(() => undefined);
    await health?.close();
    return 1;
  }
  return new Promise<number>(() => {});
}

/** all-in-one has one Postgres and one NATS check per component; report each dependency once, all must pass. */
function dedupeChecks(checks: HealthCheck[]): HealthCheck[] {
  const byName = new Map<string, HealthCheck[]>();
  for (const c of checks) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  return [...byName].map(([name, list]) => ({ name, checkFunc: async () => (await Promise.all(list.map((c) => c.checkFunc()))).every(Boolean) }));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`taskorch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
