/** The workloads, written once against the Instance contract (recovery is the driver's own: taskorch only). */
import { epochMs, now, quantile, runConcurrent, sleep, waitUntilNoneLeft } from "./common.js";
import type { Instance, Setting, WorkloadName } from "./types.js";

export const BATCH = 1000;
export const SINGLE_CLIENTS = 32;
/**
 * Batch calls in flight at once in the bulk workload: one (a producer that waits for each batch) and
 * several (a producer that pipelines its batches, or several producers). Every system is run with
 * each and its best is reported: graphile-worker's addJobs gains ~20-30 % from 4 in flight here.
 */
export const BULK_IN_FLIGHT = [1, 4];

/**
 * Untimed batches before bulk's measured phase, for every system alike. taskorch's scheduler is a
 * fresh process in every repetition, while a peer's batch call runs in this process, warm from the
 * repetitions before it: after one warm-up batch taskorch measured ~35-40k tasks/s here, and ~50-60k
 * after ten (its figure at N = 200,000), with the peers unchanged. Ten batches reach the rate of a
 * scheduler that has been running a while, which is the one users have.
 */
export const BULK_WARMUP_BATCHES = 10;

/** The bulk sweep of one batch API: the same setting with each number of calls in flight. */
export function bulkSweep(base: Setting): Setting[] {
  return BULK_IN_FLIGHT.map((inFlight) => ({ ...base, label: inFlight === 1 ? base.label : `${base.label}, ${inFlight} calls in flight`, inFlight }));
}

export interface WorkloadParams {
  n: number;
  steadyN: number;
  steadyRate: number;
  drainTimeoutMs: number;
}

/** Metrics of one repetition; `tasks` is how many tasks the measured phase handled (for commits per task). */
export interface RepMetrics {
  metrics: Record<string, number>;
  tasks: number;
}

/** Hooks around the measured phase (commit counters are read there). */
export interface PhaseHooks {
  beforeMeasured(): Promise<void>;
  /** The measured work starts now and ends now (machine CPU is read at both). */
  workStarts(): void;
  workEnds(): void;
}

export async function runWorkload(w: WorkloadName, inst: Instance, setting: Setting, p: WorkloadParams, hooks: PhaseHooks): Promise<RepMetrics> {
  switch (w) {
    case "bulk": {
      const inFlight = typeof setting.inFlight === "number" ? setting.inFlight : 1;
      // warm-up (untimed, before the counters): connections, prepared statements, JIT
      await runConcurrent(BULK_WARMUP_BATCHES, inFlight, (b) => inst.enqueueBatch(p.n + b * BATCH, BATCH));
      await hooks.beforeMeasured();
      hooks.workStarts();
      const t0 = now();
      await runConcurrent(Math.ceil(p.n / BATCH), inFlight, (b) => inst.enqueueBatch(b * BATCH, Math.min(BATCH, p.n - b * BATCH)));
      const s = (now() - t0) / 1000;
      hooks.workEnds();
      return { metrics: { throughput: p.n / s }, tasks: p.n };
    }
    case "single": {
      await Promise.all(Array.from({ length: SINGLE_CLIENTS }, async (_, c) => {
        for (let k = 0; k < 10; k++) await inst.enqueueOne(p.n + c * 10 + k);
      }));
      await hooks.beforeMeasured();
      hooks.workStarts();
      const t0 = now();
      await runConcurrent(p.n, SINGLE_CLIENTS, (i) => inst.enqueueOne(i));
      const s = (now() - t0) / 1000;
      hooks.workEnds();
      return { metrics: { throughput: p.n / s }, tasks: p.n };
    }
    case "drain": {
      for (let from = 0; from < p.n; from += BATCH) await inst.enqueueBatch(from, Math.min(BATCH, p.n - from));
      await hooks.beforeMeasured();
      const readyAt = await inst.startDrainWorkers();
      // From here, not before: the worker processes' start-up is not the drain's work.
      hooks.workStarts();
      const doneAt = await waitUntilNoneLeft(() => inst.anyLeft(), 10, p.drainTimeoutMs);
      hooks.workEnds();
      const s = (doneAt - readyAt) / 1000;
      return { metrics: { throughput: p.n / s }, tasks: p.n };
    }
    case "recovery": {
      if (!inst.recovery) throw new Error("recovery is not implemented for this system");
      await hooks.beforeMeasured();
      return inst.recovery();
    }
    case "steady": {
      const total = p.steadyN;
      const warm = Math.min(50, Math.max(10, Math.floor(total / 20)));
      const enqStart = new Float64Array(warm + total).fill(Number.NaN);
      const enqDur = new Float64Array(warm + total).fill(Number.NaN);
      const started = new Float64Array(warm + total).fill(Number.NaN);
      let seen = 0;
      await inst.startLatencyWorker((i) => {
        if (i >= 0 && i < started.length && Number.isNaN(started[i])) {
          started[i] = now();
          seen++;
        }
      });
      const interval = 1000 / p.steadyRate;
      const failures: unknown[] = [];
      const fire = async (from: number, count: number) => {
        const pending: Promise<void>[] = [];
        const t0 = now();
        for (let k = 0; k < count; k++) {
          const due = t0 + k * interval;
          const wait = due - now();
          if (wait > 0) await sleep(wait); // absolute schedule: timer jitter does not accumulate
          const i = from + k;
          enqStart[i] = now();
          pending.push(
            inst.enqueueOne(i).then(
              () => {
                enqDur[i] = now() - enqStart[i];
              },
              (err: unknown) => {
                failures.push(err);
              },
            ),
          );
        }
        await Promise.all(pending);
        if (failures.length > 0) throw new Error(`${failures.length} enqueue calls failed; first: ${String(failures[0])}`);
      };
      // warm-up (not measured): connections, prepared statements, JIT
      const allSeen = async (target: number, timeoutMs: number) => {
        if (inst.inProcessPickup === false) await waitUntilNoneLeft(() => inst.anyLeft(), 20, timeoutMs);
        else await waitUntil(() => seen >= target, timeoutMs);
      };
      await fire(0, warm);
      await allSeen(warm, 30_000);
      await hooks.beforeMeasured();
      hooks.workStarts();
      await fire(warm, total);
      await allSeen(warm + total, 60_000).catch(() => undefined);
      hooks.workEnds();
      const override = await inst.pickupOverride?.();
      const pick: number[] = [];
      const enq: number[] = [];
      let missing = 0;
      for (let i = warm; i < warm + total; i++) {
        enq.push(enqDur[i]);
        const v = override ? override.get(i) : started[i] - enqStart[i];
        if (v === undefined || Number.isNaN(v)) missing++;
        else pick.push(v);
      }
      const m: Record<string, number> = {
        "enqueue p50 ms": quantile(enq, 0.5),
        "enqueue p95 ms": quantile(enq, 0.95),
        "enqueue p99 ms": quantile(enq, 0.99),
        "enqueue max ms": Math.max(...enq),
        "pickup p50 ms": quantile(pick, 0.5),
        "pickup p95 ms": quantile(pick, 0.95),
        "pickup p99 ms": quantile(pick, 0.99),
        "pickup max ms": Math.max(...pick),
      };
      if (missing > 0) m["pickup missing"] = missing;
      return { metrics: m, tasks: total };
    }
  }
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = epochMs() + timeoutMs;
  while (!cond()) {
    if (epochMs() > deadline) throw new Error("timed out");
    await sleep(5);
  }
}
