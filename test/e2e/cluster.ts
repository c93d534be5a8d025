import {
  coordinatorClient,
  createTestDatabase,
  createTestNats,
  schedulerClient,
  spawnService,
  type ServiceProcess,
  type TestDatabase,
  type TestNats,
} from "@taskorch/testkit";
import { eventually } from "@taskorch/testkit";
import pg from "pg";

/** Intervals short enough for tests; production defaults are in docs/configuration.md. */
export const FAST_ENV: Record<string, string> = {
  CLAIM_INTERVAL: "200ms",
  RETRY_BACKOFF_BASE: "50ms",
  RETRY_BACKOFF_MAX: "200ms",
  HEARTBEAT_INTERVAL: "500ms",
  WORKER_TIMEOUT: "3s",
  LEADER_TERM: "3s",
  CLEANUP_INTERVAL: "2s",
  SHUTDOWN_TIMEOUT: "5s",
};

export interface Cluster {
  db: TestDatabase;
  nats: TestNats;
  env: Record<string, string>;
  scheduler: ServiceProcess;
  coordinator: ServiceProcess;
  coordinators: ServiceProcess[];
  workers: ServiceProcess[];
  api: ReturnType<typeof schedulerClient>;
  coord: ReturnType<typeof coordinatorClient>;
  sql: pg.Pool;
  startWorker(extraEnv?: Record<string, string>): Promise<ServiceProcess>;
  startCoordinator(): Promise<ServiceProcess>;
  /** Task counts by status and the tail of every process's log, for failed tests. */
  diagnostics(): Promise<string>;
  teardown(): Promise<void>;
}

export interface ClusterOptions {
  env?: Record<string, string>;
  workerEnv?: Record<string, string>;
  coordinators?: number;
  workers?: number;
  /** Postgres to create the cluster's database on (default: the test server). */
  postgresAdminUrl?: string;
  /** A port (a TcpProxy's) through which the services reach Postgres; the test's own pool connects directly. */
  servicesPostgresPort?: number;
}

/** The id a service process logs as worker_id (its node id). */
export function nodeIdOf(p: ServiceProcess): string {
  if (!p.nodeId) throw new Error(`${p.command} has not reported its id (it was started without waiting for /health)`);
  return p.nodeId;
}

/** scheduler + coordinator(s) + worker(s) as separate processes, on a database and NATS prefix of their own. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const db = await createTestDatabase(options.postgresAdminUrl);
  const nats = createTestNats();
  const servicesDbUrl = new URL(db.url);
  if (options.servicesPostgresPort !== undefined) servicesDbUrl.port = String(options.servicesPostgresPort);
  const env = { DATABASE_URL: servicesDbUrl.toString(), NATS_URL: nats.url, NATS_PREFIX: nats.prefix, ...FAST_ENV, ...options.env };
  const workerEnv = options.workerEnv ?? {};
  const coordinators: ServiceProcess[] = [];
  const workers: ServiceProcess[] = [];
  const started: ServiceProcess[] = [];
  try {
    return await assemble();
  } catch (err) {
    // A cluster that did not come up must not leave processes, a database or streams behind.
    await Promise.all(started.map((p) => p.stop(5000)));
    await nats.cleanup().catch(() => undefined);
    await db.drop().catch(() => undefined);
    throw err;
  }

  async function assemble(): Promise<Cluster> {
    const scheduler = await spawnService("scheduler", { env });
    started.push(scheduler);
    const startCoordinator = async () => {
      const p = await spawnService("coordinator", { env: { ...env, DISTRIBUTED_MODE: "true" } });
      coordinators.push(p);
      started.push(p);
      return p;
    };
    for (let i = 0; i < (options.coordinators ?? 1); i++) await startCoordinator();
    const coordinator = coordinators[0]!;
    const startWorker = async (more: Record<string, string> = {}) => {
      const { DATABASE_URL: _unused, ...workerBase } = env;
      const w = await spawnService("worker", { env: { ...workerBase, ...workerEnv, ...more } });
      workers.push(w);
      started.push(w);
      return w;
    };
    for (let i = 0; i < (options.workers ?? 1); i++) await startWorker();
    const api = schedulerClient(scheduler.grpcPort);
    const coord = coordinatorClient(coordinator.grpcPort);
    const sql = new pg.Pool({ connectionString: db.url, max: 2 });
    // The forced DROP DATABASE at teardown may reach a connection still closing; that is expected.
    sql.on("error", () => undefined);
    // Ready means the workers are registered: until then their queues have no capacity and tasks
    // wait in Postgres for admission instead of being dispatched at once. (Read from the database:
    // a cluster with API tokens would refuse a tokenless ListWorkers.)
    await eventually(
      async () => Number((await sql.query("SELECT count(*) AS n FROM workers WHERE last_heartbeat > now() - interval '30 seconds'")).rows[0].n) >= workers.length,
      { what: "workers registered" },
    );
    return {
      db,
      nats,
      env,
      scheduler,
      coordinator,
      coordinators,
      workers,
      api,
      coord,
      sql,
      startWorker,
      startCoordinator,
      async diagnostics() {
        const counts = (await sql.query("SELECT queue, status, count(*)::int AS n FROM tasks GROUP BY 1, 2 ORDER BY 1, 2")).rows;
        const logs = [scheduler, ...coordinators, ...workers].map((p) => `--- ${p.command} (${p.grpcPort}) ---\n${p.output().slice(-4000)}`);
        return [`tasks: ${JSON.stringify(counts)}`, ...logs].join("\n");
      },
      async teardown() {
        api.close();
        coord.close();
        await Promise.all([...workers, ...coordinators, scheduler].map((p) => p.stop()));
        await sql.end();
        await nats.cleanup();
        await db.drop();
      },
    };
  }
}
