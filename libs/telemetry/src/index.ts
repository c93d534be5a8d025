export { registry, metrics, type Metrics } from "./metrics.js";
export { createLogger, type Logger, type LoggerConfig } from "./logger.js";
export { FailureLog, type FailureLogConfig } from "./failure-log.js";
export { startHealthServer, type HealthCheck, type HealthServer, type HealthServerConfig } from "./health-server.js";
export { startTracing, shutdownTracing, tracingEndpoint } from "./tracing.js";
export { ATTR, tracer, traceparentOf, contextFromTraceparent, failSpan, activeTraceIds, SpanKind, SpanStatusCode, context, trace, type Context, type Span } from "./spans.js";
