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
  workers: ServiceProcess[];
  api: ReturnType<typeof schedulerClient>;
  coord: ReturnType<typeof coordinatorClient>;
  sql: pg.Pool;
  startWorker(extraEnv?: Record<string, string>): Promise<ServiceProcess>;
  teardown(): Promise<void>;
}

/** scheduler + coordinator + worker as three processes, on a database and NATS prefix of their own. */
export async function startCluster(extraEnv: Record<string, string> = {}, workerEnv: Record<string, string> = {}): Promise<Cluster> {
  const db = await createTestDatabase();
  const nats = createTestNats();
  const env = { DATABASE_URL: db.url, NATS_URL: nats.url, NATS_PREFIX: nats.prefix, ...FAST_ENV, ...extraEnv };
  const scheduler = await spawnService("scheduler", { env });
  const coordinator = await spawnService("coordinator", { env: { ...env, DISTRIBUTED_MODE: "true" } });
  const workers: ServiceProcess[] = [];
  const startWorker = async (more: Record<string, string> = {}) => {
    const { DATABASE_URL: _unused, ...workerBase } = env;
    const w = await spawnService("worker", { env: { ...workerBase, ...workerEnv, ...more } });
    workers.push(w);
    return w;
  };
  await startWorker();
  const api = schedulerClient(scheduler.grpcPort);
  const coord = coordinatorClient(coordinator.grpcPort);
  const sql = new pg.Pool({ connectionString: db.url, max: 2 });
  return {
    db,
    nats,
    env,
    scheduler,
    coordinator,
    workers,
    api,
    coord,
    sql,
    startWorker,
    async teardown() {
      api.close();
      coord.close();
      await Promise.all([...workers, coordinator, scheduler].map((p) => p.stop()));
      await sql.end();
      await nats.cleanup();
      await db.drop();
    },
  };
}
