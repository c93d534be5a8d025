/**
 * The pages: overview, tasks, task detail, dead letters, workers, schedules. Each renders into <main>
 * and may react to the live overview stream (onOverview); list pages re-read their first page on
 * each tick and re-render only when it changed, keeping focus and selection.
 */
import { describeError, get, post, ApiError } from "./api.js";
import type { Overview, RetryResultJson, SchedulesJson, SessionJson, TaskJson, TaskPageJson, TaskStatus, WorkerJson } from "./api-types.js";
import { h, replace, type Child } from "./dom.js";
import { ago, count, json, ms, percent, rate, shortId, time } from "./format.js";

export interface Ctx {
  session: SessionJson;
  overview: Overview | undefined;
  params: URLSearchParams;
  /** Route argument (the task id on #/tasks/<id>). */
  arg?: string;
  navigate(hash: string): void;
  toast(message: string, kind?: "ok" | "error"): void;
  /** Called with every error; opens the token dialog on UNAUTHENTICATED. */
  onError(err: unknown): void;
}

export interface Page {
  title: string;
  render(main: HTMLElement, ctx: Ctx): void | Promise<void>;
  onOverview?(o: Overview): void;
  dispose?(): void;
}

const STATUSES: TaskStatus[] = ["pending", "queued", "running", "succeeded", "dead_letter", "canceled"];
const ACTIVE: ReadonlySet<TaskStatus> = new Set(["pending", "queued", "running"]);
const RETRYABLE: ReadonlySet<TaskStatus> = new Set(["dead_letter", "canceled"]);

const badge = (s: TaskStatus) => h("span", { class: `badge s-${s}` }, s.replace("_", " "));
const heading = (text: string, ...extra: Child[]) => h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, text), ...extra);
const card = (label: string, value: Child, note?: Child, attrs: Record<string, string> = {}) =>
  h("section", { class: "card", ...attrs }, h("h2", {}, label), h("p", { class: "value" }, value), note ? h("p", { class: "note" }, note) : null);
const timeCell = (iso: string | undefined) => h("td", {}, iso ? h("time", { datetime: iso, title: time(iso) }, ago(iso)) : "—");

// ---------------------------------------------------------------- overview

export function overviewPage(): Page {
  let body: HTMLElement | undefined;
  let ctxRef: Ctx | undefined;
  const paint = (o: Overview | undefined) => {
    if (!body) return;
    if (!o) {
      replace(body, h("p", { class: "muted" }, "Waiting for the first sample…"));
      return;
    }
    const t = new Set(o.truncated);
    const r = o.rates;
    const src = r.source === "metrics" ? `from /metrics counters over ${r.windowSeconds}s` : `from ListTasks samples over ${r.windowSeconds}s`;
    const pool = o.workers.capacity > 0 ? o.workers.active / o.workers.capacity : 0;
    replace(
      body,
      o.errors.length > 0
        ? h("div", { class: "alert", role: "alert" }, h("strong", {}, "Part of this sample failed: "), o.errors.map((e) => h("div", {}, `${e.source ?? ""} ${e.code}: ${e.message}`)))
        : null,
      h(
        "div",
        { class: "cards" },
        card("Enqueued", rate(r.enqueuedPerSec, r.lowerBound), src, { "data-testid": "rate-enqueued" }),
        card("Completed", rate(r.completedPerSec, r.lowerBound), r.source === "metrics" ? "successful attempts" : "tasks that succeeded", { "data-testid": "rate-completed" }),
        card("Failed", rate(r.failedPerSec, r.lowerBound), r.source === "metrics" ? "failed attempts (incl. retried)" : "tasks dead-lettered"),
        card("Success rate", percent(r.successRatio), r.successRatio === undefined ? "nothing finished in the window" : `of ${r.source === "metrics" ? "attempts" : "finished tasks"}`),
        card("Dead letters", h("a", { href: "#/dead-letters", "data-testid": "dead-count" }, count(o.totals.dead_letter, t.has("dead_letter"))), "tasks that ran out of attempts"),
        card("Pending / queued / running", `${count(o.totals.pending, t.has("pending"))} / ${count(o.totals.queued, t.has("queued"))} / ${count(o.totals.running, t.has("running"))}`, "pending = delayed or waiting for a retry"),
        card(
          "Workers",
          h("span", { class: "value-sm" }, h("span", { class: "ok" }, `${o.workers.alive} alive`), o.workers.dead > 0 ? h("span", { class: "bad" }, ` · ${o.workers.dead} dead`) : ""),
          h("span", {}, h("progress", { max: String(Math.max(1, o.workers.capacity)), value: String(o.workers.active), "aria-label": "pool usage" }), ` ${o.workers.active}/${o.workers.capacity} slots busy (${Math.round(pool * 100)}%)`),
        ),
        card(
          "Leader",
          o.leader?.held ? h("span", { class: "mono", title: o.leader.leaderId ?? "" }, o.leader.leaderId ?? "?") : h("span", { class: "bad" }, "no leader"),
          o.leader ? `epoch ${o.leader.epoch}${o.leader.expiresAt ? ` · lease ${ago(o.leader.expiresAt)}` : ""}` : "coordinator unreachable",
          { "data-testid": "leader" },
        ),
      ),
      h("h2", { class: "section" }, "Queue depth by queue and type"),
      o.depth.length === 0
        ? h("p", { class: "muted" }, "No unfinished or dead-lettered tasks.")
        : h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              {},
              h("thead", {}, h("tr", {}, ["Queue", "Type", "Pending", "Queued", "Running", "Dead letters"].map((c, i) => h("th", { scope: "col", class: i > 1 ? "num" : "" }, c)))),
              h(
                "tbody",
                {},
                o.depth.map((d) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, d.queue),
                    h("td", {}, h("a", { href: `#/tasks?type=${encodeURIComponent(d.type)}&queue=${encodeURIComponent(d.queue)}` }, d.type)),
                    h("td", { class: "num" }, count(d.pending)),
                    h("td", { class: "num" }, count(d.queued)),
                    h("td", { class: "num" }, count(d.running)),
                    h("td", { class: "num" }, d.dead_letter > 0 ? h("a", { href: `#/dead-letters?type=${encodeURIComponent(d.type)}&queue=${encodeURIComponent(d.queue)}` }, count(d.dead_letter)) : "0"),
                  ),
                ),
              ),
            ),
          ),
      o.gauges
        ? h(
            "p",
            { class: "note" },
            "Exact gauges from the leader's /metrics: ",
            Object.entries(o.gauges.pendingByType).map(([type, n]) => `${type} ${n} waiting, ${o.gauges!.runningByType[type] ?? 0} running; `),
          )
        : null,
      h(
        "p",
        { class: "note" },
        `Sampled ${ago(o.sampledAt)} in ${o.sampleMs} ms. Counts read at most ${o.countLimit.toLocaleString("en-US")} tasks per status; "+" marks a lower bound.`,
      ),
    );
  };
  return {
    title: "Overview",
    render(main, ctx) {
      ctxRef = ctx;
      body = h("div", { id: "overview-body", "aria-live": "off" });
      replace(main, heading("Overview"), body);
      paint(ctx.overview);
    },
    onOverview(o) {
      if (ctxRef) ctxRef.overview = o;
      paint(o);
    },
  };
}

// ---------------------------------------------------------------- tasks and dead letters

/** The Tasks page, or (deadLetters) the Dead letters page: the same list with selection and retry actions. */
export function taskListPage(deadLetters: boolean): Page {
  let ctxRef: Ctx;
  let tableBox: HTMLElement;
  let toolbar: HTMLElement;
  let pager: HTMLElement;
  const tokens: (string | undefined)[] = [undefined];
  let pageIndex = 0;
  let shown = "";
  let page: TaskPageJson = { tasks: [] };
  let busy = false;
  let disposed = false;
  const selected = new Set<string>();

  const filter = () => ({
    status: deadLetters ? "dead_letter" : ctxRef.params.get("status") || undefined,
    type: ctxRef.params.get("type") || undefined,
    queue: ctxRef.params.get("queue") || undefined,
  });

  const load = async (force = false) => {
    try {
      const next = await get<TaskPageJson>("/tasks", { ...filter(), pageSize: "50", pageToken: tokens[pageIndex] });
      if (disposed) return;
      const text = JSON.stringify(next);
      if (!force && text === shown) return;
      shown = text;
      page = next;
      for (const id of [...selected]) if (!next.tasks.some((t) => t.id === id)) selected.delete(id);
      paint();
    } catch (err) {
      if (!disposed) ctxRef.onError(err);
    }
  };

  const act = async (label: string, fn: () => Promise<string>) => {
    if (busy) return;
    busy = true;
    paintToolbar();
    try {
      ctxRef.toast(await fn(), "ok");
    } catch (err) {
      ctxRef.onError(err);
    } finally {
      busy = false;
      await load(true);
      paintToolbar();
    }
    void label;
  };

  const retryOne = (t: TaskJson) =>
    act("retry", async () => {
      await post(`/tasks/${encodeURIComponent(t.id)}/retry`);
      return `Retried ${shortId(t.id)} (${t.type}): back in queue ${t.queue}.`;
    });
  const cancelOne = (t: TaskJson) => {
    if (!confirm(`Cancel task ${t.id} (${t.type})?`)) return;
    void act("cancel", async () => {
      await post(`/tasks/${encodeURIComponent(t.id)}/cancel`, {});
      return `Canceled ${shortId(t.id)}.`;
    });
  };
  const retrySelected = () =>
    act("retry selected", async () => {
      const r = await post<RetryResultJson>("/tasks/retry", { ids: [...selected] });
      selected.clear();
      return summary(r);
    });
  const retryAll = () => {
    const type = ctxRef.params.get("type");
    if (!type) return;
    const queue = ctxRef.params.get("queue") || undefined;
    if (!confirm(`Retry every dead letter of type ${type}${queue ? ` in queue ${queue}` : ""}?`)) return;
    void act("retry all", async () => summary(await post<RetryResultJson>("/dead-letters/retry-all", { type, queue })));
  };

  const paintToolbar = () => {
    if (!deadLetters || !toolbar) return;
    const type = ctxRef.params.get("type");
    replace(
      toolbar,
      h("button", { type: "button", "data-key": "retry-selected", disabled: busy || selected.size === 0, onclick: () => void retrySelected() }, `Retry selected (${selected.size})`),
      h(
        "button",
        { type: "button", "data-key": "retry-all", disabled: busy || !type, title: type ? "" : "filter by a type first", onclick: retryAll },
        type ? `Retry all ${type}` : "Retry all of a type (filter by type first)",
      ),
    );
  };

  const paint = () => {
    const rows = page.tasks.map((t) =>
      h(
        "tr",
        { "data-task-id": t.id, "data-status": t.status },
        deadLetters
          ? h(
              "td",
              {},
              h("input", {
                type: "checkbox",
                "data-key": `sel-${t.id}`,
                "aria-label": `select ${t.id}`,
                checked: selected.has(t.id),
                onchange: (e: Event) => {
                  if ((e.target as HTMLInputElement).checked) selected.add(t.id);
                  else selected.delete(t.id);
                  paintToolbar();
                },
              }),
            )
          : null,
        h("td", { class: "mono" }, h("a", { href: `#/tasks/${encodeURIComponent(t.id)}`, title: t.id, "data-key": `link-${t.id}` }, shortId(t.id))),
        h("td", {}, t.type),
        h("td", {}, t.queue),
        h("td", {}, badge(t.status)),
        h("td", { class: "num" }, `${t.attempts}/${t.maxAttempts}`),
        deadLetters ? h("td", { class: "error-cell", title: t.lastError ?? "" }, t.lastError ?? "") : timeCell(t.createdAt),
        timeCell(t.updatedAt),
        h(
          "td",
          { class: "actions" },
          RETRYABLE.has(t.status) ? h("button", { type: "button", "data-key": `retry-${t.id}`, disabled: busy, onclick: () => void retryOne(t) }, "Retry") : null,
          ACTIVE.has(t.status) ? h("button", { type: "button", class: "danger", "data-key": `cancel-${t.id}`, disabled: busy, onclick: () => cancelOne(t) }, "Cancel") : null,
        ),
      ),
    );
    replace(
      tableBox,
      page.tasks.length === 0
        ? h("p", { class: "muted", "data-testid": "empty" }, deadLetters ? "No dead letters match." : "No tasks match.")
        : h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              {},
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  (deadLetters ? ["", "ID", "Type", "Queue", "Status", "Attempts", "Last error", "Updated", ""] : ["ID", "Type", "Queue", "Status", "Attempts", "Created", "Updated", ""]).map((c) =>
                    h("th", { scope: "col", class: c === "Attempts" ? "num" : "" }, c === "" ? h("span", { class: "sr-only" }, "select or act") : c),
                  ),
                ),
              ),
              h("tbody", {}, rows),
            ),
          ),
    );
    replace(
      pager,
      h("button", { type: "button", "data-key": "newer", disabled: pageIndex === 0, onclick: () => void go(pageIndex - 1) }, "← Newer"),
      h("span", { class: "muted" }, ` page ${pageIndex + 1}${pageIndex > 0 ? " (live updates paused; go to page 1 to resume)" : ""} `),
      h("button", { type: "button", "data-key": "older", disabled: page.nextPageToken === undefined, onclick: () => void go(pageIndex + 1) }, "Older →"),
    );
    paintToolbar();
  };

  const go = async (i: number) => {
    if (i > pageIndex) tokens[i] = page.nextPageToken;
    pageIndex = i;
    await load(true);
  };

  return {
    title: deadLetters ? "Dead letters" : "Tasks",
    async render(main, ctx) {
      ctxRef = ctx;
      const p = ctx.params;
      const submitFilter = (e: Event) => {
        e.preventDefault();
        const form = new FormData(e.target as HTMLFormElement);
        const q = new URLSearchParams();
        for (const k of ["status", "type", "queue"]) {
          const v = String(form.get(k) ?? "").trim();
          if (v) q.set(k, v);
        }
        ctx.navigate(`#/${deadLetters ? "dead-letters" : "tasks"}${q.size ? `?${q}` : ""}`);
      };
      const findId = (e: Event) => {
        e.preventDefault();
        const id = String(new FormData(e.target as HTMLFormElement).get("id") ?? "").trim();
        if (id) ctx.navigate(`#/tasks/${encodeURIComponent(id)}`);
      };
      tableBox = h("div", { id: "task-table" });
      toolbar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "dead-letter actions" });
      pager = h("nav", { class: "pager", "aria-label": "pages" });
      replace(
        main,
        heading(deadLetters ? "Dead letters" : "Tasks"),
        h(
          "div",
          { class: "filters" },
          h(
            "form",
            { class: "filter-form", onsubmit: submitFilter, role: "search", "aria-label": "filter tasks" },
            deadLetters
              ? null
              : h(
                  "label",
                  {},
                  "Status ",
                  h("select", { name: "status" }, h("option", { value: "" }, "any"), STATUSES.map((s) => h("option", { value: s, selected: p.get("status") === s }, s))),
                ),
            h("label", {}, "Type ", h("input", { name: "type", value: p.get("type") ?? "", placeholder: "e.g. email.send", autocomplete: "off", size: 16 })),
            h("label", {}, "Queue ", h("input", { name: "queue", value: p.get("queue") ?? "", placeholder: "any", autocomplete: "off", size: 10 })),
            h("button", { type: "submit" }, "Filter"),
          ),
          h(
            "form",
            { class: "filter-form", onsubmit: findId, role: "search", "aria-label": "find a task by id" },
            h("label", {}, "Task id ", h("input", { name: "id", id: "find-id", placeholder: "01…", autocomplete: "off", size: 24, spellcheck: "false" })),
            h("button", { type: "submit" }, "Open"),
          ),
        ),
        deadLetters ? toolbar : null,
        tableBox,
        pager,
      );
      paintToolbar();
      await load(true);
    },
    onOverview() {
      // Live: the first page follows the cluster; older pages stay put so rows do not move under the reader.
      if (pageIndex === 0 && !busy) void load();
    },
    dispose() {
      disposed = true;
    },
  };
}

function summary(r: RetryResultJson): string {
  const failed = r.failed.length > 0 ? `; ${r.failed.length} could not be retried (first: ${r.failed[0]!.id}: ${r.failed[0]!.message})` : "";
  return `Retried ${r.retried} task${r.retried === 1 ? "" : "s"}${failed}.`;
}

// ---------------------------------------------------------------- task detail

export function taskDetailPage(): Page {
  let ctxRef: Ctx;
  let box: HTMLElement;
  let shown = "";
  let disposed = false;
  let task: TaskJson | undefined;

  const load = async () => {
    try {
      const res = await get<{ task: TaskJson }>(`/tasks/${encodeURIComponent(ctxRef.arg ?? "")}`);
      if (disposed) return;
      const text = JSON.stringify(res.task);
      if (text === shown) return;
      shown = text;
      task = res.task;
      paint();
    } catch (err) {
      if (disposed) return;
      if (err instanceof ApiError && (err.code === "NOT_FOUND" || err.code === "INVALID_ARGUMENT")) replace(box, h("p", { class: "alert", role: "alert" }, `No task ${ctxRef.arg}: ${err.message}`));
      else ctxRef.onError(err);
    }
  };

  const act = async (what: "retry" | "cancel") => {
    if (!task) return;
    if (what === "cancel" && !confirm(`Cancel task ${task.id}?`)) return;
    try {
      await post(`/tasks/${encodeURIComponent(task.id)}/${what}`, {});
      ctxRef.toast(what === "retry" ? "Retried: back in its queue with a fresh budget of attempts." : "Canceled.", "ok");
    } catch (err) {
      ctxRef.onError(err);
    }
    await load();
  };

  const paint = () => {
    const t = task!;
    const jaeger = ctxRef.session.jaegerUiUrl;
    const row = (k: string, v: Child) => [h("dt", {}, k), h("dd", {}, v)];
    replace(
      box,
      h(
        "div",
        { class: "toolbar" },
        RETRYABLE.has(t.status) ? h("button", { type: "button", "data-key": "retry", onclick: () => void act("retry") }, "Retry") : null,
        ACTIVE.has(t.status) ? h("button", { type: "button", class: "danger", "data-key": "cancel", onclick: () => void act("cancel") }, "Cancel") : null,
        t.traceId
          ? jaeger
            ? h("a", { class: "button", href: `${jaeger}/trace/${encodeURIComponent(t.traceId)}`, target: "_blank", rel: "noopener noreferrer", "data-testid": "trace-link" }, "Open trace in Jaeger ↗")
            : h("span", { class: "muted" }, `trace ${t.traceId} (set JAEGER_UI_URL to link it)`)
          : null,
      ),
      h(
        "dl",
        { class: "fields" },
        row("Status", h("span", { "data-testid": "task-status" }, badge(t.status))),
        row("ID", h("span", { class: "mono" }, t.id)),
        row("Type", t.type),
        row("Queue", t.queue),
        row("Attempts", h("span", { "data-testid": "task-attempts" }, `${t.attempts} of ${t.maxAttempts}`)),
        row("Priority", String(t.priority)),
        row("Worker", t.workerId ? h("span", { class: "mono" }, t.workerId) : "—"),
        row("Timeout", ms(t.timeoutMs)),
        row("Created", time(t.createdAt)),
        row("Run at", time(t.runAt)),
        row("Started", time(t.startedAt)),
        row("Finished", time(t.finishedAt)),
        row("Updated", time(t.updatedAt)),
        t.idempotencyKey ? row("Idempotency key", h("span", { class: "mono" }, t.idempotencyKey)) : null,
      ),
      h("h2", { class: "section" }, "Payload"),
      h("pre", { class: "json", tabindex: "0" }, json(t.payload)),
      t.status === "succeeded" || t.result !== undefined ? [h("h2", { class: "section" }, "Result"), h("pre", { class: "json", tabindex: "0", "data-testid": "task-result" }, json(t.result))] : null,
      t.lastError ? [h("h2", { class: "section" }, t.status === "succeeded" ? "Error of an earlier attempt" : "Last error"), h("pre", { class: "json error", tabindex: "0" }, t.lastError)] : null,
    );
  };

  return {
    title: "Task",
    async render(main, ctx) {
      ctxRef = ctx;
      box = h("div", { id: "task-detail" }, h("p", { class: "muted" }, "Loading…"));
      replace(main, heading("Task", h("a", { href: "#/tasks" }, "← all tasks")), box);
      await load();
    },
    onOverview() {
      void load();
    },
    dispose() {
      disposed = true;
    },
  };
}

// ---------------------------------------------------------------- workers

export function workersPage(): Page {
  let box: HTMLElement | undefined;
  const paint = (o: Overview | undefined) => {
    if (!box) return;
    const list: WorkerJson[] = o?.workers.list ?? [];
    replace(
      box,
      !o
        ? h("p", { class: "muted" }, "Waiting for the first sample…")
        : list.length === 0
          ? h("p", { class: "muted" }, "No workers registered.")
          : h(
              "div",
              { class: "table-wrap" },
              h(
                "table",
                {},
                h("thead", {}, h("tr", {}, ["Worker", "Host", "Queues", "Active / capacity", "Last heartbeat", "Started", "Version", "State"].map((c) => h("th", { scope: "col" }, c)))),
                h(
                  "tbody",
                  {},
                  list.map((w) =>
                    h(
                      "tr",
                      { "data-worker-id": w.id },
                      h("td", { class: "mono" }, w.id),
                      h("td", {}, w.hostname),
                      h("td", {}, w.queues.join(", ")),
                      h("td", {}, h("progress", { max: String(Math.max(1, w.capacity)), value: String(w.active), "aria-label": `${w.id} pool usage` }), ` ${w.active}/${w.capacity}`),
                      timeCell(w.lastHeartbeat),
                      timeCell(w.startedAt),
                      h("td", {}, w.version),
                      h("td", {}, h("span", { class: `badge ${w.alive ? "s-succeeded" : "s-dead_letter"}` }, w.alive ? "alive" : "dead")),
                    ),
                  ),
                ),
              ),
            ),
    );
  };
  return {
    title: "Workers",
    render(main, ctx) {
      box = h("div", { id: "workers-body" });
      replace(main, heading("Workers"), box);
      paint(ctx.overview);
    },
    onOverview: paint,
  };
}

// ---------------------------------------------------------------- schedules

export function schedulesPage(): Page {
  return {
    title: "Schedules",
    async render(main, ctx) {
      const box = h("div", {}, h("p", { class: "muted" }, "Loading…"));
      replace(main, heading("Schedules"), box);
      try {
        const s = await get<SchedulesJson>("/schedules");
        if (!s.available) {
          replace(box, h("div", { class: "empty-state", "data-testid": "schedules-unavailable" }, h("p", {}, "Not available yet."), h("p", { class: "muted" }, s.message ?? "")));
          return;
        }
        const list = (s.schedules ?? []) as ScheduleLike[];
        replace(box, list.length === 0 ? h("p", { class: "muted" }, "No schedules.") : schedulesTable(list));
      } catch (err) {
        ctx.onError(err);
        replace(box, h("p", { class: "alert" }, describeError(err)));
      }
    },
  };
}

/** A schedule as the client returns it; read defensively, since the client's schedule API is newer than this page. */
interface ScheduleLike {
  id?: string;
  cron?: string;
  interval?: { seconds?: number } | string;
  intervalMs?: number;
  timeZone?: string;
  task?: { type?: string; queue?: string };
  paused?: boolean;
  nextFireAt?: string;
  lastFireAt?: string;
  lastTaskId?: string;
}

function schedulesTable(list: ScheduleLike[]): HTMLElement {
  const every = (s: ScheduleLike) => {
    if (s.cron) return `${s.cron}${s.timeZone ? ` (${s.timeZone})` : ""}`;
    if (s.intervalMs !== undefined) return `every ${ms(s.intervalMs)}`;
    if (typeof s.interval === "object" && s.interval?.seconds !== undefined) return `every ${ms(s.interval.seconds * 1000)}`;
    return typeof s.interval === "string" ? `every ${s.interval}` : "—";
  };
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ["Schedule", "When", "Task type", "Queue", "Next", "Last", "Last task", "State"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        list.map((s) =>
          h(
            "tr",
            { "data-schedule-id": s.id ?? "" },
            h("td", { class: "mono" }, s.id ?? "—"),
            h("td", { class: "mono" }, every(s)),
            h("td", {}, s.task?.type ?? "—"),
            h("td", {}, s.task?.queue || "default"),
            timeCell(s.nextFireAt),
            timeCell(s.lastFireAt),
            h("td", { class: "mono" }, s.lastTaskId ? h("a", { href: `#/tasks/${encodeURIComponent(s.lastTaskId)}` }, shortId(s.lastTaskId)) : "—"),
            h("td", {}, h("span", { class: `badge ${s.paused ? "s-canceled" : "s-succeeded"}` }, s.paused ? "paused" : "active")),
          ),
        ),
      ),
    ),
  );
}
