import { readFileSync } from "node:fs";
/**
 * The operator CLI: `taskorch enqueue|enqueue-batch|get|wait|group|list|cancel|retry|schedules|limits|
 * workers|leader|stats`, built on @taskorch/client. cli.ts hands argv here first; undefined means "not an operator command" so the
 * service commands (scheduler, coordinator, worker, all-in-one, help) keep working.
 *
 * Exit codes: 0 success; 1 a call failed (the gRPC status and message go to stderr) or a waited-for
 * task did not succeed; 2 a usage error naming the flag.
 */
import { TaskorchClient, TaskorchClientError } from "@taskorch/client";
import { GLOBAL_HELP, parseFlags, stringFlag, UsageError, durationFlag } from "./args.js";
import { TASK_COMMANDS, type CommandContext, type CommandSpec } from "./commands.js";
import { FLOW_COMMANDS } from "./flow-commands.js";

/** Every operator command by name, in help order. */
const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  enqueue: TASK_COMMANDS.enqueue,
  "enqueue-batch": FLOW_COMMANDS["enqueue-batch"],
  get: TASK_COMMANDS.get,
  wait: TASK_COMMANDS.wait,
  group: FLOW_COMMANDS.group,
  list: TASK_COMMANDS.list,
  cancel: TASK_COMMANDS.cancel,
  retry: TASK_COMMANDS.retry,
  schedules: FLOW_COMMANDS.schedules,
  limits: FLOW_COMMANDS.limits,
  workers: TASK_COMMANDS.workers,
  leader: TASK_COMMANDS.leader,
  stats: TASK_COMMANDS.stats,
};

export { COMMANDS as OPERATOR_COMMAND_SPECS };

/** Where an operator command reads and writes; stdin defaults to process.stdin (for --payload-file -). */
export interface OperatorIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  stdin?: NodeJS.ReadableStream;
}

/** Names runOperatorCommand handles. */
export const OPERATOR_COMMANDS: readonly string[] = Object.keys(COMMANDS);

/** The operator section of `taskorch help`. */
export const OPERATOR_USAGE = `Operator commands (talk to a running cluster; taskorch <command> --help for flags):
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(13)}  ${c.summary}`)
  .join("\n")}

${GLOBAL_HELP}`;

const DEFAULT_ADDRESS = "127.0.0.1:50051";
const DEFAULT_COORDINATOR_ADDRESS = "127.0.0.1:50052";

/**
 * Runs `taskorch <argv...>` when argv[0] is an operator command and resolves with its exit code;
 * resolves undefined for anything else. Never throws for call or usage failures (they become
 * messages on stderr and exit codes 1 and 2).
 */
export async function runOperatorCommand(argv: string[], io: OperatorIo): Promise<number | undefined> {
  const name = argv[0];
  if (name === undefined || !Object.hasOwn(COMMANDS, name)) return undefined;
  const spec = COMMANDS[name]!;
  const write = (stream: NodeJS.WritableStream) => (text: string) => void stream.write(text);
  const err = write(io.stderr);
  let client: TaskorchClient | undefined;
  try {
    const parsed = parseFlags(name, argv.slice(1), spec.options);
    const v = parsed.values;
    if (v.help) {
      io.stdout.write(`${spec.usage}\n\n${GLOBAL_HELP}\n`);
      return 0;
    }
    // enqueue and wait own --timeout (execution limit, wait time); elsewhere it is the call deadline.
    const deadlineMs = name === "enqueue" || name === "wait" ? undefined : durationFlag(v, "timeout");
    if (deadlineMs !== undefined && deadlineMs <= 0) throw new UsageError("--timeout must be more than 0");
    const caFile = stringFlag(v, "ca-file") ?? (io.env.TASKORCH_TLS_CA_FILE || undefined);
    const certFile = stringFlag(v, "cert-file") ?? (io.env.TASKORCH_TLS_CERT_FILE || undefined);
    const keyFile = stringFlag(v, "key-file") ?? (io.env.TASKORCH_TLS_KEY_FILE || undefined);
    if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError("--cert-file and --key-file go together (client certificate for mTLS)");
    // A token file keeps the secret out of `ps`; it wins over --token and TASKORCH_TOKEN.
    const tokenFile = io.env.TASKORCH_TOKEN_FILE || undefined;
    const token = tokenFile !== undefined ? readFileSync(tokenFile, "utf8").trim() : (stringFlag(v, "token") ?? (io.env.TASKORCH_TOKEN || undefined));
    const options = {
      address: stringFlag(v, "address") ?? (io.env.TASKORCH_ADDRESS || DEFAULT_ADDRESS),
      coordinatorAddress: stringFlag(v, "coordinator-address") ?? (io.env.TASKORCH_COORDINATOR_ADDRESS || DEFAULT_COORDINATOR_ADDRESS),
      token,
      tls: caFile !== undefined || certFile !== undefined ? { caFile, certFile, keyFile } : Boolean(v.tls),
    };
    const ctx: CommandContext = {
      client: () => (client ??= new TaskorchClient(options)),
      json: Boolean(v.json),
      deadlineMs,
      out: write(io.stdout),
      err,
      stdin: io.stdin ?? process.stdin,
    };
    return await spec.run(ctx, parsed);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`taskorch ${name}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof TaskorchClientError) {
      err(`taskorch ${name}: ${e.codeName}: ${e.details}${hint(e, client)}\n`);
      return 1;
    }
    err(`taskorch ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    client?.close();
  }
}

function hint(e: TaskorchClientError, client: TaskorchClient | undefined): string {
  if (e.codeName !== "UNAVAILABLE" || !client) return "";
  const where = e.method?.startsWith("Coordinator") ? `${client.coordinatorAddress} (--coordinator-address, TASKORCH_COORDINATOR_ADDRESS)` : `${client.address} (--address, TASKORCH_ADDRESS)`;
  return `\n  is taskorch running at ${where}?`;
}
