import { parseDuration, SUBJECT_PREFIX, QUEUE_NAME } from "@taskorch/domain";
import { z } from "zod";

/** One environment variable: its name, default (as text, like the env), meaning and parser. */
export interface Setting<T> {
  env: string;
  default: string | undefined;
  description: string;
  schema: z.ZodType<T, any>;
}

function setting<T>(env: string, def: string | undefined, description: string, schema: z.ZodType<T, any>): Setting<T> {
  return { env, default: def, description, schema };
}

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: "custom", message: 'expected a positive duration such as "500ms", "10s", "1m" or "1h"' });
    return z.NEVER;
  }
  return ms;
});

const int = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const n = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || n < min || n > max) {
      ctx.addIssue({ code: "custom", message: `expected a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

const bool = z.string().transform((text, ctx) => {
  const t = text.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(t)) return true;
  if (["false", "0", "no", "off", ""].includes(t)) return false;
  ctx.addIssue({ code: "custom", message: 'expected "true" or "false"' });
  return z.NEVER;
});

const str = z.string().trim();

const url = (protocols: string[]) =>
  z.string().transform((text, ctx) => {
    const parts = text.split(",").map((s) => s.trim());
    for (const part of parts) {
      let ok = false;
      try {
        ok = protocols.includes(new URL(part).protocol);
      } catch {
        ok = false;
      }
      if (!ok) {
        ctx.addIssue({ code: "custom", message: `expected a URL starting with ${protocols.join(" or ")}//` });
        return z.NEVER;
      }
    }
    return text.trim();
  });

const queueList = z.string().transform((text, ctx) => {
  const queues = [...new Set(text.split(",").map((q) => q.trim()).filter(Boolean))];
  const bad = queues.find((q) => !QUEUE_NAME.test(q));
  if (queues.length === 0 || bad !== undefined) {
    ctx.addIssue({ code: "custom", message: "expected a comma-separated list of queue names (letters, digits, '_' or '-')" });
    return z.NEVER;
  }
  return queues;
});

/** A path to a file (its content is read by the component that uses it, never logged). */
const filePath = z.string().trim().min(1, "expected a file path");

/**
 * Every setting taskorch reads, with the seed's names and defaults where the seed has one.
 * docs/configuration.md is generated from this table (`make docs`).
 */
export const SETTINGS = {
  databaseUrl: setting("DATABASE_URL", undefined, "PostgreSQL connection string, e.g. postgres://user@host:5432/db?sslmode=disable. Required by scheduler and coordinator.", url(["postgres:", "postgresql:"])),
  databasePoolSize: setting("DATABASE_POOL_SIZE", "10", "Maximum Postgres connections per process.", int(1, 1000)),
  databaseQueryTimeoutMs: setting("DATABASE_QUERY_TIMEOUT", "30s", "How long a statement may wait for Postgres' answer before it fails (UNAVAILABLE to the caller) and its connection is dropped, so a Postgres that vanished without closing connections (a failover behind a virtual IP or DNS name, a dropped network) costs this long rather than TCP's ~15 minutes. Migrations are exempt.", duration),
  natsUrl: setting("NATS_URL", "nats://127.0.0.1:4222", "NATS server URL(s), comma-separated.", url(["nats:", "tls:", "ws:", "wss:"])),
  natsPrefix: setting("NATS_PREFIX", "taskorch", "Prefix of every NATS subject and JetStream stream this cluster uses.", z.string().regex(SUBJECT_PREFIX, "expected 1-32 letters, digits, '_' or '-'")),
  grpcHost: setting("GRPC_HOST", "0.0.0.0", "Address the gRPC server binds to.", str),
  grpcPort: setting("GRPC_PORT", undefined, "gRPC port of this service (scheduler default 50051, coordinator default 50052).", int(0, 65535).optional()),
  coordinatorGrpcPort: setting("COORDINATOR_GRPC_PORT", "50052", "gRPC port of the coordinator when it runs inside all-in-one.", int(0, 65535)),
  metricsHost: setting("METRICS_HOST", "0.0.0.0", "Address the /metrics and /health server binds to.", str),
  metricsPort: setting("METRICS_PORT", "9090", "Port for Prometheus metrics and the health endpoint.", int(0, 65535)),
  debug: setting("DEBUG", "false", "Enable debug-level structured logging.", bool),
  logFormat: setting("LOG_FORMAT", "auto", "Log format: json, pretty, or auto (pretty when stdout is a terminal, JSON otherwise).", z.enum(["auto", "json", "pretty"])),
  enqueueExamples: setting("ENQUEUE_EXAMPLES", "false", "Enqueue sample tasks on startup (for testing).", bool),
  distributedMode: setting("DISTRIBUTED_MODE", "false", "Enable multi-instance coordination: coordinators elect a leader instead of taking the lease at start.", bool),
  nodeId: setting("WORKER_ID", undefined, "Id of this process (default hostname-pid-random).", str.optional()),
  workerPoolSize: setting("WORKER_POOL_SIZE", "10", "Maximum concurrent tasks per worker instance.", int(1, 10_000)),
  workerQueues: setting("WORKER_QUEUES", "default", "Comma-separated queues this worker serves (like celery -Q).", queueList),
  claimIntervalMs: setting("CLAIM_INTERVAL", "1s", "How often due tasks (delayed, retries) are promoted to their queues.", duration),
  shutdownTimeoutMs: setting("SHUTDOWN_TIMEOUT", "30s", "Grace period to wait for in-flight tasks during shutdown.", duration),
  heartbeatIntervalMs: setting("HEARTBEAT_INTERVAL", "10s", "How often workers send heartbeats. Set the same value on coordinators: after Postgres or NATS was out of reach, and at the start of a term, the leader waits this long plus a second before taking a silent worker for dead or an attempt past its timeout for lost.", duration),
  workerTimeoutMs: setting("WORKER_TIMEOUT", "30s", "Consider a worker dead after this long without a heartbeat.", duration),
  leaderTermMs: setting("LEADER_TERM", "30s", "Duration of the leader election lease.", duration),
  cleanupIntervalMs: setting("CLEANUP_INTERVAL", "1m", "How often the leader runs maintenance (orphan recovery, cleanup).", duration),
  dispatchTimeoutMs: setting("DISPATCH_TIMEOUT", "5m", "Re-dispatch a queued task nobody claimed for this long (a lost NATS message).", duration),
  defaultTaskTimeoutMs: setting("TASK_TIMEOUT", "30m", "Per-attempt execution limit for tasks that do not set one.", duration),
  admissionWindowFactor: setting("ADMISSION_WINDOW_FACTOR", "2", "A queue may have this many times its alive workers' capacity queued or running at once; the rest waits in Postgres, where priorities and limits apply.", z.string().transform((t, ctx) => {
    const n = Number(t);
    if (!Number.isFinite(n) || n < 1 || n > 100) {
      ctx.addIssue({ code: "custom", message: "expected a number from 1 to 100" });
      return z.NEVER;
    }
    return n;
  })),
  admissionWindowExtra: setting("ADMISSION_WINDOW_EXTRA", "64", "Tasks a queue may have queued or running beyond ADMISSION_WINDOW_FACTOR x capacity.", int(0, 100_000)),
  defaultMaxAttempts: setting("DEFAULT_MAX_ATTEMPTS", "3", "Attempts allowed for tasks that do not set max_attempts.", int(1, 100)),
  retryBackoffBaseMs: setting("RETRY_BACKOFF_BASE", "1s", "First retry delay; doubles with every attempt (with jitter).", duration),
  retryBackoffMaxMs: setting("RETRY_BACKOFF_MAX", "10m", "Longest retry delay.", duration),
  maxPayloadBytes: setting("MAX_PAYLOAD_BYTES", "1048576", "Largest payload or result accepted, in bytes of JSON. Never more than one NATS message carries: the server's max_payload (1 MiB by default) less 4 KiB for the envelope, so 1044480 with the defaults. A handler's error message is kept to 8 KiB.", int(1, 64 * 1024 * 1024)),
  // Security (docs/security.md). Secrets are never values here: only paths to files that hold them.
  grpcTlsCertFile: setting("GRPC_TLS_CERT_FILE", undefined, "PEM certificate (chain) the gRPC server presents. With GRPC_TLS_KEY_FILE: serve TLS. Re-read when the file changes (SECRET_FILES_POLL_INTERVAL).", filePath.optional()),
  grpcTlsKeyFile: setting("GRPC_TLS_KEY_FILE", undefined, "PEM private key of GRPC_TLS_CERT_FILE.", filePath.optional()),
  grpcTlsClientCaFile: setting("GRPC_TLS_CLIENT_CA_FILE", undefined, "PEM CA bundle: when set, the gRPC server requires client certificates signed by it (mutual TLS).", filePath.optional()),
  authTokensFile: setting("AUTH_TOKENS_FILE", undefined, "JSON or YAML file of API tokens (name, sha256 or secretFile, permissions, queues). When set, every call but health and reflection needs `authorization: Bearer <token>`.", filePath.optional()),
  secretFilesPollIntervalMs: setting("SECRET_FILES_POLL_INTERVAL", "30s", "How often certificate and token files are checked for changes (cert-manager rotation).", duration),
  natsCredsFile: setting("NATS_CREDS_FILE", undefined, "NATS credentials file (user JWT + NKey seed) for decentralized auth.", filePath.optional()),
  natsNkeySeedFile: setting("NATS_NKEY_SEED_FILE", undefined, "File holding this process's NATS NKey seed (SU...).", filePath.optional()),
  natsTokenFile: setting("NATS_TOKEN_FILE", undefined, "File holding a NATS authorization token.", filePath.optional()),
  natsUser: setting("NATS_USER", undefined, "NATS user name (with NATS_PASSWORD_FILE).", str.optional()),
  natsPasswordFile: setting("NATS_PASSWORD_FILE", undefined, "File holding the password of NATS_USER.", filePath.optional()),
  natsTlsCaFile: setting("NATS_TLS_CA_FILE", undefined, "PEM CA bundle that signs the NATS server's certificate (enables TLS).", filePath.optional()),
  natsTlsCertFile: setting("NATS_TLS_CERT_FILE", undefined, "PEM client certificate for NATS mutual TLS (with NATS_TLS_KEY_FILE).", filePath.optional()),
  natsTlsKeyFile: setting("NATS_TLS_KEY_FILE", undefined, "PEM private key of NATS_TLS_CERT_FILE.", filePath.optional()),
  // Limits on what one request may carry (checked before any write).
  grpcMaxReceiveBytes: setting("GRPC_MAX_RECEIVE_BYTES", "16777216", "Largest gRPC request message accepted, in bytes (larger: RESOURCE_EXHAUSTED).", int(1024, 1024 * 1024 * 1024)),
  maxBatchSize: setting("MAX_BATCH_SIZE", "10000", "Most tasks one EnqueueTasks call may carry.", int(1, 100_000)),
  maxPageSize: setting("MAX_PAGE_SIZE", "1000", "Largest page_size ListTasks accepts.", int(1, 100_000)),
  maxTypeLength: setting("MAX_TYPE_LENGTH", "128", "Longest task type accepted, in characters (at most 128).", int(1, 128)),
  maxQueueLength: setting("MAX_QUEUE_LENGTH", "64", "Longest queue name accepted, in characters (at most 64).", int(1, 64)),
  maxIdempotencyKeyLength: setting("MAX_IDEMPOTENCY_KEY_LENGTH", "255", "Longest idempotency key accepted, in characters (at most 255).", int(1, 255)),
  idempotencyRetentionMs: setting("IDEMPOTENCY_RETENTION", "24h", "How long a finished task keeps its idempotency key; afterwards the key may be used again.", duration),
  deadWorkerRetentionMs: setting("DEAD_WORKER_RETENTION", "24h", "Remove rows of workers silent for this long.", duration),
} as const;

type Settings = typeof SETTINGS;

/** The parsed, frozen configuration. */
export type TaskorchConfig = { readonly [K in keyof Settings]: z.output<Settings[K]["schema"]> };
