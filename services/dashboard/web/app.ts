/**
 * The dashboard's front end: hash routes, one EventSource for live snapshots, the API-token dialog
 * and keyboard shortcuts. Compiled by tsc into dist/public and loaded as an ES module; nothing comes
 * from the network but this dashboard's own API.
 */
import { ApiError, describeError, get, isFromOldSession, onStaleSession, post, setSession } from "./api.js";
import type { Overview, SessionJson } from "./api-types.js";
import { $, h, replace } from "./dom.js";
import { overviewPage, schedulesPage, taskDetailPage, taskListPage, workersPage, type Ctx, type Page } from "./pages.js";

let session: SessionJson;
let overview: Overview | undefined;
let page: Page | undefined;
let events: EventSource | undefined;
let renderSeq = 0;

const NAV: [string, string, string][] = [
  ["#/", "Overview", "o"],
  ["#/tasks", "Tasks", "t"],
  ["#/dead-letters", "Dead letters", "d"],
  ["#/workers", "Workers", "w"],
  ["#/schedules", "Schedules", "s"],
];

function route(): { page: Page; params: URLSearchParams; arg?: string; nav: string } {
  const hash = location.hash || "#/";
  const [path = "#/", query = ""] = hash.split("?");
  const params = new URLSearchParams(query);
  const m = /^#\/tasks\/(.+)$/.exec(path);
  if (m) return { page: taskDetailPage(), params, arg: decodeURIComponent(m[1]!), nav: "#/tasks" };
  switch (path) {
    case "#/tasks":
      return { page: taskListPage(false), params, nav: path };
    case "#/dead-letters":
      return { page: taskListPage(true), params, nav: path };
    case "#/workers":
      return { page: workersPage(), params, nav: path };
    case "#/schedules":
      return { page: schedulesPage(), params, nav: path };
    default:
      return { page: overviewPage(), params, nav: "#/" };
  }
}

function toast(message: string, kind: "ok" | "error" = "ok"): void {
  const box = $("#toasts");
  const el = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  box.appendChild(el);
  setTimeout(() => el.remove(), kind === "error" ? 10_000 : 5000);
}

function onError(err: unknown): void {
  if (err instanceof ApiError && err.code === "UNAUTHENTICATED") {
    // A call sent before the last sign-in says nothing about the token now in use.
    if (!isFromOldSession(err)) openTokenDialog("This cluster requires an API token.");
    return;
  }
  if (err instanceof ApiError && err.code === "CSRF") {
    // The session expired or the server restarted: fetch a fresh one so the next action works.
    void loadSession();
  }
  toast(describeError(err), "error");
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  page?.dispose?.();
  const r = route();
  page = r.page;
  for (const a of document.querySelectorAll<HTMLAnchorElement>("#nav a")) {
    if (a.getAttribute("href") === r.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${r.page.title} · taskorch`;
  const ctx: Ctx = { session, overview, params: r.params, navigate, toast, onError };
  if (r.arg !== undefined) ctx.arg = r.arg;
  const main = $("#main");
  await r.page.render(main, ctx);
  if (seq !== renderSeq) return;
  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  if (document.activeElement === document.body || document.activeElement?.closest("#nav")) main.querySelector<HTMLElement>("h1")?.focus({ preventScroll: true });
}

function navigate(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

function setLive(state: "live" | "connecting" | "down", detail = ""): void {
  const el = $("#live");
  el.className = `live ${state}`;
  el.textContent = state === "live" ? "● live" : state === "connecting" ? "○ connecting…" : "○ offline";
  el.title = detail;
}

function connect(): void {
  events?.close();
  setLive("connecting");
  events = new EventSource("/api/events");
  events.addEventListener("open", () => setLive("live"));
  events.addEventListener("error", () => setLive("connecting", "reconnecting to the dashboard"));
  events.addEventListener("overview", (e) => {
    overview = JSON.parse((e as MessageEvent<string>).data) as Overview;
    const unauth = overview.errors.find((x) => x.code === "UNAUTHENTICATED");
    if (unauth) openTokenDialog("This cluster requires an API token.");
    const down = overview.errors.find((x) => x.code === "UNAVAILABLE");
    setLive(down ? "down" : "live", down ? `${down.source}: ${down.message}` : `sampled ${overview.sampledAt}`);
    $("#live").dataset.sampledAt = overview.sampledAt;
    page?.onOverview?.(overview);
  });
}

async function loadSession(): Promise<void> {
  session = await get<SessionJson>("/session");
  setSession(session);
  paintAuth();
}

function paintAuth(): void {
  replace(
    $("#auth"),
    session.hasToken
      ? h("button", { type: "button", onclick: () => void signOut() }, "Sign out")
      : h("button", { type: "button", onclick: () => openTokenDialog() }, "API token…"),
  );
}

function openTokenDialog(reason?: string): void {
  const dialog = $("#token-dialog") as HTMLDialogElement;
  if (dialog.open) return;
  replace($("#token-reason"), reason ?? "Paste an API token; actions need one with the operate permission.");
  $("#token-error").textContent = "";
  dialog.showModal();
  ($("#token-input") as HTMLInputElement).focus();
}

async function signIn(e: Event): Promise<void> {
  e.preventDefault();
  const input = $("#token-input") as HTMLInputElement;
  try {
    session = await post<SessionJson>("/session", { token: input.value });
    setSession(session);
    input.value = "";
    ($("#token-dialog") as HTMLDialogElement).close();
    paintAuth();
    toast("Signed in.", "ok");
    connect();
    void render();
  } catch (err) {
    $("#token-error").textContent = err instanceof ApiError && err.code === "UNAUTHENTICATED" ? "The cluster refused this token." : describeError(err);
  }
}

async function signOut(): Promise<void> {
  session = await post<SessionJson>("/session/logout");
  setSession(session);
  paintAuth();
  connect();
  void render();
}

/** g then o/t/d/w/s: go to a page; "/" focuses the task-id search; "?" shows help. */
function keyboard(): void {
  let pendingG = false;
  document.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement;
    if (e.ctrlKey || e.metaKey || e.altKey || target.closest("input, select, textarea, dialog")) return;
    if (pendingG) {
      pendingG = false;
      const hit = NAV.find(([, , key]) => key === e.key);
      if (hit) {
        e.preventDefault();
        navigate(hit[0]);
      }
      return;
    }
    if (e.key === "g") pendingG = true;
    else if (e.key === "/") {
      e.preventDefault();
      if (!document.getElementById("find-id")) navigate("#/tasks");
      setTimeout(() => document.getElementById("find-id")?.focus(), 50);
    } else if (e.key === "?") {
      toast("Keys: g o overview · g t tasks · g d dead letters · g w workers · g s schedules · / find a task by id", "ok");
    }
  });
}

async function start(): Promise<void> {
  replace(
    $("#nav"),
    h("ul", {}, NAV.map(([href, label, key]) => h("li", {}, h("a", { href, "aria-keyshortcuts": `g ${key}` }, label)))),
  );
  ($("#token-form") as HTMLFormElement).addEventListener("submit", (e) => void signIn(e));
  $("#token-cancel").addEventListener("click", () => ($("#token-dialog") as HTMLDialogElement).close());
  keyboard();
  onStaleSession(loadSession);
  try {
    await loadSession();
  } catch (err) {
    replace($("#main"), h("p", { class: "alert", role: "alert" }, `The dashboard's API does not answer: ${describeError(err)}`));
    return;
  }
  window.addEventListener("hashchange", () => void render());
  connect();
  await render();
}

void start();
