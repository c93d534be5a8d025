import { formatDuration } from "@taskorch/domain";
import { SETTINGS, type TaskorchConfig } from "./settings.js";

/** Thrown when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Reads and validates every setting once. Pure: pass `env` in tests. `required` lists settings that
 * this process cannot run without (DATABASE_URL only matters where Postgres is used).
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  required: ReadonlyArray<keyof TaskorchConfig> = [],
): TaskorchConfig {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, s] of Object.entries(SETTINGS)) {
    const raw = env[s.env];
    const text = raw === undefined || raw === "" ? s.default : raw;
    if (text === undefined) {
      if (required.includes(key as keyof TaskorchConfig)) problems.push(`${s.env} is required: ${s.description}`);
      out[key] = undefined;
      continue;
    }
    const parsed = s.schema.safeParse(text);
    if (parsed.success) out[key] = parsed.data;
    else problems.push(`${s.env}=${JSON.stringify(redactUrlSecrets(text))} is invalid: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  if (problems.length === 0) {
    const c = out as TaskorchConfig;
    if (c.heartbeatIntervalMs >= c.workerTimeoutMs) {
      problems.push(`HEARTBEAT_INTERVAL (${formatDuration(c.heartbeatIntervalMs)}) must be shorter than WORKER_TIMEOUT (${formatDuration(c.workerTimeoutMs)})`);
    }
    if (c.retryBackoffBaseMs > c.retryBackoffMaxMs) {
      problems.push("RETRY_BACKOFF_BASE must not exceed RETRY_BACKOFF_MAX");
    }
    problems.push(...securityProblems(c));
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  return Object.freeze(out) as TaskorchConfig;
}

/** Replaces the password of every URL in `text` (DATABASE_URL, NATS_URL) with "***", so errors never echo it. */
export function redactUrlSecrets(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/gi, "$1:***@");
}

/** Settings that only make sense together (security, docs/security.md). */
function securityProblems(c: TaskorchConfig): string[] {
  const problems: string[] = [];
  const pair = (a: string, av: unknown, b: string, bv: unknown) => {
    if ((av === undefined) !== (bv === undefined)) problems.push(`${a} and ${b} go together: set both or neither`);
  };
  pair("GRPC_TLS_CERT_FILE", c.grpcTlsCertFile, "GRPC_TLS_KEY_FILE", c.grpcTlsKeyFile);
  if (c.grpcTlsClientCaFile !== undefined && c.grpcTlsCertFile === undefined) {
    problems.push("GRPC_TLS_CLIENT_CA_FILE (mutual TLS) needs GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE");
  }
  pair("NATS_USER", c.natsUser, "NATS_PASSWORD_FILE", c.natsPasswordFile);
  pair("NATS_TLS_CERT_FILE", c.natsTlsCertFile, "NATS_TLS_KEY_FILE", c.natsTlsKeyFile);
  const natsAuth = [
    ["NATS_CREDS_FILE", c.natsCredsFile],
    ["NATS_NKEY_SEED_FILE", c.natsNkeySeedFile],
    ["NATS_TOKEN_FILE", c.natsTokenFile],
    ["NATS_USER", c.natsUser],
  ].filter(([, v]) => v !== undefined);
  if (natsAuth.length > 1) problems.push(`${natsAuth.map(([n]) => n).join(", ")}: choose one NATS authentication method`);
  return problems;
}

/** Markdown table of every setting, for docs/configuration.md. */
export function renderConfigTable(): string {
  const rows = Object.values(SETTINGS).map((s) => `| \`${s.env}\` | ${s.default === undefined ? "—" : `\`${s.default}\``} | ${s.description} |`);
  return ["| Variable | Default | Description |", "|---|---|---|", ...rows].join("\n");
}

