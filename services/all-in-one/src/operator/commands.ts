/**
 * The operator commands (`taskorch enqueue|get|wait|list|cancel|retry|workers|leader|stats`), each a
 * thin layer over @taskorch/client: parse flags, call, print a table (or JSON with --json).
 * Exit codes: 0 done, 1 the call failed (or the task did not succeed, for wait), 2 usage error.
 */
import { readFile } from "node:fs/promises";
import { FailedPreconditionError, type Task, type TaskorchClient } from "@taskorch/client";
import { formatDuration } from "@taskorch/domain";
import {
  durationFlag,
  intFlag,
  parseJsonArg,
  positionals,
  statusFlag,
  stringFlag,
  UsageError,
  type OptionsConfig,
  type Parsed,
} from "./args.js";
import { json, keyValues, relative, table, time, truncate } from "./format.js";

export interface CommandContext {
  /** Created on first use, so usage errors never open a channel. */
  client(): TaskorchClient;
  json: boolean;
  /** Deadline of one call (global --timeout), undefined for the client default. */
  deadlineMs: number | undefined;
  out(text: string): void;
  err(text: string): void;
  stdin: NodeJS.ReadableStream;
}

export interface CommandSpec {
  summary: string;
  usage: string;
  options: OptionsConfig;
  run(ctx: CommandContext, parsed: Parsed): Promise<number>;
}

export const DEFAULT_WAIT_MS = 30_000;
const DEFAULT_LIST_LIMIT = 20;
const STATS_PAGE_SIZE = 1000;
const DEFAULT_STATS_PAGES = 10;

/** The detail view of one task (get, wait, cancel, retry, enqueue). */
export function taskDetail(t: Task, extra: [string, string | undefined][] = []): string {
  return keyValues([
    ["id", t.id],
    ["type", t.type],
    ["queue", t.queue],
    ["status", t.status],
    ...extra,
    ["attempts", `${t.attempts}/${t.maxAttempts}`],
    ["priority", String(t.priority)],
    ["payload", json(t.payload)],
    ["result", t.result === undefined ? undefined : json(t.result)],
    ["last error", t.lastError],
    ["worker", t.workerId],
    ["timeout", t.timeoutMs === undefined ? undefined : formatDuration(t.timeoutMs)],
    ["idempotency key", t.idempotencyKey],
    ["run at", time(t.runAt)],
    ["created", time(t.createdAt)],
    ["started", t.startedAt ? time(t.startedAt) : undefined],
    ["finished", t.finishedAt ? time(t.finishedAt) : undefined],
    ["group", t.groupId],
    ["trace id", t.traceId],
  ]);
}

export function taskRows(tasks: Task[]): string {
  return table(
    ["ID", "TYPE", "QUEUE", "STATUS", "ATTEMPTS", "PRI", "CREATED", "LAST ERROR"],
    tasks.map((t) => [t.id, t.type, t.queue, t.status, `${t.attempts}/${t.maxAttempts}`, String(t.priority), time(t.createdAt), truncate(t.lastError ?? "", 60)]),
  );
}

/** Prints a finished (or timed-out) wait and turns it into an exit code: 0 only for succeeded. */
export function reportWait(ctx: CommandContext, t: Task & { timedOut: boolean }, waitedMs: number, extra: Record<string, unknown> = {}): number {
  if (ctx.json) ctx.out(json({ ...extra, task: t, timedOut: t.timedOut }) + "\n");
  else ctx.out(taskDetail(t));
  if (t.timedOut) {
    ctx.err(`task ${t.id} is still ${t.status} after ${formatDuration(waitedMs)}\n`);
    return 1;
  }
  if (t.status !== "succeeded") {
    ctx.err(`task ${t.id} ended ${t.status}${t.lastError ? `: ${t.lastError}` : ""}\n`);
    return 1;
  }
  return 0;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** --payload JSON or --payload-file PATH|- (stdin); undefined when neither is given. */
export async function readPayload(ctx: CommandContext, v: Parsed["values"]): Promise<unknown> {
  const inline = stringFlag(v, "payload");
  const file = stringFlag(v, "payload-file");
  if (inline !== undefined && file !== undefined) throw new UsageError("--payload and --payload-file cannot be used together");
  if (inline !== undefined) return parseJsonArg("--payload", inline);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = file === "-" ? await readAll(ctx.stdin) : await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`--payload-file ${file} cannot be read: ${(err as Error).message}`);
  }
  return parseJsonArg(file === "-" ? "--payload-file - (stdin)" : `--payload-file ${file}`, text);
}

const enqueue: CommandSpec = {
  summary: "submit a task (optionally wait for its result)",
  usage: `Usage: taskorch enqueue <type> [flags]

Submits one task and prints it. With --wait, waits for it and prints the result; the exit code is
0 only when it succeeded.

Flags:
  --payload JSON            the payload, e.g. '{"to":"a@b.c"}' (default null)
  --payload-file PATH       read the payload from a file; "-" reads stdin
  --queue Q                 queue (default "default")
  --priority N              -100 to 100, higher runs first (default 0)
  --max-attempts N          1 to 100 (default 3)
  --delay DURATION          do not start before now + delay, e.g. 10s
  --timeout DURATION        per-attempt execution limit, e.g. 30s (not the call deadline)
  --idempotency-key K       enqueueing again with K returns the first task (and makes retries safe)
  --wait                    wait for the task to finish
  --wait-timeout DURATION   how long --wait waits (default 30s)`,
  options: {
    payload: { type: "string" },
    "payload-file": { type: "string" },
    queue: { type: "string" },
    priority: { type: "string" },
    "max-attempts": { type: "string" },
    delay: { type: "string" },
    "idempotency-key": { type: "string" },
    wait: { type: "boolean" },
    "wait-timeout": { type: "string" },
  },
  async run(ctx, p) {
    const [type] = positionals(p, ["type"]);
    const v = p.values;
    const priority = intFlag(v, "priority", -100, 100);
    const maxAttempts = intFlag(v, "max-attempts", 1, 100);
    const delayMs = durationFlag(v, "delay");
    const timeoutMs = durationFlag(v, "timeout");
    const waitMs = durationFlag(v, "wait-timeout");
    if (waitMs !== undefined && !v.wait) throw new UsageError("--wait-timeout needs --wait");
    const payload = (await readPayload(ctx, v)) ?? null;
    const task = await ctx.client().enqueue(type!, payload, {
      queue: stringFlag(v, "queue"),
      priority,
      maxAttempts,
      delayMs,
      timeoutMs,
      idempotencyKey: stringFlag(v, "idempotency-key"),
      deadlineMs: ctx.deadlineMs,
    });
    if (!v.wait) {
      if (ctx.json) ctx.out(json(task) + "\n");
      else ctx.out(taskDetail(task, [["deduplicated", task.deduplicated ? "yes (an earlier task has this idempotency key)" : undefined]]));
      return 0;
    }
    if (!ctx.json) ctx.err(`enqueued ${task.id} (${task.type}), waiting for it...\n`);
    const wait = waitMs ?? DEFAULT_WAIT_MS;
    const done = await ctx.client().wait(task.id, { timeoutMs: wait });
    return reportWait(ctx, done, wait, { deduplicated: task.deduplicated });
  },
};

const get: CommandSpec = {
  summary: "show one task",
  usage: `Usage: taskorch get <id>

Prints the task: status, attempts, payload, result or last error, timestamps.`,
  options: {},
  async run(ctx, p) {
    const [id] = positionals(p, ["id"]);
    const t = await ctx.client().get(id!, { deadlineMs: ctx.deadlineMs });
    ctx.out(ctx.json ? json(t) + "\n" : taskDetail(t));
    return 0;
  },
};

const wait: CommandSpec = {
  summary: "wait for a task to finish",
  usage: `Usage: taskorch wait <id> [--timeout 30s]

Waits until the task succeeded, dead-lettered or was canceled, and prints it. Exit code 0 when it
succeeded, 1 when it failed, was canceled or is still running after --timeout.

Flags:
  --timeout DURATION   how long to wait (default 30s; longer than 1h is fine)`,
  options: {},
  async run(ctx, p) {
    const [id] = positionals(p, ["id"]);
    const timeoutMs = durationFlag(p.values, "timeout") ?? DEFAULT_WAIT_MS;
    const done = await ctx.client().wait(id!, { timeoutMs });
    return reportWait(ctx, done, timeoutMs);
  },
};

const list: CommandSpec = {
  summary: "list tasks, newest first",
  usage: `Usage: taskorch list [flags]

Lists tasks, newest first. Without --all, shows one page and prints the token of the next one.

Flags:
  --status S          pending, queued, running, succeeded, dead_letter or canceled
  --type T            only tasks of this type
  --queue Q           only tasks in this queue
  --limit N           page size, 1 to 1000 (default ${DEFAULT_LIST_LIMIT})
  --page-token T      continue from a previous page
  --all               every matching task (pages of --limit, default 1000)`,
  options: {
    status: { type: "string" },
    type: { type: "string" },
    queue: { type: "string" },
    limit: { type: "string" },
    "page-token": { type: "string" },
    all: { type: "boolean" },
  },
  async run(ctx, p) {
    positionals(p, []);
    const v = p.values;
    const filter = {
      status: statusFlag(v, "status"),
      type: stringFlag(v, "type"),
      queue: stringFlag(v, "queue"),
      pageSize: intFlag(v, "limit", 1, 1000) ?? (v.all ? 1000 : DEFAULT_LIST_LIMIT),
      pageToken: stringFlag(v, "page-token"),
    };
    let tasks: Task[];
    let next: string | undefined;
    if (v.all) {
      tasks = [];
      for await (const t of ctx.client().listAll(filter, { deadlineMs: ctx.deadlineMs })) tasks.push(t);
    } else {
      const page = await ctx.client().list(filter, { deadlineMs: ctx.deadlineMs });
      tasks = page.tasks;
      next = page.nextPageToken;
    }
    if (ctx.json) {
      ctx.out(json(next === undefined ? { tasks } : { tasks, nextPageToken: next }) + "\n");
      return 0;
    }
    ctx.out(tasks.length === 0 ? "no tasks\n" : taskRows(tasks));
    if (next !== undefined) ctx.err(`more: taskorch list --page-token ${next} (or --all)\n`);
    return 0;
  },
};

const cancel: CommandSpec = {
  summary: "cancel a task that has not finished",
  usage: `Usage: taskorch cancel <id> [--reason R]

Cancels a pending, queued or running task (a running handler's AbortSignal fires). Fails with
FAILED_PRECONDITION when the task already finished.

Flags:
  --reason R   stored as the task's last error`,
  options: { reason: { type: "string" } },
  async run(ctx, p) {
    const [id] = positionals(p, ["id"]);
    const t = await ctx.client().cancel(id!, stringFlag(p.values, "reason"), { deadlineMs: ctx.deadlineMs });
    ctx.out(ctx.json ? json(t) + "\n" : taskDetail(t));
    return 0;
  },
};

const retry: CommandSpec = {
  summary: "re-queue a dead_letter or canceled task (or all dead letters of a type)",
  usage: `Usage: taskorch retry <id>
       taskorch retry --all-dead --type T [--queue Q]

Sends a dead_letter or canceled task back to its queue with a fresh budget of attempts (numbering
continues: a task that died at 3/3 runs as 4/6). With --all-dead,
pages through every dead_letter task of type T (and queue Q) and retries each, then prints how
many were retried (tasks that changed status meanwhile are skipped).

Flags:
  --all-dead   retry every dead_letter task of --type
  --type T     task type (required with --all-dead)
  --queue Q    only dead letters of this queue (with --all-dead)`,
  options: { "all-dead": { type: "boolean" }, type: { type: "string" }, queue: { type: "string" } },
  async run(ctx, p) {
    const v = p.values;
    if (!v["all-dead"]) {
      if (v.type !== undefined || v.queue !== undefined) throw new UsageError("--type and --queue only go with --all-dead");
      const [id] = positionals(p, ["id"]);
      const t = await ctx.client().retry(id!, { deadlineMs: ctx.deadlineMs });
      ctx.out(ctx.json ? json(t) + "\n" : taskDetail(t));
      return 0;
    }
    positionals(p, []);
    const type = stringFlag(v, "type");
    if (!type) throw new UsageError("--all-dead needs --type T (the task type whose dead letters to retry)");
    const queue = stringFlag(v, "queue");
    // Collect first: retried tasks leave dead_letter, and paging while they move is not needed.
    const ids: string[] = [];
    for await (const t of ctx.client().listAll({ status: "dead_letter", type, queue, pageSize: 1000, fields: ["id"] }, { deadlineMs: ctx.deadlineMs })) ids.push(t.id);
    const retried: string[] = [];
    const skipped: string[] = [];
    for (const id of ids) {
      try {
        await ctx.client().retry(id, { deadlineMs: ctx.deadlineMs });
        retried.push(id);
      } catch (err) {
        if (!(err instanceof FailedPreconditionError)) throw err;
        skipped.push(id);
      }
    }
    if (ctx.json) ctx.out(json({ retried: retried.length, skipped: skipped.length, ids: retried }) + "\n");
    else ctx.out(`retried ${retried.length} dead_letter task(s) of type ${type}${queue ? ` in queue ${queue}` : ""}${skipped.length ? ` (${skipped.length} skipped: no longer dead_letter)` : ""}\n`);
    return 0;
  },
};

const workers: CommandSpec = {
  summary: "list workers and their load",
  usage: `Usage: taskorch workers

Lists registered workers (from the coordinator): queues, running/capacity, liveness, last heartbeat.`,
  options: {},
  async run(ctx, p) {
    positionals(p, []);
    const list = await ctx.client().listWorkers({ deadlineMs: ctx.deadlineMs });
    if (ctx.json) {
      ctx.out(json({ workers: list }) + "\n");
      return 0;
    }
    if (list.length === 0) {
      ctx.out("no workers\n");
      return 0;
    }
    const now = Date.now();
    ctx.out(
      table(
        ["ID", "HOST", "QUEUES", "ACTIVE", "ALIVE", "LAST HEARTBEAT", "STARTED", "VERSION"],
        list.map((w) => [w.id, w.hostname, w.queues.join(","), `${w.active}/${w.capacity}`, w.alive ? "yes" : "NO", relative(w.lastHeartbeat, now), relative(w.startedAt, now), w.version]),
      ),
    );
    return 0;
  },
};

const leader: CommandSpec = {
  summary: "show the coordinator leader lease",
  usage: `Usage: taskorch leader

Shows which coordinator holds the leader lease, its epoch and when the lease runs out.`,
  options: {},
  async run(ctx, p) {
    positionals(p, []);
    const l = await ctx.client().getLeader({ deadlineMs: ctx.deadlineMs });
    if (ctx.json) {
      ctx.out(json(l) + "\n");
      return 0;
    }
    const now = Date.now();
    ctx.out(
      keyValues([
        ["leader", l.leaderId ?? "(none)"],
        ["held", l.held ? "yes" : "no"],
        ["epoch", String(l.epoch)],
        ["acquired", l.acquiredAt ? `${time(l.acquiredAt)} (${relative(l.acquiredAt, now)})` : undefined],
        ["expires", l.expiresAt ? `${time(l.expiresAt)} (${relative(l.expiresAt, now)})` : undefined],
      ]),
    );
    return 0;
  },
};

const STATS_STATUSES = ["pending", "queued", "running", "dead_letter"] as const;

const stats: CommandSpec = {
  summary: "count unfinished and dead-lettered tasks by type and queue",
  usage: `Usage: taskorch stats [--type T] [--queue Q] [--max-pages N]

Counts pending, queued, running and dead_letter tasks by type and queue. It pages ListTasks for each
status and samples at most --max-pages pages of ${STATS_PAGE_SIZE} tasks per status (default ${DEFAULT_STATS_PAGES},
so ${DEFAULT_STATS_PAGES * STATS_PAGE_SIZE} per status): a count shown with "+" hit that limit and is a lower bound.

Flags:
  --type T          only this task type
  --queue Q         only this queue
  --max-pages N     pages of ${STATS_PAGE_SIZE} per status, 1 to 1000 (default ${DEFAULT_STATS_PAGES})`,
  options: { type: { type: "string" }, queue: { type: "string" }, "max-pages": { type: "string" } },
  async run(ctx, p) {
    positionals(p, []);
    const maxPages = intFlag(p.values, "max-pages", 1, 1000) ?? DEFAULT_STATS_PAGES;
    const type = stringFlag(p.values, "type");
    const queue = stringFlag(p.values, "queue");
    type Row = { type: string; queue: string } & Record<(typeof STATS_STATUSES)[number], number>;
    const rows = new Map<string, Row>();
    const truncated: Record<string, boolean> = {};
    for (const status of STATS_STATUSES) {
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page = await ctx.client().list({ status, type, queue, pageSize: STATS_PAGE_SIZE, pageToken, fields: ["id", "type", "queue"] }, { deadlineMs: ctx.deadlineMs });
        for (const t of page.tasks) {
          const key = `${t.type}\u0000${t.queue}`;
          let row = rows.get(key);
          if (!row) rows.set(key, (row = { type: t.type, queue: t.queue, pending: 0, queued: 0, running: 0, dead_letter: 0 }));
          row[status]++;
        }
        pageToken = page.nextPageToken;
        pages++;
      } while (pageToken !== undefined && pages < maxPages);
      truncated[status] = pageToken !== undefined;
    }
    const sorted = [...rows.values()].sort((a, b) => a.type.localeCompare(b.type) || a.queue.localeCompare(b.queue));
    if (ctx.json) {
      ctx.out(json({ rows: sorted, truncated, sampledPagesPerStatus: maxPages, pageSize: STATS_PAGE_SIZE }) + "\n");
      return 0;
    }
    if (sorted.length === 0) {
      ctx.out("no pending, queued, running or dead_letter tasks\n");
      return 0;
    }
    const cell = (n: number, s: string) => `${n}${truncated[s] ? "+" : ""}`;
    const totals = { pending: 0, queued: 0, running: 0, dead_letter: 0 };
    for (const r of sorted) for (const s of STATS_STATUSES) totals[s] += r[s];
    ctx.out(
      table(
        ["TYPE", "QUEUE", "PENDING", "QUEUED", "RUNNING", "DEAD_LETTER"],
        [
          ...sorted.map((r) => [r.type, r.queue, ...STATS_STATUSES.map((s) => cell(r[s], s))]),
          ["TOTAL", "", ...STATS_STATUSES.map((s) => cell(totals[s], s))],
        ],
      ),
    );
    if (Object.values(truncated).some(Boolean)) ctx.err(`counts marked "+" stopped at --max-pages ${maxPages} (${maxPages * STATS_PAGE_SIZE} tasks per status)\n`);
    return 0;
  },
};

/** The task commands by name (index.ts merges them with flow-commands.ts's, in help order). */
export const TASK_COMMANDS = { enqueue, get, wait, list, cancel, retry, workers, leader, stats } as const satisfies Record<string, CommandSpec>;
