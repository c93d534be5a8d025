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
    else problems.push(`${s.env}=${JSON.stringify(text)} is invalid: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  if (problems.length === 0) {
    const c = out as TaskorchConfig;
    if (c.heartbeatIntervalMs >= c.workerTimeoutMs) {
      problems.push(`HEARTBEAT_INTERVAL (${formatDuration(c.heartbeatIntervalMs)}) must be shorter than WORKER_TIMEOUT (${formatDuration(c.workerTimeoutMs)})`);
    }
    if (c.retryBackoffBaseMs > c.retryBackoffMaxMs) {
      problems.push("RETRY_BACKOFF_BASE must not exceed RETRY_BACKOFF_MAX");
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  return Object.freeze(out) as TaskorchConfig;
}

/** Markdown table of every setting, for docs/configuration.md. */
export function renderConfigTable(): string {
  const rows = Object.values(SETTINGS).map((s) => `| \`${s.env}\` | ${s.default === undefined ? "—" : `\`${s.default}\``} | ${s.description} |`);
  return ["| Variable | Default | Description |", "|---|---|---|", ...rows].join("\n");
}

