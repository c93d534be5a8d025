/** The contract every system driver implements; the workloads (workloads.ts) only use this. */

export type WorkloadName = "bulk" | "single" | "drain" | "steady" | "recovery";
export const WORKLOADS: WorkloadName[] = ["bulk", "single", "drain", "steady", "recovery"];
/** Workloads only some systems implement (Instance.recovery); the others are not run for them. */
export const ONLY_TASKORCH: WorkloadName[] = ["recovery"];

/** One configuration of a system; `label` is printed, the rest is recorded in the JSON. */
export interface Setting {
  label: string;
  [key: string]: unknown;
}

export interface RunContext {
  runId: string;
  /** Unique name for this instance (database name / prefix), letters, digits and _. */
  name: string;
  /** Counts queries the bench itself sends to the system's database (subtracted from commit counts). */
  benchQueries: { n: number };
  log: (msg: string) => void;
}

export interface Instance {
  /** Postgres database this instance lives in (undefined for Redis-backed systems). */
  database?: string;
  enqueueBatch(from: number, count: number): Promise<void>;
  enqueueOne(i: number): Promise<void>;
  /** Starts the drain workers (in their own process(es)); resolves with the epoch ms at which they were ready. */
  startDrainWorkers(): Promise<number>;
  /** Whether any task enqueued so far is not yet recorded done in the system's store (polled every 10-20 ms: cheap). */
  anyLeft(): Promise<boolean>;
  /** Starts an in-process worker calling onStart(i) at handler start of task i (same process clock). */
  startLatencyWorker(onStart: (i: number) => void): Promise<void>;
  /** Stops everything and closes every connection to the store. */
  close(): Promise<void>;
  /** False when handler starts are not seen in this process (pickup then comes from pickupOverride). */
  inProcessPickup?: boolean;
  /** When set, pickup (ms) per task sequence number comes from here instead of the onStart clock. */
  pickupOverride?(): Promise<Map<number, number> | undefined>;
  /** Workload "recovery" (taskorch only): crash a worker and the leader, measure until work resumes. */
  recovery?(): Promise<{ metrics: Record<string, number>; tasks: number }>;
  /** Notes recorded with the result (e.g. how pickup was measured). */
  notes?: string[];
}

export interface SystemDriver {
  name: string;
  postgres: boolean;
  /** Versions of the packages / servers involved. */
  versions(): Promise<Record<string, string>>;
  /** Settings to sweep for a workload (the best median is reported). */
  settings(workload: WorkloadName): Setting[];
  /** Brings up a fresh instance (fresh database or key prefix). */
  create(ctx: RunContext, setting: Setting, workload: WorkloadName): Promise<Instance>;
  /** Checks the system can run here (e.g. taskorch is built); returns a reason when not. */
  unavailable?(): Promise<string | undefined>;
}
