/**
 * Import this first (`import "@taskorch/telemetry/preload"` at the top of an entry point, or
 * `node --import @taskorch/telemetry/preload`): it starts tracing before anything loads grpc-js.
 * The service name defaults to `taskorch-<command>` from the command line.
 */
import { startTracing } from "./tracing.js";

const command = process.argv[2] ?? "taskorch";
startTracing(command.startsWith("taskorch") ? command : `taskorch-${command}`);
