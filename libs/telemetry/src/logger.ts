import { pino, type Logger } from "pino";
import { activeTraceIds } from "./spans.js";

export type { Logger };

export interface LoggerConfig {
  service: string;
  nodeId: string;
  debug: boolean;
}

/** JSON logs (pino) with snake_case fields; every line names the service and the process id. */
export function createLogger(config: LoggerConfig): Logger {
  return pino({
    level: config.debug ? "debug" : "info",
    base: { service: config.service, worker_id: config.nodeId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Lines written inside a traced operation carry its ids, so logs and Jaeger join up.
    mixin: () => activeTraceIds(),
  });
}
