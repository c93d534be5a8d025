/**
 * API tokens for the gRPC services: authentication, permissions, queue scopes and the audit log.
 *
 * Tokens come from a file named by AUTH_TOKENS_FILE (JSON or YAML; the Helm chart mounts it from a
 * Secret), never from defaults:
 *
 * ```yaml
 * tokens:
 *   - name: billing-app          # shows in audit lines and errors; the secret never does
 *     sha256: 9f86d08...          # hex SHA-256 of the token (the token itself is not stored)
 *     permissions: [submit]
 *     queues: [billing]           # optional: only these queues
 *   - name: oncall
 *     secretFile: oncall.token    # or a file holding the token (relative to this file)
 *     permissions: [submit, operate]
 * ```
 *
 * A call sends `authorization: Bearer <token>`. The token is hashed and compared in constant time
 * with every entry. No token or an unknown one: UNAUTHENTICATED. A known token without the method's
 * permission, or acting on a queue outside its scope: PERMISSION_DENIED naming what is missing.
 * grpc.health.v1 and server reflection stay open (probes, `grpcurl list`). Every operate/admin call
 * (and every refused call) writes one JSON audit line: token name, method, target, peer, code.
 *
 * The check is a grpc-js server interceptor, so it runs before the request reaches a handler; the
 * handler can ask for the caller's queue scope (`assertQueueAccess`) once it knows a task's queue.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Metadata, ServerInterceptingCall, status, type ServerInterceptor } from "@grpc/grpc-js";
import { PermissionDeniedError, QUEUE_NAME, UnauthenticatedError } from "@taskorch/domain";
import { metrics, type Logger } from "@taskorch/telemetry";
import { parse as parseYaml } from "yaml";

/** What a token may do. `admin` implies every other permission. */
export type Permission = "submit" | "operate" | "admin";
export const PERMISSIONS: readonly Permission[] = ["submit", "operate", "admin"];

/** Who is calling: a token's name, its permissions, and the queues it may touch (null: all). */
export interface Principal {
  name: string;
  permissions: ReadonlySet<Permission>;
  queues: ReadonlySet<string> | null;
}

/** The principal of every call when AUTH_TOKENS_FILE is not set (local development). */
export const ANONYMOUS: Principal = Object.freeze({ name: "anonymous", permissions: new Set<Permission>(["admin"]), queues: null });

/**
 * The permission each RPC needs. Methods not listed need `operate` when their name is about
 * schedules, rate limits or queue control, and `admin` otherwise (closed by default: a new RPC is
 * added here on purpose).
 */
export const METHOD_PERMISSIONS: Readonly<Record<string, Permission>> = {
  "/taskorch.v1.SchedulerService/EnqueueTask": "submit",
  "/taskorch.v1.SchedulerService/EnqueueTasks": "submit",
  "/taskorch.v1.SchedulerService/GetTask": "submit",
  "/taskorch.v1.SchedulerService/ListTasks": "submit",
  "/taskorch.v1.SchedulerService/WaitTask": "submit",
  "/taskorch.v1.SchedulerService/GetGroup": "submit",
  "/taskorch.v1.SchedulerService/WaitGroup": "submit",
  "/taskorch.v1.SchedulerService/CancelTask": "operate",
  "/taskorch.v1.SchedulerService/RetryTask": "operate",
  "/taskorch.v1.SchedulerService/SetRateLimit": "operate",
  "/taskorch.v1.SchedulerService/DeleteRateLimit": "operate",
  "/taskorch.v1.SchedulerService/SetQueueLimit": "operate",
  "/taskorch.v1.SchedulerService/DeleteQueueLimit": "operate",
  "/taskorch.v1.SchedulerService/ListLimits": "operate",
  "/taskorch.v1.SchedulerService/CreateSchedule": "operate",
  "/taskorch.v1.SchedulerService/GetSchedule": "operate",
  "/taskorch.v1.SchedulerService/ListSchedules": "operate",
  "/taskorch.v1.SchedulerService/UpdateSchedule": "operate",
  "/taskorch.v1.SchedulerService/DeleteSchedule": "operate",
  "/taskorch.v1.SchedulerService/PauseSchedule": "operate",
  "/taskorch.v1.SchedulerService/ResumeSchedule": "operate",
  "/taskorch.v1.SchedulerService/TriggerSchedule": "operate",
  "/taskorch.v1.CoordinatorService/GetLeader": "operate",
  "/taskorch.v1.CoordinatorService/ListWorkers": "operate",
};

/**
 * Methods a queue-limited token may call: each names its queue(s) in the request or acts on tasks
 * whose queue the handler checks. Everything else spans queues (groups, rate limits by type,
 * schedules, cluster state) and needs a token without a queue limit.
 */
export const QUEUE_SCOPED_METHODS: ReadonlySet<string> = new Set([
  "/taskorch.v1.SchedulerService/EnqueueTask",
  "/taskorch.v1.SchedulerService/EnqueueTasks",
  "/taskorch.v1.SchedulerService/GetTask",
  "/taskorch.v1.SchedulerService/ListTasks",
  "/taskorch.v1.SchedulerService/WaitTask",
  "/taskorch.v1.SchedulerService/CancelTask",
  "/taskorch.v1.SchedulerService/RetryTask",
  "/taskorch.v1.SchedulerService/SetQueueLimit",
  "/taskorch.v1.SchedulerService/DeleteQueueLimit",
]);

const OPERATE_BY_NAME = /Schedule|RateLimit|Pause|Resume|Queue/;

/** True for methods that never need a token: health checks and server reflection. */
export function isOpenMethod(path: string): boolean {
  return path.startsWith("/grpc.health.v1.") || path.startsWith("/grpc.reflection.");
}

/** The permission `path` (e.g. "/taskorch.v1.SchedulerService/CancelTask") needs. */
export function permissionFor(path: string): Permission {
  const listed = METHOD_PERMISSIONS[path];
  if (listed) return listed;
  const method = path.slice(path.lastIndexOf("/") + 1);
  return OPERATE_BY_NAME.test(method) ? "operate" : "admin";
}

export function hasPermission(p: Principal, needed: Permission): boolean {
  return p.permissions.has("admin") || p.permissions.has(needed);
}

interface TokenRecord {
  principal: Principal;
  hash: Buffer;
}

const MIN_SECRET_LENGTH = 16;
const MAX_TOKEN_LENGTH = 4096;

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Parses a tokens file's text. Errors name the entry and field, never a secret. */
export function parseTokensFile(text: string, path: string, readSecretFunc: (file: string) => string = (f) => readFileSync(f, "utf8")): TokenRecord[] {
  let doc: unknown;
  try {
    doc = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch {
    throw new Error(`AUTH_TOKENS_FILE ${path} is not valid JSON or YAML`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list) || list.length === 0) throw new Error(`AUTH_TOKENS_FILE ${path}: expected a non-empty list "tokens"`);
  const names = new Set<string>();
  const hashes = new Set<string>();
  return list.map((raw: unknown, i) => {
    const at = `AUTH_TOKENS_FILE ${path}: tokens[${i}]`;
    if (typeof raw !== "object" || raw === null) throw new Error(`${at} is not an object`);
    const e = raw as Record<string, unknown>;
    const name = e.name;
    if (typeof name !== "string" || !/^[A-Za-z0-9_.@:-]{1,64}$/.test(name)) throw new Error(`${at}.name must be 1-64 letters, digits or _.@:-`);
    if (names.has(name)) throw new Error(`${at}.name "${name}" is used twice`);
    names.add(name);
    const where = `${at} (${name})`;
    let hash: Buffer;
    if (e.sha256 !== undefined && e.secretFile !== undefined) throw new Error(`${where}: give sha256 or secretFile, not both`);
    if (typeof e.sha256 === "string") {
      if (!/^[0-9a-fA-F]{64}$/.test(e.sha256)) throw new Error(`${where}.sha256 must be 64 hex digits (the SHA-256 of the token)`);
      hash = Buffer.from(e.sha256, "hex");
    } else if (typeof e.secretFile === "string" && e.secretFile !== "") {
      const file = resolve(dirname(path), e.secretFile);
      let secret: string;
      try {
        secret = readSecretFunc(file).trim();
      } catch {
        throw new Error(`${where}.secretFile ${file} cannot be read`);
      }
      if (secret.length < MIN_SECRET_LENGTH) throw new Error(`${where}.secretFile ${file}: the token must be at least ${MIN_SECRET_LENGTH} characters`);
      hash = sha256(secret);
    } else {
      throw new Error(`${where}: needs sha256 (hex SHA-256 of the token) or secretFile (a file holding it)`);
    }
    const key = hash.toString("hex");
    if (hashes.has(key)) throw new Error(`${where}: the same token is listed twice`);
    hashes.add(key);
    const perms = e.permissions;
    if (!Array.isArray(perms) || perms.length === 0 || !perms.every((p) => PERMISSIONS.includes(p as Permission))) {
      throw new Error(`${where}.permissions must be a non-empty list of ${PERMISSIONS.join(", ")}`);
    }
    let queues: Set<string> | null = null;
    if (e.queues !== undefined && e.queues !== null) {
      if (!Array.isArray(e.queues) || e.queues.length === 0 || !e.queues.every((q) => typeof q === "string" && QUEUE_NAME.test(q))) {
        throw new Error(`${where}.queues must be a non-empty list of queue names (or left out for all queues)`);
      }
      queues = new Set(e.queues as string[]);
    }
    return { principal: Object.freeze({ name, permissions: new Set(perms as Permission[]), queues }), hash };
  });
}

export interface TokenStoreConfig {
  /** AUTH_TOKENS_FILE. */
  file: string;
  /** SECRET_FILES_POLL_INTERVAL: how often the file (and its secretFiles) are re-read. */
  pollIntervalMs: number;
}

/**
 * The API tokens, hashed in memory. Loaded at construction (a bad file fails the start, naming
 * AUTH_TOKENS_FILE), then re-read every poll: a valid change replaces the set (a revoked token stops
 * working), an invalid one is logged and the previous set kept.
 */
export class TokenStore {
  private records: TokenRecord[];
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly config: TokenStoreConfig,
    private readonly logger: Logger,
  ) {
    let text: string;
    try {
      text = readFileSync(config.file, "utf8");
    } catch {
      throw new Error(`AUTH_TOKENS_FILE ${config.file} cannot be read`);
    }
    this.records = parseTokensFile(text, config.file);
    this.timer = setInterval(() => void this.reload(), config.pollIntervalMs);
    this.timer.unref();
  }

  /** Names of the tokens loaded (never their secrets). */
  get names(): string[] {
    return this.records.map((r) => r.principal.name);
  }

  /** Re-reads the file; resolves true when the token set changed. */
  async reload(): Promise<boolean> {
    if (this.polling) return false;
    this.polling = true;
    try {
      const text = await readFile(this.config.file, "utf8");
      const next = parseTokensFile(text, this.config.file);
      const fingerprint = (rs: TokenRecord[]) =>
        rs.map((r) => `${r.principal.name}:${r.hash.toString("hex")}:${[...r.principal.permissions].sort()}:${r.principal.queues ? [...r.principal.queues].sort() : "*"}`).join("|");
      if (fingerprint(next) === fingerprint(this.records)) return false;
      this.records = next;
      this.logger.info({ tokens: this.names }, "Auth: API tokens reloaded");
      return true;
    } catch (err) {
      this.logger.warn({ err: { message: err instanceof Error ? err.message : "unreadable" } }, "Auth: tokens file unusable; keeping the previous tokens");
      return false;
    } finally {
      this.polling = false;
    }
  }

  /** The principal a bearer token belongs to, or undefined. Constant time in the token's content. */
  lookup(token: string): Principal | undefined {
    const presented = sha256(token);
    let found: Principal | undefined;
    for (const r of this.records) {
      // Every entry is compared, so timing does not tell which one (or whether any) matched.
      if (timingSafeEqual(presented, r.hash) && found === undefined) found = r.principal;
    }
    return found;
  }

  /** The caller of a call with `metadata`; throws UnauthenticatedError without a valid token. */
  authenticate(metadata: Metadata): Principal {
    const values = metadata.get("authorization");
    if (values.length === 0) {
      throw new UnauthenticatedError("this server requires an API token: send the metadata `authorization: Bearer <token>`");
    }
    if (values.length > 1) throw new UnauthenticatedError("send one authorization metadata entry, not several");
    const value = String(values[0]);
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(value);
    if (!m) throw new UnauthenticatedError("the authorization metadata must read `Bearer <token>`");
    const token = m[1]!;
    const principal = token.length <= MAX_TOKEN_LENGTH ? this.lookup(token) : undefined;
    if (!principal) throw new UnauthenticatedError("the API token is not valid (unknown or revoked)");
    return principal;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The principal of each call in progress, keyed by the call's request metadata. */
const PRINCIPALS = new WeakMap<Metadata, Principal>();

/** The caller of a handler's call (set by the auth interceptor). */
export function principalOf(call: { metadata: Metadata }): Principal {
  const p = PRINCIPALS.get(call.metadata);
  // Every call passes the interceptor; a call without a principal is a wiring bug: fail closed.
  if (!p) throw new PermissionDeniedError("the caller of this call is unknown");
  return p;
}

/** Throws PermissionDeniedError unless `p` may act on `queue`. */
export function checkQueue(p: Principal, queue: string, what: string): void {
  if (p.queues !== null && !p.queues.has(queue)) {
    throw new PermissionDeniedError(`token "${p.name}" may not act on queue "${queue}" (${what}); it is limited to ${[...p.queues].join(", ")}`);
  }
}

/** Throws PermissionDeniedError unless the caller of `call` may act on `queue` (handlers use it once they know a task's queue). */
export function assertQueueAccess(call: { metadata: Metadata }, queue: string, what: string): void {
  checkQueue(principalOf(call), queue, what);
}

/** True when the caller of `call` may only touch some queues (handlers then read a task before acting on it). */
export function isQueueLimited(call: { metadata: Metadata }): boolean {
  return principalOf(call).queues !== null;
}

/** Checks the queues a request names directly (enqueue into, list). Tasks named by id are checked by the handler. */
export function checkRequestQueues(p: Principal, path: string, message: unknown): void {
  if (p.queues === null || typeof message !== "object" || message === null) return;
  const method = path.slice(path.lastIndexOf("/") + 1);
  if (!QUEUE_SCOPED_METHODS.has(path)) {
    throw new PermissionDeniedError(`token "${p.name}" is limited to queues ${[...p.queues].join(", ")}; ${method} spans queues and needs a token without a queue limit`);
  }
  const m = message as { queue?: unknown; tasks?: unknown; limit?: { queue?: unknown } };
  if (m.limit && typeof m.limit === "object" && typeof m.limit.queue === "string") checkQueue(p, m.limit.queue, method);
  if (typeof m.queue === "string") {
    if (m.queue === "" && method.startsWith("List")) {
      throw new PermissionDeniedError(`token "${p.name}" is limited to queues ${[...p.queues].join(", ")}: set queue`);
    }
    checkQueue(p, m.queue === "" ? "default" : m.queue, method);
  }
  if (Array.isArray(m.tasks)) {
    for (const t of m.tasks) {
      const q = (t as { queue?: unknown } | null)?.queue;
      if (typeof q === "string") checkQueue(p, q === "" ? "default" : q, method);
    }
  }
}

/** What an audit line says a call acted on: ids and names found in the request, shortened. */
function targetOf(path: string, message: unknown): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (typeof message !== "object" || message === null) return out;
  const m = message as Record<string, unknown>;
  const method = path.slice(path.lastIndexOf("/") + 1);
  const idKey = method.includes("Schedule") ? "schedule_id" : method.includes("Group") ? "group_id" : "task_id";
  for (const nested of ["limit", "schedule"]) {
    const n = m[nested];
    if (typeof n === "object" && n !== null) Object.assign(out, targetOf(path, n));
  }
  const fields: Array<[string, string]> = [
    ["id", idKey],
    ["taskId", "task_id"],
    ["scheduleId", "schedule_id"],
    ["schedule", "schedule"],
    ["name", "name"],
    ["queue", "queue"],
    ["type", "type"],
  ];
  for (const [field, key] of fields) {
    const v = m[field];
    if (typeof v === "string" && v !== "") out[key] = v.slice(0, 128);
  }
  if (Array.isArray(m.ids)) out.ids = m.ids.length;
  if (Array.isArray(m.tasks)) out.tasks = m.tasks.length;
  return out;
}

/**
 * What a request that is not a valid protobuf message deserializes to (see `tolerantDefinition`):
 * grpc-js would answer INTERNAL from below every interceptor; the interceptor answers
 * INVALID_ARGUMENT instead, since it is the caller's bytes that are wrong.
 */
export const MALFORMED_REQUEST: object = Object.freeze({ malformedRequest: true });

/** A copy of a service definition whose request deserializers return MALFORMED_REQUEST instead of throwing. */
export function tolerantDefinition<D extends Record<string, { requestDeserialize: (b: Buffer) => unknown }>>(definition: D): D {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch {
          return MALFORMED_REQUEST;
        }
      },
    };
  }
  return out as D;
}

export interface AuthInterceptorConfig {
  /** The tokens; undefined: auth is off and every call runs as ANONYMOUS (development only). */
  tokens: TokenStore | undefined;
  logger: Logger;
}

function splitPath(path: string): [string, string] {
  const [, service = "unknown", method = "unknown"] = path.split("/");
  return [service, method];
}

/**
 * The grpc-js server interceptor: authenticates and authorizes each call before its handler runs,
 * writes audit lines, and answers MALFORMED_REQUEST with INVALID_ARGUMENT.
 */
export function authInterceptor(config: AuthInterceptorConfig): ServerInterceptor {
  const audit = config.logger.child({ component: "audit" });
  return (descriptor, call) => {
    const path = descriptor.path;
    const open = isOpenMethod(path);
    const needed = permissionFor(path);
    const audited = !open && needed !== "submit";
    const [grpcService, grpcMethod] = splitPath(path);
    let principal: Principal | undefined;
    let target: Record<string, string | number> = {};
    let refused = false;
    const refuse = (err: Error, code: status) => {
      refused = true;
      const labels = { grpc_type: "unary", grpc_service: grpcService, grpc_method: grpcMethod };
      metrics.grpcServerStarted.inc(labels);
      metrics.grpcServerHandled.inc({ ...labels, grpc_code: status[code] });
      audit.warn(
        { audit: true, token: principal?.name ?? null, method: path, ...target, peer: call.getPeer(), grpc_code: status[code], reason: err.message },
        "Audit: call refused",
      );
      call.sendStatus({ code, details: err.message, metadata: new Metadata() });
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            if (open) return nextMetadata(metadata);
            try {
              principal = config.tokens ? config.tokens.authenticate(metadata) : ANONYMOUS;
              if (!hasPermission(principal, needed)) {
                throw new PermissionDeniedError(`token "${principal.name}" lacks the permission "${needed}" that ${path.slice(1)} needs`);
              }
            } catch (err) {
              return refuse(err as Error, err instanceof UnauthenticatedError ? status.UNAUTHENTICATED : status.PERMISSION_DENIED);
            }
            PRINCIPALS.set(metadata, principal);
            nextMetadata(metadata);
          },
          onReceiveMessage: (message, nextMessage) => {
            if (refused) return;
            if (message === MALFORMED_REQUEST) {
              return refuse(new Error(`the request is not a valid ${path.slice(1)} request message`), status.INVALID_ARGUMENT);
            }
            if (!open && principal) {
              target = targetOf(path, message);
              try {
                checkRequestQueues(principal, path, message);
              } catch (err) {
                return refuse(err as Error, status.PERMISSION_DENIED);
              }
            }
            nextMessage(message);
          },
          onReceiveHalfClose: (nextHalfClose) => {
            if (!refused) nextHalfClose();
          },
        }),
      sendStatus: (st, nextStatus) => {
        if (audited && principal) {
          audit.info({ audit: true, token: principal.name, method: path, ...target, peer: call.getPeer(), grpc_code: status[st.code ?? status.OK] }, "Audit: call");
        }
        nextStatus(st);
      },
    });
  };
}
