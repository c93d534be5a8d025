/**
 * Machine floors, measured in the same run as the systems: what Postgres, JetStream and a no-op
 * gRPC call manage here on their own, with nothing of any task system around them.
 *
 * The issue's reference figures (Postgres ~11k single-row commits/s and ~150k rows/s in batches of
 * 1,000, JetStream ~40k messages/s consumed) were measured on another day, and these machines have
 * differed by 1.4-3x from one session to the next. Floors from the same run say how close each
 * system came to what the machine allows, and make runs on machines of different speed comparable.
 * The idle round trips are the yardstick for the steady workload's latencies: at 200 tasks/s every
 * process sleeps between tasks, and a hop that wakes a sleeping process costs far more on these
 * virtual machines than one between busy processes.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import pg from "pg";
import { dbUrl, idleDurations, median, NATS_URL, now, type PgAdmin } from "./common.js";
import { noopCallRate, noopClient, startNoopServer } from "./grpc-floor.js";

export interface Floor {
  name: string;
  unit: string;
  how: string;
  values: number[];
}

const CLIENTS = 32;
const BATCH = 1000;
const PUBLISH_WINDOW = 256;
/** Idle round trips per repetition, and the pause before each (long enough for both ends to sleep). */
const IDLE_TRIPS = 200;
const IDLE_PAUSE_MS = 5;

/** Every floor, `reps` times each; `n` operations per repetition (at least a few batches' worth). */
export async function measureFloors(admin: PgAdmin, runId: string, n: number, reps: number, log: (m: string) => void): Promise<Floor[]> {
  const floors: Floor[] = [
    { name: "postgres single-row commits", unit: "commits/s", how: `INSERT of one row per transaction, ${CLIENTS} connections`, values: [] },
    { name: "postgres rows in batches", unit: "rows/s", how: `INSERT of ${BATCH} rows per statement (sent as one JSON parameter), one connection, one batch at a time`, values: [] },
    { name: "jetstream publish", unit: "msgs/s", how: `100-byte messages to a file-backed stream, ${PUBLISH_WINDOW} acks awaited at a time`, values: [] },
    { name: "jetstream consume", unit: "msgs/s", how: "pull consumer (consume), each message acked", values: [] },
    { name: "grpc no-op unary", unit: "calls/s", how: `${CLIENTS} concurrent calls on one grpc-js channel, server in another process`, values: [] },
    { name: "grpc no-op idle round trip p50", unit: "ms", how: `one call every ${IDLE_PAUSE_MS} ms, ${IDLE_TRIPS} calls, same channel and server`, values: [] },
    { name: "postgres idle commit p50", unit: "ms", how: `INSERT of one row per transaction every ${IDLE_PAUSE_MS} ms, one connection, ${IDLE_TRIPS} commits`, values: [] },
  ];
  const rows = Math.max(n, 20 * BATCH);
  const db = `bench_${runId}_floors`;
  const nc = await connect({ servers: NATS_URL, name: "taskorch-bench-floors" }).catch((err: unknown) => {
    throw new Error(`NATS at ${NATS_URL} (BENCH_NATS_URL): ${err instanceof Error ? err.message : String(err)}; --no-floors skips the floors`);
  });
  await admin.createDatabase(db);
  const grpcServer = await startNoopServer();
  const grpcClient = noopClient(grpcServer.port);
  try {
    for (let r = 0; r < reps; r++) {
      floors[0]!.values.push(await singleRowCommits(db, r, n));
      floors[1]!.values.push(await batchedRows(db, r, rows));
      const js = await jetStreamRates(nc, `bench_${runId}_floors_${r}`, n);
      floors[2]!.values.push(js.publish);
      floors[3]!.values.push(js.consume);
      floors[4]!.values.push(await noopCallRate(grpcClient, n, CLIENTS));
      floors[5]!.values.push(median(await idleDurations(() => grpcClient.call(), IDLE_TRIPS, IDLE_PAUSE_MS)));
      floors[6]!.values.push(await idleCommitP50(db, r));
      log(`floors rep ${r + 1}/${reps}: ${floors.map((f) => `${f.name}=${f.unit === "ms" ? f.values[r]!.toFixed(2) : Math.round(f.values[r]!)}`).join(" ")}`);
    }
  } finally {
    grpcClient.close();
    grpcServer.child.kill();
    await nc.close();
    await admin.dropDatabase(db);
  }
  return floors;
}

export function floorRows(floors: Floor[], fmt: (x: number) => string): string[][] {
  return [
    ["floor", "median", "min", "max", "unit", "how"],
    ...floors.map((f) => [f.name, fmt(median(f.values)), fmt(Math.min(...f.values)), fmt(Math.max(...f.values)), f.unit, f.how]),
  ];
}

async function singleRowCommits(db: string, rep: number, n: number): Promise<number> {
  const clients = Array.from({ length: CLIENTS }, () => new pg.Client({ connectionString: dbUrl(db) }));
  await Promise.all(clients.map((c) => c.connect()));
  try {
    const table = `commits_${rep}`;
    await clients[0]!.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    const insert = { name: "insert", text: `INSERT INTO ${table} (id, payload) VALUES ($1, '{"i":1}')` };
    let next = 0;
    const loop = async (c: pg.Client, count: number) => {
      for (let k = 0; k < count; k++) await c.query({ ...insert, values: [-(++next)] }); // warm-up ids below zero
    };
    await Promise.all(clients.map((c) => loop(c, 10)));
    next = 0;
    const t0 = now();
    await Promise.all(
      clients.map(async (c) => {
        for (;;) {
          const id = next++;
          if (id >= n) return;
          await c.query({ ...insert, values: [id] });
        }
      }),
    );
    return n / ((now() - t0) / 1000);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

async function idleCommitP50(db: string, rep: number): Promise<number> {
  const c = new pg.Client({ connectionString: dbUrl(db) });
  await c.connect();
  try {
    const table = `idle_commits_${rep}`;
    await c.query(`CREATE TABLE ${table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    const insert = { name: "insert", text: `INSERT INTO ${table} (payload) VALUES ('{"i":1}')` };
    await c.query(insert); // warm-up: the prepared statement
    return median(await idleDurations(() => c.query(insert), IDLE_TRIPS, IDLE_PAUSE_MS));
  } finally {
    await c.end();
  }
}

async function batchedRows(db: string, rep: number, rows: number): Promise<number> {
  const c = new pg.Client({ connectionString: dbUrl(db) });
  await c.connect();
  try {
    const table = `rows_${rep}`;
    await c.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    // The rows travel from the client as one JSON document, as the task systems send theirs.
    const insert = { name: "insert", text: `INSERT INTO ${table} (id, payload) SELECT id, payload FROM json_to_recordset($1::json) AS r(id bigint, payload jsonb)` };
    const batch = (from: number, to: number) => JSON.stringify(Array.from({ length: to - from }, (_, k) => ({ id: from + k, payload: { i: from + k } })));
    await c.query({ ...insert, values: [batch(-BATCH, 0)] }); // warm-up
    const t0 = now();
    for (let from = 0; from < rows; from += BATCH) await c.query({ ...insert, values: [batch(from, Math.min(from + BATCH, rows))] });
    return rows / ((now() - t0) / 1000);
  } finally {
    await c.end();
  }
}

async function jetStreamRates(nc: NatsConnection, stream: string, n: number): Promise<{ publish: number; consume: number }> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: StorageType.File });
  try {
    const js = jetstream(nc);
    const body = new Uint8Array(100);
    const t0 = now();
    for (let from = 0; from < n; from += PUBLISH_WINDOW) {
      const acks: Promise<unknown>[] = [];
      for (let i = from; i < Math.min(from + PUBLISH_WINDOW, n); i++) acks.push(js.publish(`${stream}.x`, body));
      await Promise.all(acks);
    }
    const publish = n / ((now() - t0) / 1000);
    await jsm.consumers.add(stream, { durable_name: "floor", ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get(stream, "floor");
    const t1 = now();
    const messages = await consumer.consume({ max_messages: BATCH });
    let seen = 0;
    for await (const m of messages) {
      m.ack();
      if (++seen === n) break;
    }
    await nc.flush(); // the acks have reached the server
    const consume = n / ((now() - t1) / 1000);
    await messages.close();
    return { publish, consume };
  } finally {
    await jsm.streams.delete(stream);
  }
}
