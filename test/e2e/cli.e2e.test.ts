/**
 * The operator CLI as a user runs it: a child process per command against a real cluster, checking
 * stdout, stderr and exit codes (0 ok, 1 failed call or unsuccessful task, 2 usage error).
 * It runs the real entry point, services/all-in-one/dist/cli.js, as the `taskorch` bin does.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliRunner, jsonOf } from "./cli-runner.js";
import { startCluster, type Cluster } from "./cluster.js";

let c: Cluster;

beforeAll(async () => {
  c = await startCluster();
});

afterAll(async () => {
  await c?.teardown();
});

const taskorch = cliRunner(() => c);

interface TaskJson {
  id: string;
  type: string;
  queue: string;
  status: string;
  payload: unknown;
  result?: unknown;
  attempts: number;
  lastError?: string;
  finishedAt?: string;
}

describe("taskorch operator CLI against a real cluster", () => {
  it("enqueue --payload --wait shows the task succeeded with its result", async () => {
    const r = await taskorch(["enqueue", "example.noop", "--payload", '{"hello":"cli"}', "--priority", "-5", "--wait"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^status:\s+succeeded$/m);
    expect(r.stdout).toMatch(/^result:\s+\{"hello":"cli"\}$/m);
    expect(r.stdout).toMatch(/^priority:\s+-5$/m);
    expect(r.stderr).toMatch(/enqueued [0-9a-f-]{36} \(example\.noop\), waiting/);
  });

  it("enqueue --payload-file - reads the payload from stdin; get shows it", async () => {
    const enq = jsonOf<TaskJson>(await taskorch(["enqueue", "example.noop", "--payload-file", "-", "--queue", "default", "--json"], '{"from":"stdin","n":[1,2]}\n'));
    expect(enq.payload).toEqual({ from: "stdin", n: [1, 2] });
    expect(["queued", "pending", "running", "succeeded"]).toContain(enq.status);
    const waited = jsonOf<{ task: TaskJson; timedOut: boolean }>(await taskorch(["wait", enq.id, "--timeout", "30s", "--json"]));
    expect(waited).toMatchObject({ timedOut: false, task: { id: enq.id, status: "succeeded", result: { from: "stdin", n: [1, 2] } } });
    const got = await taskorch(["get", enq.id]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`^id:\\s+${enq.id}$`, "m"));
    // Postgres stores JSONB, so key order may change; the values may not.
    expect(JSON.parse(/^payload:\s+(.*)$/m.exec(got.stdout)![1]!)).toEqual({ from: "stdin", n: [1, 2] });
  });

  it("list --json filters by status, type and queue, and pages with --limit/--page-token", async () => {
    const batch = await Promise.all([1, 2, 3].map((i) => taskorch(["enqueue", "example.noop", "--payload", `{"i":${i}}`, "--wait", "--json"])));
    const ids = batch.map((r) => jsonOf<{ task: TaskJson }>(r).task.id);
    await taskorch(["enqueue", "example.sleep", "--payload", '{"ms":1}', "--delay", "60s"]);

    const listed = jsonOf<{ tasks: TaskJson[] }>(await taskorch(["list", "--json", "--status", "succeeded", "--type", "example.noop", "--queue", "default", "--all"]));
    expect(listed.tasks.length).toBeGreaterThanOrEqual(3);
    for (const t of listed.tasks) expect(t).toMatchObject({ status: "succeeded", type: "example.noop", queue: "default" });
    expect(listed.tasks.map((t) => t.id)).toEqual(expect.arrayContaining(ids));

    const pending = jsonOf<{ tasks: TaskJson[] }>(await taskorch(["list", "--json", "--status", "pending"]));
    expect(pending.tasks.map((t) => t.type)).toEqual(["example.sleep"]);

    const first = jsonOf<{ tasks: TaskJson[]; nextPageToken?: string }>(await taskorch(["list", "--json", "--type", "example.noop", "--limit", "2"]));
    expect(first.tasks).toHaveLength(2);
    expect(first.nextPageToken).toBeTruthy();
    const second = jsonOf<{ tasks: TaskJson[] }>(await taskorch(["list", "--json", "--type", "example.noop", "--limit", "2", "--page-token", first.nextPageToken!]));
    expect(second.tasks.length).toBeGreaterThan(0);
    expect(second.tasks.map((t) => t.id)).not.toContain(first.tasks[0]!.id);

    const table = await taskorch(["list", "--type", "example.noop", "--limit", "2"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+TYPE\s+QUEUE\s+STATUS\s+ATTEMPTS\s+PRI\s+CREATED\s+LAST ERROR$/);
    expect(table.stderr).toMatch(/more: taskorch list --page-token \S+/);
  });

  it("a failing task ends dead_letter; retry --all-dead --type re-queues it", async () => {
    const failed = await taskorch(["enqueue", "example.fail", "--payload", '{"message":"cli boom"}', "--max-attempts", "1", "--wait", "--json"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/ended dead_letter: cli boom/);
    const dead = (JSON.parse(failed.stdout) as { task: TaskJson }).task;
    expect(dead).toMatchObject({ status: "dead_letter", attempts: 1, lastError: "cli boom" });

    const stats = jsonOf<{ rows: { type: string; dead_letter: number }[] }>(await taskorch(["stats", "--json"]));
    expect(stats.rows.find((r) => r.type === "example.fail")?.dead_letter).toBe(1);

    const retried = await taskorch(["retry", "--all-dead", "--type", "example.fail"]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toBe("retried 1 dead_letter task(s) of type example.fail\n");

    // It ran again (and, being example.fail, failed again): a second finish after the first.
    const again = await taskorch(["wait", dead.id, "--json"]);
    const task = (JSON.parse(again.stdout) as { task: TaskJson }).task;
    expect(task.status).toBe("dead_letter");
    expect(new Date(task.finishedAt!).getTime()).toBeGreaterThan(new Date(dead.finishedAt!).getTime());

    const none = jsonOf<{ retried: number }>(await taskorch(["retry", "--all-dead", "--type", "example.nothing-dead", "--json"]));
    expect(none.retried).toBe(0);
  });

  it("cancel cancels a delayed task; cancelling it again fails with FAILED_PRECONDITION", async () => {
    const t = jsonOf<TaskJson>(await taskorch(["enqueue", "example.sleep", "--payload", '{"ms":5000}', "--delay", "1m", "--json"]));
    expect(t.status).toBe("pending");
    const canceled = jsonOf<TaskJson>(await taskorch(["cancel", t.id, "--reason", "operator said so", "--json"]));
    expect(canceled).toMatchObject({ status: "canceled", lastError: "canceled: operator said so" });
    const again = await taskorch(["cancel", t.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^taskorch cancel: FAILED_PRECONDITION: task .* is already canceled/);
  });

  it("workers, leader and stats print tables", async () => {
    const workers = await taskorch(["workers"]);
    expect(workers.code, workers.stderr).toBe(0);
    expect(workers.stdout).toMatch(/^ID\s+HOST\s+QUEUES\s+ACTIVE\s+ALIVE/);
    expect(workers.stdout).toMatch(/\byes\b/);
    const leader = await taskorch(["leader", "--json"]);
    expect(jsonOf(leader)).toMatchObject({ held: true });
    const stats = await taskorch(["stats"]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout.split("\n")[0]).toMatch(/^TYPE\s+QUEUE\s+PENDING\s+QUEUED\s+RUNNING\s+DEAD_LETTER$/);
    expect(stats.stdout).toMatch(/^TOTAL\s/m);
  });

  it("bad flags exit 2 and name the flag", async () => {
    const cases: [string[], RegExp][] = [
      [["enqueue", "example.noop", "--priority", "high"], /^taskorch enqueue: --priority must be a whole number from -100 to 100/],
      [["enqueue", "example.noop", "--priority", "101"], /--priority must be a whole number from -100 to 100/],
      [["enqueue", "example.noop", "--max-attempts", "0"], /--max-attempts must be a whole number from 1 to 100/],
      [["enqueue", "example.noop", "--delay", "soon"], /--delay must be a duration/],
      [["enqueue", "example.noop", "--payload", "{nope"], /--payload must be JSON/],
      [["enqueue", "example.noop", "--payload", "{}", "--payload-file", "x.json"], /--payload and --payload-file/],
      [["enqueue", "example.noop", "--colour", "red"], /unknown flag --colour/],
      [["enqueue"], /missing <type>/],
      [["list", "--status", "done"], /--status must be one of pending, queued, running, succeeded, dead_letter, canceled/],
      [["list", "--limit", "0"], /--limit must be a whole number from 1 to 1000/],
      [["retry", "--all-dead"], /--all-dead needs --type/],
      [["get", "a", "b"], /unexpected argument "b"/],
      [["get", "x", "--timeout"], /--timeout needs a value/],
    ];
    const runs = await Promise.all(cases.map(([args]) => taskorch(args)));
    runs.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stdout).toBe("");
    });
  });

  it("an unknown id exits 1 with NOT_FOUND; --help exits 0", async () => {
    const id = randomUUID();
    const r = await taskorch(["get", id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`taskorch get: NOT_FOUND: task ${id} not found\n`);
    const help = await taskorch(["retry", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/taskorch retry --all-dead --type T/);
    expect(help.stdout).toMatch(/--coordinator-address/);
  });
});
