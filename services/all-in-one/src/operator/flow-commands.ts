/**
 * The flow-control operator commands: `taskorch schedules|limits|group|enqueue-batch`, each a thin
 * layer over @taskorch/client like commands.ts. Commands with subcommands (`schedules create`,
 * `limits set-rate`) take the subcommand as their first argument and reject flags that do not
 * apply to it, naming them. Cron expressions, time zones and rates are checked by the server, whose
 * INVALID_ARGUMENT message (naming the field) is printed as is (exit 1).
 */
import { readFile } from "node:fs/promises";
import type { CatchupPolicy, EnqueueItem, Group, OverlapPolicy, Schedule, ScheduleDefinition, Task } from "@taskorch/client";
import { formatDuration, parseDuration } from "@taskorch/domain";
import { durationFlag, GLOBAL_OPTIONS, intFlag, stringFlag, UsageError, type FlagValues, type Parsed } from "./args.js";
import { DEFAULT_WAIT_MS, readAll, readPayload, reportWait, taskDetail, type CommandContext, type CommandSpec } from "./commands.js";
import { json, keyValues, relative, table, time, truncate } from "./format.js";

/** One subcommand: its positional arguments and the command flags it accepts. */
interface Subcommand {
  args: string[];
  flags: string[];
  run(ctx: CommandContext, values: FlagValues, args: string[]): Promise<number>;
}

/** Picks the subcommand, checks its positionals and flags (usage errors name them), and runs it. */
async function runSubcommand(command: string, subs: Record<string, Subcommand>, ctx: CommandContext, p: Parsed): Promise<number> {
  const names = Object.keys(subs);
  const [sub, ...rest] = p.positionals;
  if (sub === undefined) throw new UsageError(`missing <command>: one of ${names.join(", ")} (see taskorch ${command} --help)`);
  if (!Object.hasOwn(subs, sub)) throw new UsageError(`unknown command ${JSON.stringify(sub)}: use one of ${names.join(", ")}`);
  const spec = subs[sub]!;
  const synopsis = `taskorch ${command} ${sub}${spec.args.map((n) => ` <${n}>`).join("")}`;
  if (rest.length < spec.args.length) throw new UsageError(`missing ${spec.args.slice(rest.length).map((n) => `<${n}>`).join(" ")} (${synopsis})`);
  if (rest.length > spec.args.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[spec.args.length])} (${synopsis})`);
  for (const [flag, value] of Object.entries(p.values)) {
    if (value === undefined || Object.hasOwn(GLOBAL_OPTIONS, flag) || spec.flags.includes(flag)) continue;
    throw new UsageError(`--${flag} does not apply to ${command} ${sub}`);
  }
  return spec.run(ctx, p.values, rest);
}

// ---------------------------------------------------------------------------------------------
// schedules

function whenOf(s: Pick<Schedule, "cron" | "intervalMs">): string {
  return s.cron !== undefined ? s.cron : `every ${formatDuration(s.intervalMs ?? 0)}`;
}

function scheduleDetail(s: Schedule): string {
  const now = Date.now();
  const at = (d: Date | undefined) => (d ? `${time(d)} (${relative(d, now)})` : undefined);
  return keyValues([
    ["id", s.id],
    ["cron", s.cron],
    ["every", s.intervalMs === undefined ? undefined : formatDuration(s.intervalMs)],
    ["time zone", s.cron !== undefined ? s.timeZone : undefined],
    ["state", s.paused ? "paused" : "active"],
    ["task type", s.task.type],
    ["queue", s.task.queue],
    ["payload", json(s.task.payload)],
    ["priority", String(s.task.priority)],
    ["max attempts", String(s.task.maxAttempts)],
    ["task timeout", s.task.timeoutMs === undefined ? undefined : formatDuration(s.task.timeoutMs)],
    ["overlap", s.overlapPolicy],
    ["catch-up", s.catchupPolicy],
    ["next fire", s.paused ? "- (paused)" : at(s.nextFireAt)],
    ["last fire", at(s.lastFireAt)],
    ["last task", s.lastTaskId],
  ]);
}

function scheduleRows(list: Schedule[]): string {
  const now = Date.now();
  return table(
    ["ID", "WHEN", "TZ", "TASK", "QUEUE", "STATE", "NEXT FIRE", "LAST FIRE", "LAST TASK"],
    list.map((s) => [
      s.id,
      whenOf(s),
      s.cron !== undefined ? s.timeZone : "-",
      s.task.type,
      s.task.queue,
      s.paused ? "paused" : "active",
      s.paused ? "-" : s.nextFireAt ? `${time(s.nextFireAt)} (${relative(s.nextFireAt, now)})` : "-",
      time(s.lastFireAt),
      s.lastTaskId ?? "-",
    ]),
  );
}

function overlapFlag(v: FlagValues): OverlapPolicy | undefined {
  const raw = stringFlag(v, "overlap");
  if (raw === undefined) return undefined;
  const s = raw.trim().toLowerCase();
  if (s !== "allow" && s !== "skip") throw new UsageError(`--overlap must be allow or skip, got ${JSON.stringify(raw)}`);
  return s;
}

function catchupFlag(v: FlagValues): CatchupPolicy | undefined {
  const raw = stringFlag(v, "catchup");
  if (raw === undefined) return undefined;
  const s = raw.trim().toLowerCase().replace("-", "_");
  if (s !== "skip" && s !== "run_once") throw new UsageError(`--catchup must be skip or run-once, got ${JSON.stringify(raw)}`);
  return s;
}

/** --every: a duration of at least 1s. */
function everyFlag(v: FlagValues): number | undefined {
  const ms = durationFlag(v, "every");
  if (ms !== undefined && ms < 1000) throw new UsageError(`--every must be at least 1s, got ${JSON.stringify(stringFlag(v, "every"))}`);
  return ms;
}

const DEFINITION_FLAGS = ["cron", "tz", "every", "type", "payload", "payload-file", "queue", "priority", "max-attempts", "task-timeout", "overlap", "catchup"];

/** The definition flags, parsed and checked once (the payload may come from stdin). */
interface DefinitionFlags {
  cron?: string;
  tz?: string;
  every?: number;
  type?: string;
  payload?: unknown;
  queue?: string;
  priority?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  overlapPolicy?: OverlapPolicy;
  catchupPolicy?: CatchupPolicy;
}

async function definitionFlags(ctx: CommandContext, v: FlagValues): Promise<DefinitionFlags> {
  const f: DefinitionFlags = {
    cron: stringFlag(v, "cron"),
    tz: stringFlag(v, "tz"),
    every: everyFlag(v),
    type: stringFlag(v, "type"),
    queue: stringFlag(v, "queue"),
    priority: intFlag(v, "priority", -100, 100),
    maxAttempts: intFlag(v, "max-attempts", 1, 100),
    timeoutMs: durationFlag(v, "task-timeout"),
    overlapPolicy: overlapFlag(v),
    catchupPolicy: catchupFlag(v),
  };
  if (f.cron !== undefined && f.every !== undefined) throw new UsageError("--cron and --every cannot be used together");
  if (f.tz !== undefined && f.every !== undefined) throw new UsageError("--tz only goes with --cron");
  if (f.type !== undefined && f.type.trim() === "") throw new UsageError("--type needs a task type");
  f.payload = await readPayload(ctx, v);
  return f;
}

/** The definition `create` sends. */
function createDefinition(id: string, f: DefinitionFlags, paused: boolean): ScheduleDefinition {
  if (f.cron === undefined && f.every === undefined) throw new UsageError("give --cron EXPR (e.g. \"0 2 * * *\") or --every DURATION (e.g. 1h)");
  if (f.tz !== undefined && f.cron === undefined) throw new UsageError("--tz only goes with --cron");
  if (f.type === undefined) throw new UsageError("missing --type T (the task type each tick enqueues)");
  return {
    id,
    ...(f.cron !== undefined ? { cron: f.cron, timeZone: f.tz } : { intervalMs: f.every }),
    task: { type: f.type, payload: f.payload, queue: f.queue, priority: f.priority, maxAttempts: f.maxAttempts, timeoutMs: f.timeoutMs },
    overlapPolicy: f.overlapPolicy,
    catchupPolicy: f.catchupPolicy,
    paused,
  };
}

/** `base` with the fields the flags give changed (UpdateSchedule replaces the whole definition). */
function updatedDefinition(base: ScheduleDefinition, f: DefinitionFlags): ScheduleDefinition {
  const next: ScheduleDefinition = { ...base, task: { ...base.task } };
  if (f.cron !== undefined) {
    next.cron = f.cron;
    delete next.intervalMs;
  }
  if (f.every !== undefined) {
    next.intervalMs = f.every;
    delete next.cron;
    delete next.timeZone;
  }
  if (f.tz !== undefined) {
    if (next.cron === undefined) throw new UsageError(`--tz only goes with a cron schedule; ${base.id} runs every ${formatDuration(base.intervalMs ?? 0)} (give --cron too)`);
    next.timeZone = f.tz;
  }
  if (f.type !== undefined) next.task.type = f.type;
  if (f.payload !== undefined) next.task.payload = f.payload;
  if (f.queue !== undefined) next.task.queue = f.queue;
  if (f.priority !== undefined) next.task.priority = f.priority;
  if (f.maxAttempts !== undefined) next.task.maxAttempts = f.maxAttempts;
  if (f.timeoutMs !== undefined) next.task.timeoutMs = f.timeoutMs;
  if (f.overlapPolicy !== undefined) next.overlapPolicy = f.overlapPolicy;
  if (f.catchupPolicy !== undefined) next.catchupPolicy = f.catchupPolicy;
  return next;
}

/** A stored schedule as the definition UpdateSchedule takes (output-only fields dropped). */
function definitionOf(s: Schedule): ScheduleDefinition {
  return {
    id: s.id,
    ...(s.cron !== undefined ? { cron: s.cron, timeZone: s.timeZone } : { intervalMs: s.intervalMs }),
    task: { ...s.task },
    overlapPolicy: s.overlapPolicy,
    catchupPolicy: s.catchupPolicy,
    paused: s.paused,
  };
}

function printSchedule(ctx: CommandContext, s: Schedule): number {
  ctx.out(ctx.json ? json(s) + "\n" : scheduleDetail(s));
  return 0;
}

const SCHEDULE_SUBCOMMANDS: Record<string, Subcommand> = {
  list: {
    args: [],
    flags: [],
    async run(ctx) {
      const list = await ctx.client().listSchedules({ deadlineMs: ctx.deadlineMs });
      if (ctx.json) ctx.out(json({ schedules: list }) + "\n");
      else ctx.out(list.length === 0 ? "no schedules\n" : scheduleRows(list));
      return 0;
    },
  },
  get: {
    args: ["id"],
    flags: [],
    async run(ctx, _v, [id]) {
      return printSchedule(ctx, await ctx.client().getSchedule(id!, { deadlineMs: ctx.deadlineMs }));
    },
  },
  create: {
    args: ["id"],
    flags: [...DEFINITION_FLAGS, "paused"],
    async run(ctx, v, [id]) {
      const def = createDefinition(id!, await definitionFlags(ctx, v), Boolean(v.paused));
      return printSchedule(ctx, await ctx.client().createSchedule(def, { deadlineMs: ctx.deadlineMs }));
    },
  },
  update: {
    args: ["id"],
    flags: DEFINITION_FLAGS,
    async run(ctx, v, [id]) {
      if (!DEFINITION_FLAGS.some((f) => v[f] !== undefined)) throw new UsageError(`nothing to change: give at least one of ${DEFINITION_FLAGS.map((f) => `--${f}`).join(", ")}`);
      const flags = await definitionFlags(ctx, v);
      const current = await ctx.client().getSchedule(id!, { deadlineMs: ctx.deadlineMs });
      const def = updatedDefinition(definitionOf(current), flags);
      return printSchedule(ctx, await ctx.client().updateSchedule(def, { deadlineMs: ctx.deadlineMs }));
    },
  },
  delete: {
    args: ["id"],
    flags: [],
    async run(ctx, _v, [id]) {
      await ctx.client().deleteSchedule(id!, { deadlineMs: ctx.deadlineMs });
      ctx.out(ctx.json ? json({ deleted: id }) + "\n" : `deleted schedule ${id} (tasks it already enqueued are unaffected)\n`);
      return 0;
    },
  },
  pause: {
    args: ["id"],
    flags: [],
    async run(ctx, _v, [id]) {
      return printSchedule(ctx, await ctx.client().pauseSchedule(id!, { deadlineMs: ctx.deadlineMs }));
    },
  },
  resume: {
    args: ["id"],
    flags: [],
    async run(ctx, _v, [id]) {
      return printSchedule(ctx, await ctx.client().resumeSchedule(id!, { deadlineMs: ctx.deadlineMs }));
    },
  },
  trigger: {
    args: ["id"],
    flags: ["wait", "wait-timeout"],
    async run(ctx, v, [id]) {
      const waitMs = durationFlag(v, "wait-timeout");
      if (waitMs !== undefined && !v.wait) throw new UsageError("--wait-timeout needs --wait");
      const task = await ctx.client().triggerSchedule(id!, { deadlineMs: ctx.deadlineMs });
      if (!v.wait) {
        ctx.out(ctx.json ? json(task) + "\n" : taskDetail(task));
        return 0;
      }
      if (!ctx.json) ctx.err(`triggered ${id}: enqueued ${task.id} (${task.type}), waiting for it...\n`);
      const wait = waitMs ?? DEFAULT_WAIT_MS;
      return reportWait(ctx, await ctx.client().wait(task.id, { timeoutMs: wait }), wait);
    },
  },
};

const schedules: CommandSpec = {
  summary: "cron and interval schedules (list, get, create, update, delete, pause, resume, trigger)",
  usage: `Usage: taskorch schedules list
       taskorch schedules get <id>
       taskorch schedules create <id> (--cron EXPR [--tz ZONE] | --every DURATION) --type T [task flags] [policy flags] [--paused]
       taskorch schedules update <id> [--cron EXPR] [--tz ZONE] [--every DURATION] [task flags] [policy flags]
       taskorch schedules delete <id>
       taskorch schedules pause <id>
       taskorch schedules resume <id>
       taskorch schedules trigger <id> [--wait [--wait-timeout 30s]]

Schedules enqueue a task on every tick, cluster-wide (Celery beat); the coordinator leader fires
each tick exactly once. update changes only the fields you give (the next tick is recomputed);
resume continues from the next tick after now; trigger enqueues the task once, now, outside the
ticks (with --wait it waits for it; exit 0 only when it succeeded).

Timing:
  --cron EXPR               5 fields (minute hour day month weekday), or 6 with seconds first
  --tz ZONE                 IANA time zone of --cron, e.g. Europe/Paris (default UTC; DST handled)
  --every DURATION          fixed interval instead of cron, e.g. 30s, 1h (at least 1s)
Task (what each tick enqueues):
  --type T                  task type (required for create)
  --payload JSON            the payload (default null); --payload-file PATH|- reads it from a file or stdin
  --queue Q                 queue (default "default")
  --priority N              -100 to 100 (default 0)
  --max-attempts N          1 to 100 (default 3)
  --task-timeout DURATION   per-attempt execution limit, e.g. 30s
Policies:
  --overlap allow|skip      a tick while the previous tick's task is unfinished: enqueue anyway
                            (allow, default) or skip the tick
  --catchup skip|run-once   ticks missed for longer than the 60s misfire grace (cluster down):
                            drop them (skip, default) or fire once for them all
  --paused                  create the schedule paused (create only)`,
  options: {
    cron: { type: "string" },
    tz: { type: "string" },
    every: { type: "string" },
    type: { type: "string" },
    payload: { type: "string" },
    "payload-file": { type: "string" },
    queue: { type: "string" },
    priority: { type: "string" },
    "max-attempts": { type: "string" },
    "task-timeout": { type: "string" },
    overlap: { type: "string" },
    catchup: { type: "string" },
    paused: { type: "boolean" },
    wait: { type: "boolean" },
    "wait-timeout": { type: "string" },
  },
  run: (ctx, p) => runSubcommand("schedules", SCHEDULE_SUBCOMMANDS, ctx, p),
};

// ---------------------------------------------------------------------------------------------
// limits

const MAX_QUEUE_CONCURRENCY = 1_000_000;

const LIMIT_SUBCOMMANDS: Record<string, Subcommand> = {
  list: {
    args: [],
    flags: [],
    async run(ctx) {
      const l = await ctx.client().listLimits({ deadlineMs: ctx.deadlineMs });
      if (ctx.json) {
        ctx.out(json(l) + "\n");
        return 0;
      }
      if (l.rateLimits.length === 0 && l.queueLimits.length === 0) {
        ctx.out("no limits\n");
        return 0;
      }
      ctx.out(
        table(
          ["KIND", "TARGET", "LIMIT"],
          [
            ...l.rateLimits.map((r) => ["rate", r.type, `${r.rate} (task starts, cluster-wide)`]),
            ...l.queueLimits.map((q) => ["queue", q.queue, q.maxConcurrency === 0 ? "0 (paused)" : `${q.maxConcurrency} at once`]),
          ],
        ),
      );
      return 0;
    },
  },
  "set-rate": {
    args: ["type", "rate"],
    flags: [],
    async run(ctx, _v, [type, rate]) {
      const l = await ctx.client().setRateLimit(type!, rate!, { deadlineMs: ctx.deadlineMs });
      ctx.out(ctx.json ? json(l) + "\n" : `rate limit of ${l.type}: ${l.rate} (tasks over it wait; they do not fail)\n`);
      return 0;
    },
  },
  "clear-rate": {
    args: ["type"],
    flags: [],
    async run(ctx, _v, [type]) {
      await ctx.client().deleteRateLimit(type!, { deadlineMs: ctx.deadlineMs });
      ctx.out(ctx.json ? json({ cleared: { type } }) + "\n" : `cleared the rate limit of ${type}\n`);
      return 0;
    },
  },
  "set-queue": {
    args: ["queue", "max"],
    flags: [],
    async run(ctx, _v, [queue, raw]) {
      const max = /^\d+$/.test(raw!.trim()) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(max) || max > MAX_QUEUE_CONCURRENCY) throw new UsageError(`<max> must be a whole number from 0 (paused) to ${MAX_QUEUE_CONCURRENCY}, got ${JSON.stringify(raw)}`);
      const l = await ctx.client().setQueueLimit(queue!, max, { deadlineMs: ctx.deadlineMs });
      ctx.out(ctx.json ? json(l) + "\n" : `queue limit of ${l.queue}: ${l.maxConcurrency === 0 ? "0 (paused)" : `${l.maxConcurrency} at once`}\n`);
      return 0;
    },
  },
  "clear-queue": {
    args: ["queue"],
    flags: [],
    async run(ctx, _v, [queue]) {
      await ctx.client().deleteQueueLimit(queue!, { deadlineMs: ctx.deadlineMs });
      ctx.out(ctx.json ? json({ cleared: { queue } }) + "\n" : `cleared the concurrency limit of queue ${queue}\n`);
      return 0;
    },
  },
};

const limits: CommandSpec = {
  summary: "cluster-wide rate limits per type and concurrency limits per queue",
  usage: `Usage: taskorch limits list
       taskorch limits set-rate <type> <rate>
       taskorch limits clear-rate <type>
       taskorch limits set-queue <queue> <max>
       taskorch limits clear-queue <queue>

Rate limits cap how many tasks of a type start per period across the whole cluster, in Celery's
notation: 10/s, 10/m, 100/h, or N/<duration> such as 5/30s. Tasks over the limit wait; they do not
fail. Queue limits cap how many tasks of a queue are dispatched or running at once; 0 pauses the
queue. Both apply at once and survive restarts. Clearing a limit that does not exist is NOT_FOUND.`,
  options: {},
  run: (ctx, p) => runSubcommand("limits", LIMIT_SUBCOMMANDS, ctx, p),
};

// ---------------------------------------------------------------------------------------------
// group, enqueue-batch

function groupDetail(g: Group): string {
  return keyValues([
    ["group", g.id],
    ["total", String(g.total)],
    ["succeeded", String(g.succeeded)],
    ["dead_letter", String(g.deadLetter)],
    ["canceled", String(g.canceled)],
    ["running", String(g.running)],
    ["waiting", String(g.waiting)],
    ["done", g.done ? "yes" : "no"],
  ]);
}

function resultRows(tasks: Task[]): string {
  return table(
    ["ID", "TYPE", "STATUS", "ATTEMPTS", "RESULT / LAST ERROR"],
    tasks.map((t) => [t.id, t.type, t.status, `${t.attempts}/${t.maxAttempts}`, truncate(t.status === "succeeded" ? json(t.result ?? null) : (t.lastError ?? ""), 80)]),
  );
}

/**
 * Shows a group, optionally after waiting for it and with every task's result. Exit code: 0, or with
 * --wait 0 only when every task succeeded (1 when some failed or the wait timed out).
 */
async function showGroup(ctx: CommandContext, id: string, opts: { wait: boolean; waitMs: number; results: boolean }, extra: Record<string, unknown> = {}): Promise<number> {
  const client = ctx.client();
  let group: Group;
  let timedOut: boolean | undefined;
  if (opts.wait) {
    const waited = await client.waitGroup(id, { timeoutMs: opts.waitMs });
    const { timedOut: t, ...g } = waited;
    group = g;
    timedOut = t;
  } else {
    group = (await client.getGroup(id, { deadlineMs: ctx.deadlineMs })).group;
  }
  const tasks: Task[] = [];
  if (opts.results) for await (const t of client.groupTasks(id, { deadlineMs: ctx.deadlineMs })) tasks.push(t);
  if (ctx.json) {
    ctx.out(json({ ...extra, group, ...(timedOut === undefined ? {} : { timedOut }), ...(opts.results ? { tasks } : {}) }) + "\n");
  } else {
    ctx.out(groupDetail(group));
    if (opts.results) ctx.out(`\n${tasks.length === 0 ? "no tasks\n" : resultRows(tasks)}`);
  }
  if (!opts.wait) return 0;
  if (timedOut) {
    ctx.err(`group ${id}: ${group.total - group.succeeded - group.deadLetter - group.canceled} of ${group.total} task(s) still unfinished after ${formatDuration(opts.waitMs)}\n`);
    return 1;
  }
  if (group.succeeded !== group.total) {
    ctx.err(`group ${id}: ${group.deadLetter} dead_letter, ${group.canceled} canceled of ${group.total} task(s)\n`);
    return 1;
  }
  return 0;
}

function waitOptions(v: FlagValues): { wait: boolean; waitMs: number; results: boolean } {
  const waitMs = durationFlag(v, "wait-timeout");
  if (waitMs !== undefined && !v.wait) throw new UsageError("--wait-timeout needs --wait");
  return { wait: Boolean(v.wait), waitMs: waitMs ?? DEFAULT_WAIT_MS, results: Boolean(v.results) };
}

const group: CommandSpec = {
  summary: "show an enqueue-batch group's progress (optionally wait for it and list results)",
  usage: `Usage: taskorch group <group-id> [--wait [--wait-timeout 30s]] [--results]

Shows how many tasks of a group (an EnqueueTasks batch, e.g. from taskorch enqueue-batch) are
waiting, running, succeeded, dead-lettered or canceled. With --wait, waits until every task is
finished first (Celery's group().get()); the exit code is then 0 only when every task succeeded.

Flags:
  --wait                    wait until every task of the group finished
  --wait-timeout DURATION   how long --wait waits (default 30s; longer than 1h is fine)
  --results                 also list every task with its result or last error, in enqueue order`,
  options: { wait: { type: "boolean" }, "wait-timeout": { type: "string" }, results: { type: "boolean" } },
  async run(ctx, p) {
    if (p.positionals.length === 0) throw new UsageError("missing <group-id>");
    if (p.positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[1])}`);
    return showGroup(ctx, p.positionals[0]!, waitOptions(p.values));
  },
};

const BATCH_FIELDS = ["type", "payload", "queue", "priority", "maxAttempts", "delay", "timeout", "runAt", "idempotencyKey"];

/** One JSONL line as an EnqueueItem; the error names the file, the line and the field. */
function batchItem(where: string, line: unknown, defaults: { queue?: string; priority?: number }): EnqueueItem {
  if (typeof line !== "object" || line === null || Array.isArray(line)) throw new UsageError(`${where}: must be a JSON object such as {"type":"example.noop","payload":{}}`);
  const o = line as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!BATCH_FIELDS.includes(k)) throw new UsageError(`${where}: unknown field ${JSON.stringify(k)} (fields: ${BATCH_FIELDS.join(", ")})`);
  const str = (k: string): string | undefined => {
    if (o[k] === undefined) return undefined;
    if (typeof o[k] !== "string") throw new UsageError(`${where}: ${k} must be a string`);
    return o[k];
  };
  const int = (k: string): number | undefined => {
    if (o[k] === undefined) return undefined;
    if (!Number.isInteger(o[k])) throw new UsageError(`${where}: ${k} must be a whole number`);
    return o[k] as number;
  };
  const dur = (k: string): number | undefined => {
    const s = str(k);
    if (s === undefined) return undefined;
    const ms = parseDuration(s);
    if (ms === undefined) throw new UsageError(`${where}: ${k} must be a duration such as "10s", got ${JSON.stringify(s)}`);
    return ms;
  };
  const type = str("type");
  if (!type) throw new UsageError(`${where}: type is required`);
  const runAtText = str("runAt");
  const runAt = runAtText === undefined ? undefined : new Date(runAtText);
  if (runAt !== undefined && Number.isNaN(runAt.getTime())) throw new UsageError(`${where}: runAt must be an RFC 3339 time, got ${JSON.stringify(runAtText)}`);
  const item: EnqueueItem = { type, payload: o.payload === undefined ? null : o.payload };
  const queue = str("queue") ?? defaults.queue;
  const priority = int("priority") ?? defaults.priority;
  const maxAttempts = int("maxAttempts");
  const delayMs = dur("delay");
  const timeoutMs = dur("timeout");
  const idempotencyKey = str("idempotencyKey");
  if (queue !== undefined) item.queue = queue;
  if (priority !== undefined) item.priority = priority;
  if (maxAttempts !== undefined) item.maxAttempts = maxAttempts;
  if (delayMs !== undefined) item.delayMs = delayMs;
  if (timeoutMs !== undefined) item.timeoutMs = timeoutMs;
  if (runAt !== undefined) item.runAt = runAt;
  if (idempotencyKey !== undefined) item.idempotencyKey = idempotencyKey;
  return item;
}

const enqueueBatch: CommandSpec = {
  summary: "submit tasks from a JSONL file as one group (atomic; prints the group id)",
  usage: `Usage: taskorch enqueue-batch --file PATH|- [--queue Q] [--priority N] [--wait [--wait-timeout 30s]] [--results]

Reads one task per line (JSON Lines; blank lines are skipped) and stores them all at once, or none,
as one group, and prints the group id. Each line is an object with "type" (required) and optionally
"payload", "queue", "priority", "maxAttempts", "delay" ("10s"), "timeout" ("30s", per attempt),
"runAt" (RFC 3339) and "idempotencyKey", e.g.
  {"type":"email.send","payload":{"to":"a@b.c"},"priority":5}
With --wait it then waits for the group like taskorch group --wait (exit 0 only when every task
succeeded).

Flags:
  --file PATH               the JSONL file; "-" reads stdin
  --queue Q                 queue of lines that give none (default "default")
  --priority N              priority of lines that give none, -100 to 100 (default 0)
  --wait                    wait until every task of the group finished
  --wait-timeout DURATION   how long --wait waits (default 30s)
  --results                 with --wait, list every task with its result or last error`,
  options: {
    file: { type: "string" },
    queue: { type: "string" },
    priority: { type: "string" },
    wait: { type: "boolean" },
    "wait-timeout": { type: "string" },
    results: { type: "boolean" },
  },
  async run(ctx, p) {
    if (p.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[0])} (the tasks come from --file)`);
    const v = p.values;
    const file = stringFlag(v, "file");
    if (file === undefined) throw new UsageError("missing --file PATH (JSON Lines, one task per line; - reads stdin)");
    const defaults = { queue: stringFlag(v, "queue"), priority: intFlag(v, "priority", -100, 100) };
    const waiting = waitOptions(v);
    if (waiting.results && !waiting.wait) throw new UsageError("--results needs --wait (or use taskorch group <group-id> --results)");
    let text: string;
    try {
      text = file === "-" ? await readAll(ctx.stdin) : await readFile(file, "utf8");
    } catch (err) {
      throw new UsageError(`--file ${file} cannot be read: ${(err as Error).message}`);
    }
    const name = file === "-" ? "stdin" : file;
    const items: EnqueueItem[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      if (raw.trim() === "") return;
      const where = `--file ${name} line ${i + 1}`;
      let line: unknown;
      try {
        line = JSON.parse(raw);
      } catch (err) {
        throw new UsageError(`${where}: not JSON: ${(err as Error).message}`);
      }
      items.push(batchItem(where, line, defaults));
    });
    if (items.length === 0) throw new UsageError(`--file ${name} has no tasks`);
    const { tasks, groupId } = await ctx.client().enqueueMany(items, { deadlineMs: ctx.deadlineMs });
    if (!waiting.wait) {
      if (ctx.json) ctx.out(json({ groupId, tasks }) + "\n");
      else {
        ctx.out(keyValues([["group", groupId], ["tasks", String(tasks.length)]]));
        ctx.err(`follow it: taskorch group ${groupId} --wait\n`);
      }
      return 0;
    }
    if (!ctx.json) ctx.err(`enqueued ${tasks.length} task(s) as group ${groupId}, waiting for them...\n`);
    return showGroup(ctx, groupId, waiting, { groupId });
  },
};

/** The flow-control commands by name. */
export const FLOW_COMMANDS = { "enqueue-batch": enqueueBatch, group, schedules, limits } as const satisfies Record<string, CommandSpec>;
