/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured (the standard
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SERVICE_NAME,
 * OTEL_TRACES_SAMPLER and the other OTEL_* variables are honoured by the SDK). Spans go over
 * OTLP/gRPC, e.g. to Jaeger. @opentelemetry/instrumentation-grpc traces every gRPC call; taskorch's
 * own spans follow a task through NATS (see spans.ts).
 */
import { createRequire } from "node:module";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { GrpcInstrumentation } from "@opentelemetry/instrumentation-grpc";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

let provider: NodeTracerProvider | undefined;

export function tracingEndpoint(env: Record<string, string | undefined>): string | undefined {
  if ((env.OTEL_SDK_DISABLED ?? "").toLowerCase() === "true") return undefined;
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
}

/**
 * Starts tracing when an endpoint is set; returns whether it did. Must run before @grpc/grpc-js is
 * first imported, so the instrumentation can patch it (the preload entry does this).
 */
export function startTracing(defaultServiceName: string, env: Record<string, string | undefined> = process.env): boolean {
  if (provider || !tracingEndpoint(env)) return provider !== undefined;
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || defaultServiceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 })],
  });
  provider.register();
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new GrpcInstrumentation()] });
  // Load grpc-js through require now, while the hook is in place: later ESM imports of this
  // CommonJS module then see the patched exports.
  createRequire(import.meta.url)("@grpc/grpc-js");
  return true;
}

/** Exports pending spans and stops tracing (at shutdown). */
export async function shutdownTracing(): Promise<void> {
  await provider?.shutdown().catch(() => undefined);
  provider = undefined;
}
