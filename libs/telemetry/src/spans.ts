import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";

export { SpanKind, SpanStatusCode, context, trace, type Context, type Span };

/** Span attribute keys, declared once (BullMQ's telemetry-attributes). */
export const ATTR = {
  taskId: "taskorch.task.id",
  taskType: "taskorch.task.type",
  taskQueue: "taskorch.task.queue",
  attempt: "taskorch.task.attempt",
  status: "taskorch.task.status",
  workerId: "taskorch.worker.id",
  messagingSystem: "messaging.system",
  destination: "messaging.destination.name",
} as const;

export const tracer = trace.getTracer("taskorch");

const recordSetter: TextMapSetter<Record<string, string>> = { set: (c, k, v) => void (c[k] = v) };
const recordGetter: TextMapGetter<Record<string, string>> = { get: (c, k) => c[k], keys: (c) => Object.keys(c) };

/** The W3C traceparent of a context (the active one by default), or null when not traced. */
export function traceparentOf(ctx: Context = context.active()): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier, recordSetter);
  return carrier.traceparent ?? null;
}

/** A context whose parent is the given traceparent (ROOT when null or invalid). */
export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent }, recordGetter);
}


/** Marks a span failed with the error's message. */
export function failSpan(span: Span, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  if (err instanceof Error) span.recordException(err);
}

/** trace_id/span_id of the active span, for log lines. */
export function activeTraceIds(): { trace_id: string; span_id: string } | Record<string, never> {
  const span = trace.getSpan(context.active());
  const sc = span?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}
