import { pino, type Logger } from "pino";
import { activeTraceIds } from "./spans.js";

export type { Logger };

export interface LoggerConfig {
  service: string;
  nodeId: string;
  debug: boolean;
  /** Human-readable colored lines instead of JSON (a person at a terminal). */
  pretty?: boolean;
}

/**
 * JSON logs (pino) with snake_case fields; every line names the service and the process id, and
 * lines written inside a traced operation carry trace_id/span_id. Pretty lines for a terminal.
 */
export function createLogger(config: LoggerConfig): Logger {
  return pino({
    level: config.debug ? "debug" : "info",
    base: { service: config.service, worker_id: config.nodeId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Lines written inside a traced operation carry its ids, so logs and Jaeger join up.
    mixin: () => activeTraceIds(),
    ...(config.pretty ? { transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" } } } : {}),
  });
}
