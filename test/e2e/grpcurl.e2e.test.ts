/**
 * Runs every ```bash block of docs/grpcurl.md that starts with `grpcurl` against a real cluster, in
 * document order, the way grpcurl does it: descriptors resolved through server reflection, JSON in
 * and out (invokeViaReflection / listServicesViaReflection from @taskorch/rpc, not the generated
 * client). Placeholders (<id>, <sleep-id>, <dead-id>, <next-page-token>) are filled from earlier
 * answers. Also checks the doc covers every RPC of SchedulerService and CoordinatorService.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { invokeViaReflection, listServicesViaReflection, ReflectionClient } from "@taskorch/rpc";
import { eventually } from "@taskorch/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./cluster.js";

const DOC = fileURLToPath(new URL("../../docs/grpcurl.md", import.meta.url));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** One grpcurl invocation as written in the doc. */
interface Recipe {
  source: string;
  address: string;
  /** "list", "describe" or a full method "pkg.Svc/Method". */
  verb: "list" | "describe" | "call";
  target: string | undefined;
  data: string | undefined;
}

/** Splits a shell command line the way bash would for these recipes: quotes, escapes, line continuations. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  const src = text.replace(/\\\n/g, " ");
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${text}`);
      cur = (cur ?? "") + src.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      let s = "";
      for (; j < src.length && src[j] !== '"'; j++) s += src[j] === "\\" ? src[++j] : src[j];
      if (j >= src.length) throw new Error(`unterminated " in: ${text}`);
      cur = (cur ?? "") + s;
      i = j;
    } else if (/\s/.test(ch)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else {
      cur = (cur ?? "") + ch;
    }
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

function parseRecipe(source: string): Recipe {
  const words = shellWords(source);
  expect(words[0]).toBe("grpcurl");
  let data: string | undefined;
  const rest: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === "-plaintext") continue;
    if (w === "-d") data = words[++i];
    else if (w.startsWith("-")) throw new Error(`recipe uses flag ${w}, which this test does not emulate: ${source}`);
    else rest.push(w);
  }
  const [address, first, second] = rest;
  if (!address) throw new Error(`no address in: ${source}`);
  if (first === "list") return { source, address, verb: "list", target: second, data };
  if (first === "describe") return { source, address, verb: "describe", target: second, data };
  if (!first?.includes("/")) throw new Error(`expected list, describe or pkg.Service/Method in: ${source}`);
  return { source, address, verb: "call", target: first, data };
}

/** Every ```bash block whose first word is grpcurl, in document order. */
function recipesOf(markdown: string): Recipe[] {
  const blocks = [...markdown.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  return blocks.filter((b) => b.startsWith("grpcurl")).map(parseRecipe);
}

let c: Cluster;
const docText = readFileSync(DOC, "utf8");
const recipes = recipesOf(docText);

beforeAll(async () => {
  c = await startCluster();
});

afterAll(async () => {
  await c?.teardown();
});

const TERMINAL = ["TASK_STATUS_SUCCEEDED", "TASK_STATUS_DEAD_LETTER", "TASK_STATUS_CANCELED"];
/** Which placeholder the first EnqueueTask of each type fills (batches fill none). */
const PLACEHOLDER_BY_TYPE: Record<string, string> = { "example.noop": "<id>", "example.sleep": "<sleep-id>", "example.fail": "<dead-id>" };

describe("docs/grpcurl.md", () => {
  it("has recipes for every RPC of SchedulerService and CoordinatorService, plus list, describe and health", async () => {
    const called = new Set(recipes.filter((r) => r.verb === "call").map((r) => r.target));
    for (const [port, service] of [
      [c.scheduler.grpcPort, "taskorch.v1.SchedulerService"],
      [c.coordinator.grpcPort, "taskorch.v1.CoordinatorService"],
    ] as const) {
      const reflection = new ReflectionClient(`127.0.0.1:${port}`);
      try {
        const methods = (await reflection.resolve(service)).getService(service)!.methods.map((m) => `${service}/${m.name}`);
        expect(methods.length).toBeGreaterThan(1);
        for (const m of methods) expect(called, `no recipe calls ${m}`).toContain(m);
      } finally {
        reflection.close();
      }
    }
    expect(called).toContain("grpc.health.v1.Health/Check");
    expect(recipes.some((r) => r.verb === "list")).toBe(true);
    expect(recipes.some((r) => r.verb === "describe")).toBe(true);
  });

  it("every recipe succeeds against a real cluster with a sensible answer", async () => {
    const values = new Map<string, string>();
    const portOf = (address: string) => {
      const port = address.split(":").pop();
      if (port === "50051") return c.scheduler.grpcPort;
      if (port === "50052") return c.coordinator.grpcPort;
      throw new Error(`unexpected address ${address}`);
    };
    const ran: string[] = [];
    for (const recipe of recipes) {
      const address = `127.0.0.1:${portOf(recipe.address)}`;
      const where = `recipe: ${recipe.source}`;
      if (recipe.verb === "list") {
        const services = await listServicesViaReflection(address);
        const expected = portOf(recipe.address) === c.scheduler.grpcPort ? "taskorch.v1.SchedulerService" : "taskorch.v1.CoordinatorService";
        expect(services, where).toEqual(expect.arrayContaining([expected, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]));
        ran.push("list");
        continue;
      }
      if (recipe.verb === "describe") {
        const symbol = recipe.target!;
        const reflection = new ReflectionClient(address);
        try {
          const registry = await reflection.resolve(symbol);
          expect(registry.getService(symbol) ?? registry.getMessage(symbol), where).toBeDefined();
        } finally {
          reflection.close();
        }
        ran.push(`describe ${symbol}`);
        continue;
      }
      let text = recipe.data ?? "{}";
      for (const placeholder of text.match(/<[a-z-]+>/g) ?? []) {
        const value = values.get(placeholder);
        if (value === undefined) throw new Error(`${placeholder} is used before any recipe produced it; ${where}`);
        text = text.replaceAll(placeholder, value);
      }
      const request = JSON.parse(text) as Obj;
      const method = recipe.target!;
      const call = async () => (await invokeViaReflection(address, method, request, { timeoutMs: 40_000 })) as Obj;
      let response: Obj;
      // Leader election and the first heartbeat take a moment after start; every other call must work at once.
      if (method.endsWith("/GetLeader") || method.endsWith("/ListWorkers")) {
        response = (await eventually(
          async () => {
            const r = await call();
            const ok = method.endsWith("/GetLeader") ? r.held === true : ((r.workers as Obj[] | undefined) ?? []).some((w) => w.alive === true);
            return ok ? r : undefined;
          },
          { timeoutMs: 15_000, what: `${method} sensible` },
        ))!;
      } else {
        response = await call();
      }
      checkResponse(method, request, response, where);
      if (method.endsWith("/EnqueueTask")) {
        const t = response.task as Obj;
        const placeholder = PLACEHOLDER_BY_TYPE[t.type as string];
        if (placeholder && !values.has(placeholder)) values.set(placeholder, t.id as string);
      }
      if (typeof response.nextPageToken === "string" && !values.has("<next-page-token>")) values.set("<next-page-token>", response.nextPageToken);
      if (method.endsWith("/EnqueueTasks") && !values.has("<group-id>")) values.set("<group-id>", response.groupId as string);
      ran.push(method);
    }
    expect(ran.length).toBe(recipes.length);
    expect(ran.filter((r) => r.endsWith("/WaitTask")).length).toBeGreaterThanOrEqual(2);
  });
});

/** What a "sensible" answer is, per RPC. */
function checkResponse(method: string, request: Obj, response: Obj, where: string): void {
  const task = response.task as Obj | undefined;
  switch (method.split("/")[1]) {
    case "Check":
      expect(response.status, where).toBe("SERVING");
      break;
    case "EnqueueTask":
      expect(task?.id, where).toMatch(/^[0-9a-f-]{36}$/);
      expect(task?.type, where).toBe(request.type);
      expect(["TASK_STATUS_PENDING", "TASK_STATUS_QUEUED", "TASK_STATUS_RUNNING", "TASK_STATUS_SUCCEEDED"], where).toContain(task?.status);
      if (request.payload !== undefined) expect(task?.payload, where).toEqual(request.payload);
      break;
    case "EnqueueTasks": {
      const tasks = response.tasks as Obj[];
      expect(tasks.length, where).toBe((request.tasks as Obj[]).length);
      if (typeof request.readMask === "string") {
        // Only the masked fields come back (JSON names of the paths).
        const masked = request.readMask.split(",");
        for (const t of tasks) {
          expect(t.id, where).toMatch(/^[0-9a-f-]{36}$/);
          expect(masked, where).toEqual(expect.arrayContaining(Object.keys(t)));
        }
      } else {
        expect(tasks.map((t) => t.type), where).toEqual((request.tasks as Obj[]).map((t) => t.type));
      }
      break;
    }
    case "GetTask":
      expect(task?.id, where).toBe(request.id);
      break;
    case "WaitTask":
      expect(task?.id, where).toBe(request.id);
      expect(response.timedOut ?? false, where).toBe(false);
      expect(TERMINAL, where).toContain(task?.status);
      expect(task?.status, where).toBe(task?.type === "example.fail" ? "TASK_STATUS_DEAD_LETTER" : "TASK_STATUS_SUCCEEDED");
      if (task?.type === "example.noop") expect(task.result, where).toEqual(task.payload);
      break;
    case "ListTasks": {
      const tasks = (response.tasks as Obj[] | undefined) ?? [];
      expect(tasks.length, where).toBeGreaterThan(0);
      expect(tasks.length, where).toBeLessThanOrEqual((request.pageSize as number | undefined) ?? 100);
      for (const t of tasks) {
        if (request.status) expect(t.status, where).toBe(request.status);
        if (request.type) expect(t.type, where).toBe(request.type);
        if (request.queue) expect(t.queue, where).toBe(request.queue);
      }
      if (!request.pageToken && request.pageSize === 2) expect(response.nextPageToken, `${where} (expected a next page)`).toBeTruthy();
      break;
    }
    case "CancelTask":
      expect(task?.status, where).toBe("TASK_STATUS_CANCELED");
      expect(task?.lastError, where).toMatch(/not needed any more/);
      break;
    case "RetryTask":
      expect(task?.id, where).toBe(request.id);
      // Back in its queue with a fresh budget: it died at 1/1 (maxAttempts 1 in the doc), so the
      // retry runs as attempt 2 of 2; numbers continue so that attempt 1's reports stay fenced.
      expect(["TASK_STATUS_PENDING", "TASK_STATUS_QUEUED"], where).toContain(task?.status);
      expect([task?.attempts, task?.maxAttempts], where).toEqual([2, 2]);
      break;
    case "WaitGroup": {
      const g = response.group as Obj;
      expect(g.id, where).toBe(request.id);
      expect(g.done, where).toBe(true);
      expect(response.timedOut ?? false, where).toBe(false);
      expect(g.succeeded, where).toBe(g.total);
      break;
    }
    case "GetGroup":
      expect((response.group as Obj).id, where).toBe(request.id);
      expect(((response.tasks as Obj[] | undefined) ?? []).length, where).toBe((response.group as Obj).total);
      expect(((response.tasks as Obj[]) ?? []).every((t) => t.status === "TASK_STATUS_SUCCEEDED" && t.result !== undefined), where).toBe(true);
      break;
    case "SetRateLimit":
      expect(response.limit, where).toEqual(request.limit);
      break;
    case "SetQueueLimit":
      expect(response.limit, where).toEqual(request.limit);
      break;
    case "ListLimits":
      expect(response.rateLimits, where).toEqual([{ type: "email.send", rate: "10/m" }]);
      expect(response.queueLimits, where).toEqual([{ queue: "reports", maxConcurrency: 2 }]);
      break;
    case "DeleteRateLimit":
    case "DeleteQueueLimit":
    case "DeleteSchedule":
      expect(response, where).toEqual({});
      break;
    case "CreateSchedule":
    case "UpdateSchedule":
    case "GetSchedule":
    case "PauseSchedule":
    case "ResumeSchedule": {
      const sch = response.schedule as Obj;
      expect(sch.id, where).toBe((request.schedule as Obj | undefined)?.id ?? request.id);
      expect(new Date(sch.nextFireAt as string).getTime(), where).toBeGreaterThan(Date.now() - 5000);
      if (method.endsWith("/PauseSchedule")) expect(sch.paused, where).toBe(true);
      if (method.endsWith("/ResumeSchedule")) expect(sch.paused ?? false, where).toBe(false);
      if (method.endsWith("/UpdateSchedule")) expect(sch.cron, where).toBe("30 2 * * *");
      break;
    }
    case "ListSchedules":
      expect(((response.schedules as Obj[]) ?? []).map((x) => x.id), where).toEqual(["heartbeat-report", "nightly-metadata"]);
      break;
    case "TriggerSchedule":
      expect(task?.type, where).toBe("example.noop");
      expect(task?.payload, where).toEqual({ batchSize: 10 });
      break;
    case "GetLeader":
      expect(response.held, where).toBe(true);
      expect(response.leaderId, where).toBeTruthy();
      expect(Number(response.epoch), where).toBeGreaterThanOrEqual(1);
      break;
    case "ListWorkers":
      expect((response.workers as Obj[]).length, where).toBeGreaterThanOrEqual(1);
      break;
    default:
      throw new Error(`no check for ${method}; add one. ${where}`);
  }
}
