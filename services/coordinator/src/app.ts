import { AdmissionNudger, busAuthFromSettings, connectBus, decodeAdmissionEvent, Dispatcher, ensureStreams, pingBus, StreamRepairer, subjectsFor, subscribeConfirmed, type NatsConnection } from "@taskorch/bus";
import type { TaskorchConfig } from "@taskorch/config";
import { TaskEvents } from "@taskorch/proto";
import { grpcSecurityFromSettings, startGrpcServer, type GrpcServer } from "@taskorch/rpc";
import { createPool, listWorkers, migrate, pingDatabase, type LeaderTerm, type Pool } from "@taskorch/store";
import { metrics, type HealthCheck, type Logger } from "@taskorch/telemetry";
import { coordinatorService } from "./grpc/coordinator-handler.js";
import { Elector } from "./leadership/elector.js";
import { Maintainer } from "./maintenance/maintainer.js";
import { HeartbeatSight } from "./maintenance/heartbeat-sight.js";
import { OrphanRescuer } from "./maintenance/orphan-rescuer.js";
import { QueueGaugeReporter } from "./maintenance/queue-gauge-reporter.js";
import { Admitter } from "./maintenance/admitter.js";
import { CronEnqueuer } from "./maintenance/cron-enqueuer.js";
import { IdempotencyKeyReaper } from "./maintenance/idempotency-key-reaper.js";
import { WorkerReaper } from "./maintenance/worker-reaper.js";
import { HeartbeatRecorder } from "./registry/heartbeat-recorder.js";

export const DEFAULT_COORDINATOR_PORT = 50052;
const GAUGE_INTERVAL_MS = 5000;
const RESCUE_INTERVAL_MS = 1000;

export interface CoordinatorOptions {
  nodeId: string;
  /** gRPC port; defaults to GRPC_PORT or 50052. */
  grpcPort?: number;
  /** Single-instance mode only: ids of workers that run in this process (all others are gone). */
  localWorkerIds?: string[];
}

export interface CoordinatorApp {
  readonly grpcPort: number;
  readonly healthChecks: HealthCheck[];
  /** The term this node leads, if any. */
  readonly leaderTerm: LeaderTerm | null;
  start(): Promise<void>;
  stop(graceMs: number): Promise<void>;
}

/**
 * The coordinator's object graph: CoordinatorService, the heartbeat recorder (every replica), and
 * the elector that starts the leader-only Maintainer (promotion, orphan recovery, reaping, gauges).
 */
export function createCoordinatorApp(config: TaskorchConfig, logger: Logger, options: CoordinatorOptions): CoordinatorApp {
  const log = logger.child({ component: "coordinator" });
  const subjects = subjectsFor(config.natsPrefix);
  let pool: Pool | undefined;
  let nc: NatsConnection | undefined;
  let grpc: GrpcServer | undefined;
  let dispatcher: Dispatcher | undefined;
  let recorder: HeartbeatRecorder | undefined;
  let elector: Elector | undefined;
  let maintainer: Maintainer | undefined;
  let transitions = Promise.resolve();
  let leaderSub: { unsubscribe(): void } | undefined;
  let capacitySub: { unsubscribe(): void } | undefined;

  const healthChecks: HealthCheck[] = [
    { name: "postgres", checkFunc: () => (pool ? pingDatabase(pool) : Promise.resolve(false)) },
    { name: "nats", checkFunc: () => (nc ? pingBus(nc) : Promise.resolve(false)) },
  ];

  return {
    get grpcPort() {
      return grpc?.port ?? 0;
    },
    get leaderTerm() {
      return elector?.currentTerm ?? null;
    },
    healthChecks,
    async start() {
      if (!config.databaseUrl) throw new Error("DATABASE_URL is required by the coordinator");
      pool = createPool(
        { databaseUrl: config.databaseUrl, maxConnections: Math.min(config.databasePoolSize, 10), applicationName: "taskorch-coordinator", queryTimeoutMs: config.databaseQueryTimeoutMs },
        (err) => log.warn({ err }, "Coordinator: idle Postgres client error"),
      );
      await migrate(pool);
      nc = await connectBus({ natsUrl: config.natsUrl, name: "taskorch-coordinator", logger: log, auth: busAuthFromSettings(config) });
      await ensureStreams(nc, subjects);
      const repairer = new StreamRepairer(nc, subjects, log);
      dispatcher = new Dispatcher(nc, subjects, (reason) => repairer.repair(reason));
      const bus = nc;
      const announce = (ids: string[]) => {
        if (ids.length > 0) bus.publish(subjects.finished, TaskEvents.encode({ taskIds: ids }).finish());
      };
      // Single-instance restart: every worker but ours is gone, so its RUNNING tasks are orphans
      // now, not after WORKER_TIMEOUT (the seed's recoverStaleTasks).
      const suspects =
        !config.distributedMode && options.localWorkerIds
          ? (await listWorkers(pool, config.workerTimeoutMs)).map((w) => w.id).filter((id) => !options.localWorkerIds!.includes(id))
          : [];
      // Capacity gained is the same news as capacity freed: whichever replica is the leader wakes.
      const nudger = new AdmissionNudger(nc, subjects.capacityEvents);
      // Whether the leader may take a silent worker for dead: not while heartbeats could not be
      // recorded (Postgres or NATS out of reach, a failed write) and for a heartbeat interval after.
      const sight = new HeartbeatSight(HeartbeatSight.windowFor(config.heartbeatIntervalMs, config.workerTimeoutMs));
      watchNatsForSight(nc, sight);
      recorder = new HeartbeatRecorder({
        nc,
        subjects,
        pool,
        workerTimeoutMs: config.workerTimeoutMs,
        capacityFunc: () => nudger.nudge("room"),
        gapFunc: (reason) => sight.lose(reason),
        logger: log,
      });
      recorder.start();
      const window = { workerTimeoutMs: config.workerTimeoutMs, factor: config.admissionWindowFactor, extra: config.admissionWindowExtra };
      const admitter = new Admitter({ pool, dispatcher, logger: log, intervalMs: config.claimIntervalMs, window });
      maintainer = new Maintainer(
        [
          admitter,
          new OrphanRescuer({
            pool,
            dispatcher,
            logger: log,
            workerTimeoutMs: config.workerTimeoutMs,
            defaultTaskTimeoutMs: config.defaultTaskTimeoutMs,
            dispatchTimeoutMs: config.dispatchTimeoutMs,
            rescueIntervalMs: Math.min(RESCUE_INTERVAL_MS, config.cleanupIntervalMs),
            redispatchIntervalMs: config.cleanupIntervalMs,
            suspectWorkerIds: suspects,
            sight,
            announceFunc: announce,
            readyFunc: () => maintainer?.wake("Admitter"),
          }),
          new CronEnqueuer({ pool, dispatcher, logger: log, window }),
          new WorkerReaper(pool, config.deadWorkerRetentionMs, config.cleanupIntervalMs, log),
          new IdempotencyKeyReaper(pool, config.idempotencyRetentionMs, config.cleanupIntervalMs, log),
          new QueueGaugeReporter(pool, config.workerTimeoutMs, Math.min(GAUGE_INTERVAL_MS, config.cleanupIntervalMs)),
        ],
        log,
      );
      const m = maintainer;
      // Schedulers announce new pending tasks and freed capacity (see AdmissionEvent); only the
      // leader's Admitter acts on them, so only the leader listens (at low load there is one per
      // finished task, which every follower would otherwise receive too). Confirmed before the
      // Admitter's first round, so a nudge sent after that round's reads is not lost.
      const listenForCapacity = async () => {
        if (capacitySub) return;
        try {
          const { sub, confirmed } = subscribeConfirmed(bus, subjects.capacityEvents, {
            callback: (err, msg) => {
              if (err) return;
              if (admitter.wantsRound(decodeAdmissionEvent(msg.data))) m.wake("Admitter");
            },
          });
          capacitySub = sub;
          if (!(await confirmed)) log.warn("Coordinator: capacity events subscription not confirmed; the Admitter runs on its timer until NATS answers");
        } catch (err) {
          // Leading matters more than being nudged: the Admitter also runs on its own timer.
          log.warn({ err }, "Coordinator: not subscribed to capacity events; the Admitter runs on its timer");
        }
      };
      const stopListeningForCapacity = () => {
        capacitySub?.unsubscribe();
        capacitySub = undefined;
      };
      metrics.leaderStatus.set({ worker_id: options.nodeId }, 0);
      elector = new Elector({
        pool,
        nodeId: options.nodeId,
        termMs: config.leaderTermMs,
        force: !config.distributedMode,
        logger: log,
        onChangeFunc: (term) => {
          metrics.leaderStatus.set({ worker_id: options.nodeId }, term ? 1 : 0);
          transitions = transitions
            .then(async () => {
              if (term) {
                await listenForCapacity();
                await m.start(term);
              } else {
                await m.stop();
                stopListeningForCapacity();
              }
            })
            .catch((err: unknown) => log.error({ err }, "Coordinator: maintenance transition failed"));
        },
      });
      elector.start();
      // A resigning leader announces it, so a follower takes over at once instead of at its next
      // look (the lease row stays the only truth; this is just a wake-up).
      const e = elector;
      leaderSub = nc.subscribe(subjects.leaderEvents, { callback: () => e.poke() });
      grpc = await startGrpcServer({
        healthChecks,
        host: config.grpcHost,
        port: options.grpcPort ?? config.grpcPort ?? DEFAULT_COORDINATOR_PORT,
        logger: log,
        maxReceiveMessageBytes: config.grpcMaxReceiveBytes,
        ...grpcSecurityFromSettings(config),
        services: [coordinatorService(pool, config.workerTimeoutMs, log)],
      });
      log.info({ grpc_port: grpc.port, distributed: config.distributedMode }, "Coordinator: serving gRPC");
    },
    async stop(graceMs) {
      await grpc?.close(graceMs);
      leaderSub?.unsubscribe();
      capacitySub?.unsubscribe();
      const wasLeader = elector?.currentTerm !== null && elector?.currentTerm !== undefined;
      await elector?.stop();
      if (wasLeader) nc?.publish(subjects.leaderEvents, new TextEncoder().encode("resigned"));
      await transitions;
      await maintainer?.stop();
      await recorder?.stop();
      dispatcher?.close();
      await nc?.drain().catch(() => undefined);
      await pool?.end().catch(() => undefined);
    },
  };
}

/** A disconnected NATS delivers no heartbeats: the leader is blind to them until it reconnects. */
function watchNatsForSight(nc: NatsConnection, sight: HeartbeatSight): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") sight.natsLost();
      else if (s.type === "reconnect") sight.natsRegained();
    }
  })();
}
