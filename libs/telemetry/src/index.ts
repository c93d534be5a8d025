export { registry, metrics, type Metrics } from "./metrics.js";
export { createLogger, type Logger, type LoggerConfig } from "./logger.js";
export { startHealthServer, type HealthCheck, type HealthServer, type HealthServerConfig } from "./health-server.js";
