/**
 * Flag parsing for the operator commands: node:util parseArgs plus validators whose messages name
 * the flag and what it accepts. A UsageError exits 2; everything else the commands throw exits 1.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { isTaskStatus, TASK_STATUSES, type TaskStatus } from "@taskorch/client";
import { parseDuration } from "@taskorch/domain";

/** A mistake on the command line (exit code 2); the message names the flag. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;
export type FlagValues = Record<string, string | boolean | undefined>;

/** Flags every command takes. */
export const GLOBAL_OPTIONS = {
  address: { type: "string" },
  "coordinator-address": { type: "string" },
  json: { type: "boolean" },
  timeout: { type: "string" },
  token: { type: "string" },
  tls: { type: "boolean" },
  "ca-file": { type: "string" },
  "cert-file": { type: "string" },
  "key-file": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionsConfig;

export const GLOBAL_HELP = `Global flags:
  --address HOST:PORT              scheduler (env TASKORCH_ADDRESS, default 127.0.0.1:50051)
  --coordinator-address HOST:PORT  coordinator (env TASKORCH_COORDINATOR_ADDRESS, default 127.0.0.1:50052)
  --timeout DURATION               deadline of each call, e.g. 10s (default 10s; enqueue and wait give it their own meaning)
  --json                           machine-readable output (one JSON document on stdout)
  --token TOKEN                    bearer token (env TASKORCH_TOKEN; TASKORCH_TOKEN_FILE reads it from a file)
  --tls, --ca-file PATH            TLS with the system roots or the given CA (env TASKORCH_TLS_CA_FILE)
  --cert-file PATH --key-file PATH client certificate for mTLS (env TASKORCH_TLS_CERT_FILE/_KEY_FILE)
  -h, --help                       this help`;

export interface Parsed {
  values: FlagValues;
  positionals: string[];
}

/**
 * Parses `args` against the global flags plus the command's own. A negative number after a string
 * flag (`--priority -5`) is taken as its value, which parseArgs would otherwise reject as ambiguous.
 */
export function parseFlags(command: string, args: string[], options: OptionsConfig): Parsed {
  const all: OptionsConfig = { ...GLOBAL_OPTIONS, ...options };
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const name = a.startsWith("--") ? a.slice(2) : undefined;
    if (name !== undefined && all[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${a}=${next}`);
      i++;
    } else {
      joined.push(a);
    }
  }
  try {
    const { values, positionals } = parseArgs({ args: joined, options: all, strict: true, allowPositionals: true });
    return { values: values as FlagValues, positionals };
  } catch (err) {
    throw new UsageError(describeParseError(command, err));
  }
}

function describeParseError(command: string, err: unknown): string {
  const e = err as { code?: string; message?: string };
  const flag = /'(-{1,2}[A-Za-z0-9-]+)/.exec(e.message ?? "")?.[1];
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown flag ${flag ?? ""} (see taskorch ${command} --help)`.replace("  ", " ");
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return /does not take an argument/.test(e.message ?? "") ? `${flag} does not take a value` : `${flag} needs a value`;
    default:
      return e.message ?? String(err);
  }
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** A whole number in [min, max], or undefined when the flag is absent. */
export function intFlag(values: FlagValues, name: string, min: number, max: number): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  const n = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** A duration such as 500ms, 10s, 1m30s, in ms. */
export function durationFlag(values: FlagValues, name: string): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  const ms = parseDuration(raw);
  if (ms === undefined) throw new UsageError(`--${name} must be a duration such as 500ms, 10s or 1m30s, got ${JSON.stringify(raw)}`);
  return ms;
}

export function statusFlag(values: FlagValues, name: string): TaskStatus | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  const s = raw.trim().toLowerCase().replace(/^task_status_/, "");
  if (!isTaskStatus(s)) throw new UsageError(`--${name} must be one of ${TASK_STATUSES.join(", ")}, got ${JSON.stringify(raw)}`);
  return s;
}

/** Exactly `n` positionals, named in the message when missing or extra. */
export function positionals(p: Parsed, names: string[]): string[] {
  if (p.positionals.length < names.length) throw new UsageError(`missing ${names.slice(p.positionals.length).map((n) => `<${n}>`).join(" ")}`);
  if (p.positionals.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[names.length])}`);
  return p.positionals;
}

/** Parses JSON given on the command line, naming where it came from when it is not JSON. */
export function parseJsonArg(source: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source} must be JSON: ${(err as Error).message}`);
  }
}
