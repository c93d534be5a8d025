/**
 * The flow-control operator commands as a user runs them (`taskorch schedules|limits|group|
 * enqueue-batch`): a child process per command against a real cluster, checking stdout, stderr and
 * exit codes (0 ok, 1 failed call or unsuccessful group/task, 2 usage error naming the flag).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "@taskorch/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliRunner, jsonOf, type Run } from "./cli-runner.js";
import { startCluster, type Cluster } from "./cluster.js";

let c: Cluster;
let dir: string;

beforeAll(async () => {
  c = await startCluster();
  dir = await mkdtemp(join(tmpdir(), "taskorch-cli-flow-"));
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && c) console.error(await c.diagnostics());
});

afterAll(async () => {
  await c?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const taskorch = cliRunner(() => c);

interface TaskJson {
  id: string;
  type: string;
  status: string;
  payload: unknown;
  result?: unknown;
  groupId?: string;
  lastError?: string;
}

interface ScheduleJson {
  id: string;
  cron?: string;
  intervalMs?: number;
  timeZone: string;
  task: { type: string; queue: string; payload: unknown; priority: number; maxAttempts: number; timeoutMs?: number };
  overlapPolicy: string;
  catchupPolicy: string;
  paused: boolean;
  nextFireAt?: string;
  lastFireAt?: string;
  lastTaskId?: string;
}

interface GroupJson {
  id: string;
  total: number;
  waiting: number;
  running: number;
  succeeded: number;
  deadLetter: number;
  canceled: number;
  done: boolean;
}

/** Each CLI call is a Node process start; on a loaded 2-core machine a test of many calls is slow. */
const SLOW = 240_000;

const parisClock = (iso: string) => new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));

describe("taskorch schedules", () => {
  it("creates, lists, gets, updates, pauses, resumes, triggers and deletes a schedule", async () => {
    const created = jsonOf<ScheduleJson>(
      await taskorch([
        "schedules", "create", "cli-nightly", "--cron", "0 2 * * *", "--tz", "Europe/Paris", "--type", "example.noop",
        "--payload", '{"batchSize":10}', "--priority", "-5", "--task-timeout", "30s", "--overlap", "skip", "--catchup", "run-once", "--json",
      ]),
    );
    expect(created).toMatchObject({
      id: "cli-nightly",
      cron: "0 2 * * *",
      timeZone: "Europe/Paris",
      task: { type: "example.noop", queue: "default", payload: { batchSize: 10 }, priority: -5, maxAttempts: 3, timeoutMs: 30_000 },
      overlapPolicy: "skip",
      catchupPolicy: "run_once",
      paused: false,
    });
    expect(parisClock(created.nextFireAt!)).toBe("02:00");

    const weekly = await taskorch(["schedules", "create", "cli-weekly", "--every", "168h", "--type", "example.noop", "--payload", '{"cleanup":"old-metadata"}']);
    expect(weekly.code, weekly.stderr).toBe(0);
    expect(weekly.stdout).toMatch(/^every:\s+168h$/m);
    expect(weekly.stdout).toMatch(/^state:\s+active$/m);
    expect(weekly.stdout).not.toMatch(/^time zone:/m);

    const dup = await taskorch(["schedules", "create", "cli-weekly", "--every", "1h", "--type", "example.noop"]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/^taskorch schedules: ALREADY_EXISTS: schedule cli-weekly already exists/);

    const table = await taskorch(["schedules", "list"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+WHEN\s+TZ\s+TASK\s+QUEUE\s+STATE\s+NEXT FIRE\s+LAST FIRE\s+LAST TASK$/);
    expect(table.stdout).toMatch(/^cli-nightly\s+0 2 \* \* \*\s+Europe\/Paris\s+example\.noop\s+default\s+active\s/m);
    expect(table.stdout).toMatch(/^cli-weekly\s+every 168h\s+-\s+example\.noop\s+default\s+active\s/m);
    const listed = jsonOf<{ schedules: ScheduleJson[] }>(await taskorch(["schedules", "list", "--json"]));
    expect(listed.schedules.map((s) => s.id)).toEqual(expect.arrayContaining(["cli-nightly", "cli-weekly"]));

    const got = await taskorch(["schedules", "get", "cli-nightly"]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/^cron:\s+0 2 \* \* \*$/m);
    expect(got.stdout).toMatch(/^time zone:\s+Europe\/Paris$/m);
    expect(got.stdout).toMatch(/^overlap:\s+skip$/m);
    expect(got.stdout).toMatch(/^catch-up:\s+run_once$/m);

    // update changes only what the flags give; the rest of the definition stays.
    const updated = jsonOf<ScheduleJson>(await taskorch(["schedules", "update", "cli-nightly", "--cron", "30 2 * * *", "--json"]));
    expect(updated).toMatchObject({ cron: "30 2 * * *", timeZone: "Europe/Paris", overlapPolicy: "skip", catchupPolicy: "run_once", task: { payload: { batchSize: 10 }, priority: -5 } });
    expect(parisClock(updated.nextFireAt!)).toBe("02:30");

    const paused = jsonOf<ScheduleJson>(await taskorch(["schedules", "pause", "cli-nightly", "--json"]));
    expect(paused.paused).toBe(true);
    expect((await taskorch(["schedules", "list"])).stdout).toMatch(/^cli-nightly\s.*\spaused\s/m);
    const resumed = jsonOf<ScheduleJson>(await taskorch(["schedules", "resume", "cli-nightly", "--json"]));
    expect(resumed.paused).toBe(false);
    expect(new Date(resumed.nextFireAt!).getTime()).toBeGreaterThan(Date.now());

    // trigger: the template's task, now, and it succeeds.
    const triggered = await taskorch(["schedules", "trigger", "cli-nightly", "--wait"]);
    expect(triggered.code, triggered.stderr).toBe(0);
    expect(triggered.stdout).toMatch(/^status:\s+succeeded$/m);
    expect(triggered.stdout).toMatch(/^result:\s+\{"batchSize":10\}$/m);
    expect(triggered.stdout).toMatch(/^priority:\s+-5$/m);
    const t = jsonOf<TaskJson>(await taskorch(["schedules", "trigger", "cli-weekly", "--json"]));
    expect(t.payload).toEqual({ cleanup: "old-metadata" });
    const waited = jsonOf<{ task: TaskJson; timedOut: boolean }>(await taskorch(["wait", t.id, "--json"]));
    expect(waited).toMatchObject({ timedOut: false, task: { status: "succeeded" } });

    for (const id of ["cli-nightly", "cli-weekly"]) {
      const del = await taskorch(["schedules", "delete", id]);
      expect(del.code, del.stderr).toBe(0);
      expect(del.stdout).toBe(`deleted schedule ${id} (tasks it already enqueued are unaffected)\n`);
    }
    const gone = await taskorch(["schedules", "get", "cli-nightly"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe("taskorch schedules: NOT_FOUND: schedule cli-nightly not found\n");
    expect((await taskorch(["schedules", "list"])).stdout).toBe("no schedules\n");
  }, SLOW);

  it("an interval schedule ticks on its own; the tick's task succeeds", async () => {
    jsonOf(await taskorch(["schedules", "create", "cli-every-second", "--every", "1s", "--type", "example.noop", "--payload", '{"tick":true}', "--json"]));
    const fired = await eventually(
      async () => {
        const s = jsonOf<ScheduleJson>(await taskorch(["schedules", "get", "cli-every-second", "--json"]));
        return s.lastTaskId ? s : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 300, what: "a tick of cli-every-second" },
    );
    expect(fired.lastFireAt).toBeTruthy();
    jsonOf(await taskorch(["schedules", "pause", "cli-every-second", "--json"]));
    const done = jsonOf<{ task: TaskJson }>(await taskorch(["wait", fired.lastTaskId!, "--json"]));
    expect(done.task).toMatchObject({ status: "succeeded", result: { tick: true } });
    expect((await taskorch(["schedules", "delete", "cli-every-second"])).code).toBe(0);
  }, SLOW);

  it("a bad cron or time zone exits 1 with the server's INVALID_ARGUMENT naming the field", async () => {
    const cron = await taskorch(["schedules", "create", "cli-bad", "--cron", "61 * * * *", "--type", "example.noop"]);
    expect(cron.code).toBe(1);
    expect(cron.stderr).toMatch(/^taskorch schedules: INVALID_ARGUMENT: schedule\.cron: "61 \* \* \* \*" is not a valid cron expression/);
    const fields = await taskorch(["schedules", "create", "cli-bad", "--cron", "* * *", "--type", "example.noop"]);
    expect(fields.code).toBe(1);
    expect(fields.stderr).toMatch(/INVALID_ARGUMENT: schedule\.cron: "\* \* \*" needs 5 fields/);
    const tz = await taskorch(["schedules", "create", "cli-bad", "--cron", "0 2 * * *", "--tz", "Mars/Olympus", "--type", "example.noop"]);
    expect(tz.code).toBe(1);
    expect(tz.stderr).toMatch(/INVALID_ARGUMENT: schedule\.time_zone: "Mars\/Olympus" is not an IANA time zone/);
    const id = await taskorch(["schedules", "create", "bad id!", "--every", "1h", "--type", "example.noop"]);
    expect(id.code).toBe(1);
    expect(id.stderr).toMatch(/INVALID_ARGUMENT: schedule\.id: /);
    expect(jsonOf<{ schedules: unknown[] }>(await taskorch(["schedules", "list", "--json"])).schedules).toEqual([]);
  }, SLOW);
});

describe("taskorch limits", () => {
  it("sets, lists and clears rate and queue limits", async () => {
    const rate = await taskorch(["limits", "set-rate", "cli.limited", "10/m"]);
    expect(rate.code, rate.stderr).toBe(0);
    expect(rate.stdout).toBe("rate limit of cli.limited: 10/m (tasks over it wait; they do not fail)\n");
    // Periods other than s/m/h/d come back in ms: the server stores the rate as (count, period).
    expect(jsonOf(await taskorch(["limits", "set-rate", "cli.other", "5/30s", "--json"]))).toEqual({ type: "cli.other", rate: "5/30s" });
    expect(jsonOf(await taskorch(["limits", "set-queue", "cli-reports", "2", "--json"]))).toEqual({ queue: "cli-reports", maxConcurrency: 2 });
    expect((await taskorch(["limits", "set-queue", "cli-paused", "0"])).stdout).toBe("queue limit of cli-paused: 0 (paused)\n");

    const table = await taskorch(["limits", "list"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^KIND\s+TARGET\s+LIMIT$/);
    expect(table.stdout).toMatch(/^rate\s+cli\.limited\s+10\/m /m);
    expect(table.stdout).toMatch(/^queue\s+cli-reports\s+2 at once$/m);
    const listed = jsonOf<{ rateLimits: unknown[]; queueLimits: unknown[] }>(await taskorch(["limits", "list", "--json"]));
    expect(listed.rateLimits).toEqual(expect.arrayContaining([{ type: "cli.limited", rate: "10/m" }, { type: "cli.other", rate: "5/30s" }]));
    expect(listed.queueLimits).toEqual(expect.arrayContaining([{ queue: "cli-reports", maxConcurrency: 2 }, { queue: "cli-paused", maxConcurrency: 0 }]));

    expect((await taskorch(["limits", "clear-rate", "cli.limited"])).stdout).toBe("cleared the rate limit of cli.limited\n");
    expect((await taskorch(["limits", "clear-rate", "cli.other"])).code).toBe(0);
    expect((await taskorch(["limits", "clear-queue", "cli-reports"])).stdout).toBe("cleared the concurrency limit of queue cli-reports\n");
    expect(jsonOf(await taskorch(["limits", "clear-queue", "cli-paused", "--json"]))).toEqual({ cleared: { queue: "cli-paused" } });
    expect((await taskorch(["limits", "list"])).stdout).toBe("no limits\n");

    const again = await taskorch(["limits", "clear-rate", "cli.limited"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe("taskorch limits: NOT_FOUND: no rate limit for type cli.limited\n");
  }, SLOW);

  it("a bad rate exits 1 with the server's INVALID_ARGUMENT naming the field", async () => {
    const r = await taskorch(["limits", "set-rate", "cli.limited", "fast"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^taskorch limits: INVALID_ARGUMENT: limit\.rate: "fast" is not a rate: use Celery's notation/);
    const zero = await taskorch(["limits", "set-rate", "cli.limited", "0/s"]);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toMatch(/INVALID_ARGUMENT: limit\.rate: /);
    const queue = await taskorch(["limits", "set-queue", "bad queue!", "3"]);
    expect(queue.code).toBe(1);
    expect(queue.stderr).toMatch(/INVALID_ARGUMENT: limit\.queue: /);
  }, SLOW);
});

describe("taskorch enqueue-batch and group", () => {
  it("enqueues a JSONL batch as one group; group --wait --results shows every task succeeded, in order", async () => {
    const file = join(dir, "tasks.jsonl");
    const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ type: "example.noop", payload: { i }, ...(i === 3 ? { priority: 7 } : {}) }));
    await writeFile(file, `${lines.join("\n")}\n\n`);
    const batch = jsonOf<{ groupId: string; tasks: TaskJson[] }>(await taskorch(["enqueue-batch", "--file", file, "--json"]));
    expect(batch.groupId).toMatch(/^[0-9a-f-]{36}$/);
    expect(batch.tasks).toHaveLength(25);
    expect(batch.tasks.every((t) => t.groupId === batch.groupId)).toBe(true);

    const waited = await taskorch(["group", batch.groupId, "--wait", "--wait-timeout", "60s", "--results"]);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout).toMatch(new RegExp(`^group:\\s+${batch.groupId}$`, "m"));
    expect(waited.stdout).toMatch(/^total:\s+25$/m);
    expect(waited.stdout).toMatch(/^succeeded:\s+25$/m);
    expect(waited.stdout).toMatch(/^done:\s+yes$/m);
    expect(waited.stdout).toMatch(/^ID\s+TYPE\s+STATUS\s+ATTEMPTS\s+RESULT \/ LAST ERROR$/m);
    expect(waited.stdout.match(/\ssucceeded\s+1\/3\s+\{"i":\d+\}$/gm)).toHaveLength(25);

    const json = jsonOf<{ group: GroupJson; timedOut: boolean; tasks: TaskJson[] }>(await taskorch(["group", batch.groupId, "--wait", "--results", "--json"]));
    expect(json.timedOut).toBe(false);
    expect(json.group).toEqual({ id: batch.groupId, total: 25, waiting: 0, running: 0, succeeded: 25, deadLetter: 0, canceled: 0, done: true });
    expect(json.tasks.map((t) => t.result)).toEqual(Array.from({ length: 25 }, (_, i) => ({ i })));

    const counts = jsonOf<{ group: GroupJson; tasks?: unknown }>(await taskorch(["group", batch.groupId, "--json"]));
    expect(counts.group.succeeded).toBe(25);
    expect(counts.tasks).toBeUndefined();
  }, SLOW);

  it("reads stdin with --file -, prints the group id, and --wait exits 1 when a task dead-letters", async () => {
    const stdin = ['{"type":"example.noop","payload":{"ok":1}}', '{"type":"example.fail","payload":{"message":"group boom"},"maxAttempts":1}'].join("\n");
    const plain = await taskorch(["enqueue-batch", "--file", "-"], stdin);
    expect(plain.code, plain.stderr).toBe(0);
    const groupId = /^group:\s+(\S+)$/m.exec(plain.stdout)![1]!;
    expect(plain.stdout).toMatch(/^tasks:\s+2$/m);
    expect(plain.stderr).toBe(`follow it: taskorch group ${groupId} --wait\n`);
    const waited = await taskorch(["group", groupId, "--wait", "--results"]);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toBe(`group ${groupId}: 1 dead_letter, 0 canceled of 2 task(s)\n`);
    expect(waited.stdout).toMatch(/\sdead_letter\s+1\/1\s+group boom$/m);

    const inline = await taskorch(["enqueue-batch", "--file", "-", "--wait", "--json"], '{"type":"example.noop"}\n{"type":"example.noop","queue":"default"}\n');
    const r = jsonOf<{ groupId: string; group: GroupJson; timedOut: boolean }>(inline);
    expect(r.group).toMatchObject({ id: r.groupId, total: 2, succeeded: 2, done: true });
  }, SLOW);

  it("an unknown group is NOT_FOUND, a malformed id INVALID_ARGUMENT (exit 1)", async () => {
    const id = randomUUID();
    const missing = await taskorch(["group", id]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`taskorch group: NOT_FOUND: group ${id} not found\n`);
    const bad = await taskorch(["group", "not-a-group"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^taskorch group: INVALID_ARGUMENT: id: "not-a-group" is not a group id/);
  }, SLOW);
});

describe("usage errors", () => {
  it("bad flags exit 2 and name the flag; --help exits 0", async () => {
    const bad = join(dir, "bad.jsonl");
    await writeFile(bad, '{"type":"example.noop"}\n{"type":"example.noop","colour":"red"}\n');
    const cases: [string[], RegExp][] = [
      [["schedules"], /^taskorch schedules: missing <command>: one of list, get, create, update, delete, pause, resume, trigger/],
      [["schedules", "launch"], /unknown command "launch"/],
      [["schedules", "get"], /missing <id> \(taskorch schedules get <id>\)/],
      [["schedules", "create", "x", "--type", "example.noop"], /give --cron EXPR .* or --every DURATION/],
      [["schedules", "create", "x", "--cron", "* * * * *"], /missing --type T/],
      [["schedules", "create", "x", "--cron", "* * * * *", "--every", "1h", "--type", "t"], /--cron and --every cannot be used together/],
      [["schedules", "create", "x", "--every", "soon", "--type", "t"], /--every must be a duration/],
      [["schedules", "create", "x", "--every", "500ms", "--type", "t"], /--every must be at least 1s/],
      [["schedules", "create", "x", "--every", "1h", "--tz", "UTC", "--type", "t"], /--tz only goes with --cron/],
      [["schedules", "create", "x", "--every", "1h", "--type", "t", "--overlap", "never"], /--overlap must be allow or skip, got "never"/],
      [["schedules", "create", "x", "--every", "1h", "--type", "t", "--catchup", "all"], /--catchup must be skip or run-once, got "all"/],
      [["schedules", "create", "x", "--every", "1h", "--type", "t", "--priority", "500"], /--priority must be a whole number from -100 to 100/],
      [["schedules", "create", "x", "--every", "1h", "--type", "t", "--payload", "{nope"], /--payload must be JSON/],
      [["schedules", "list", "--cron", "* * * * *"], /--cron does not apply to schedules list/],
      [["schedules", "update", "x"], /nothing to change/],
      [["schedules", "trigger", "x", "--wait-timeout", "5s"], /--wait-timeout needs --wait/],
      [["limits", "set-rate", "t"], /missing <rate>/],
      [["limits", "set-queue", "q", "many"], /<max> must be a whole number from 0 \(paused\) to 1000000, got "many"/],
      [["limits", "clear-queue", "q", "extra"], /unexpected argument "extra"/],
      [["limits", "list", "--colour", "red"], /unknown flag --colour/],
      [["group"], /missing <group-id>/],
      [["group", "x", "--wait-timeout", "10s"], /--wait-timeout needs --wait/],
      [["enqueue-batch"], /missing --file PATH/],
      [["enqueue-batch", "--file", join(dir, "nope.jsonl")], /--file .*nope\.jsonl cannot be read/],
      [["enqueue-batch", "--file", bad], /--file .*bad\.jsonl line 2: unknown field "colour"/],
      [["enqueue-batch", "--file", "-", "--results"], /--results needs --wait/],
    ];
    // A few processes at a time: the CI machine is small.
    const runs: Run[] = [];
    for (let i = 0; i < cases.length; i += 4) runs.push(...(await Promise.all(cases.slice(i, i + 4).map(([args]) => taskorch(args)))));
    runs.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr, cases[i]![0].join(" ")).toMatch(cases[i]![1]);
      expect(r.stdout).toBe("");
    });
    for (const cmd of ["schedules", "limits", "group", "enqueue-batch"]) {
      const help = await taskorch([cmd, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: taskorch ${cmd}`));
      expect(help.stdout).toMatch(/--coordinator-address/);
    }
  }, SLOW);
});
