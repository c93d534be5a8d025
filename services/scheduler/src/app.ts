import {
  AdmissionNudger,
  busAuthFromSettings,
  connectBus,
  Dispatcher,
  ENVELOPE_BYTES,
  ensureReportsConsumer,
  ensureStreams,
  largestBody,
  maxMessageBytes,
  pingBus,
  StreamRepairer,
  subjectsFor,
  type NatsConnection,
} from "@taskorch/bus";
import type { TaskorchConfig } from "@taskorch/config";
import { grpcSecurityFromSettings, startGrpcServer, type GrpcServer } from "@taskorch/rpc";
import { createPool, migrate, pingDatabase, type Pool } from "@taskorch/store";
import type { HealthCheck, Logger } from "@taskorch/telemetry";
import { ClaimResponder } from "./claims/claim-responder.js";
import { DispatchQueue } from "./enqueue/dispatch-queue.js";
import { Enqueuer } from "./enqueue/enqueuer.js";
import { validateEnqueue, type TaskValidatorConfig } from "./enqueue/task-validator.js";
import { schedulerService } from "./grpc/scheduler-handler.js";
import { ReportApplier } from "./reports/report-applier.js";
import { TaskWaiter } from "./wait/task-waiter.js";

export const DEFAULT_SCHEDULER_PORT = 50051;

/**
 * A payload must also fit in one NATS message with its envelope: a bigger one could be stored but
 * never dispatched (its task would stay QUEUED for good), so it is refused at enqueue like one
 * over MAX_PAYLOAD_BYTES.
 */
function validatorConfig(config: TaskorchConfig, nc: NatsConnection): TaskValidatorConfig {
  const natsLimit = largestBody(nc);
  const capped = natsLimit < config.maxPayloadBytes;
  return {
    defaultMaxAttempts: config.defaultMaxAttempts,
    maxPayloadBytes: capped ? natsLimit : config.maxPayloadBytes,
    payloadLimitName: capped ? `what one NATS message carries: the server's max_payload of ${maxMessageBytes(nc)} bytes less ${ENVELOPE_BYTES} for the envelope` : "MAX_PAYLOAD_BYTES",
    maxTypeLength: config.maxTypeLength,
    maxQueueLength: config.maxQueueLength,
    maxIdempotencyKeyLength: config.maxIdempotencyKeyLength,
  };
}

export interface SchedulerApp {
  /** Bound gRPC port (after start). */
  readonly grpcPort: number;
  readonly healthChecks: HealthCheck[];
  start(): Promise<void>;
  /** ENQUEUE_EXAMPLES: enqueues one task of each example type (as the seed does at start). */
  enqueueExamples(): Promise<string[]>;
  /** Stops taking calls, finishes in-flight work within graceMs, closes connections. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The scheduler's object graph: the public gRPC API, the enqueue path (group commit, then
 * dispatch), the claim responder and the report applier. Stateless: run as many as needed.
 */
export function createSchedulerApp(config: TaskorchConfig, logger: Logger): SchedulerApp {
  const log = logger.child({ component: "scheduler" });
  const subjects = subjectsFor(config.natsPrefix);
  let pool: Pool | undefined;
  let nc: NatsConnection | undefined;
  let grpc: GrpcServer | undefined;
  let dispatcher: Dispatcher | undefined;
  let dispatchQueue: DispatchQueue | undefined;
  let claims: ClaimResponder | undefined;
  let reports: ReportApplier | undefined;
  let waiter: TaskWaiter | undefined;
  let enqueuer: Enqueuer | undefined;

  const healthChecks: HealthCheck[] = [
    { name: "postgres", checkFunc: () => (pool ? pingDatabase(pool) : Promise.resolve(false)) },
    { name: "nats", checkFunc: () => (nc ? pingBus(nc) : Promise.resolve(false)) },
  ];

  return {
    get grpcPort() {
      return grpc?.port ?? 0;
    },
    healthChecks,
    async start() {
      if (!config.databaseUrl) throw new Error("DATABASE_URL is required by the scheduler");
      pool = createPool(
        { databaseUrl: config.databaseUrl, maxConnections: config.databasePoolSize, applicationName: "taskorch-scheduler", queryTimeoutMs: config.databaseQueryTimeoutMs },
        (err) => log.warn({ err }, "Scheduler: idle Postgres client error"),
      );
      const migrated = await migrate(pool);
      if (migrated.applied.length > 0) log.info({ applied: migrated.applied }, "Scheduler: applied migrations");
      nc = await connectBus({ natsUrl: config.natsUrl, name: "taskorch-scheduler", logger: log, auth: busAuthFromSettings(config) });
      const jsm = await ensureStreams(nc, subjects);
      await ensureReportsConsumer(jsm, subjects);
      const repairer = new StreamRepairer(nc, subjects, log, (m) => ensureReportsConsumer(m, subjects));
      dispatcher = new Dispatcher(nc, subjects, (reason) => repairer.repair(reason));
      dispatchQueue = new DispatchQueue(dispatcher, log);
      const queue = dispatchQueue;
      const bus = nc;
      // Wakes the leader's Admitter; one nudge per event-loop turn however many batches finished.
      const nudger = new AdmissionNudger(bus, subjects.capacityEvents);
      const announceReady = () => nudger.nudge("ready");
      enqueuer = new Enqueuer({
        pool,
        logger: log,
        dispatchFunc: (items) => queue.push(items),
        backlogFunc: (event) => nudger.nudge(event),
        window: { workerTimeoutMs: config.workerTimeoutMs, factor: config.admissionWindowFactor, extra: config.admissionWindowExtra },
      });
      waiter = new TaskWaiter(nc, subjects, log);
      const w = waiter;
      claims = new ClaimResponder(nc, subjects, pool, log);
      claims.start();
      reports = new ReportApplier(
        nc,
        subjects,
        pool,
        { baseMs: config.retryBackoffBaseMs, maxMs: config.retryBackoffMaxMs },
        (ids) => w.announce(ids),
        repairer,
        (event) => nudger.nudge(event),
        log,
      );
      await reports.start();
      grpc = await startGrpcServer({
        healthChecks,
        host: config.grpcHost,
        port: config.grpcPort ?? DEFAULT_SCHEDULER_PORT,
        logger: log,
        maxReceiveMessageBytes: config.grpcMaxReceiveBytes,
        ...grpcSecurityFromSettings(config),
        services: [
          schedulerService({
            pool,
            nc,
            subjects,
            enqueuer: enqueuer,
            dispatchQueue,
            waiter,
            validator: validatorConfig(config, nc),
            limits: { maxBatchSize: config.maxBatchSize, maxPageSize: config.maxPageSize },
            capacityFunc: announceReady,
            logger: log,
          }),
        ],
      });
      log.info({ grpc_port: grpc.port }, "Scheduler: serving gRPC");
    },
    async enqueueExamples() {
      if (!enqueuer || !nc) throw new Error("scheduler not started");
      const validator = validatorConfig(config, nc);
      const examples = [
        { type: "example.noop", payload: { hello: "world" } },
        { type: "example.sleep", payload: { ms: 500 } },
        { type: "example.flaky", payload: { failTimes: 1 } },
        { type: "example.fail", payload: { message: "this example always fails" }, maxAttempts: 2 },
      ];
      const specs = examples.map((e) =>
        validateEnqueue({ queue: "", priority: 0, idempotencyKey: "", runAt: undefined, delay: undefined, timeout: undefined, ...e }, validator),
      );
      const results = await enqueuer.enqueue(specs);
      return results.map((r) => r.task.id);
    },
    async stop(graceMs) {
      await grpc?.close(graceMs);
      waiter?.stop();
      await claims?.stop();
      await reports?.stop();
      await dispatchQueue?.drain();
      dispatcher?.close();
      await nc?.drain().catch(() => undefined);
      await pool?.end().catch(() => undefined);
    },
  };
}
