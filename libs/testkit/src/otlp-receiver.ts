import { fileURLToPath } from "node:url";
import { loadPackageDefinition, Server, ServerCredentials, type GrpcObject, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

const PROTO_ROOT = fileURLToPath(new URL("../protos/", import.meta.url));

/** One received span, flattened. Ids are lower-case hex as in W3C traceparent. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  attributes: Record<string, unknown>;
  events: string[];
  statusCode: string;
  statusMessage: string;
}

export interface OtlpReceiver {
  endpoint: string;
  spans: ReceivedSpan[];
  close(): Promise<void>;
}

interface KeyValue {
  key: string;
  value?: Record<string, unknown>;
}

function anyValue(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  const key = v.value as string | undefined;
  if (key === "int_value") return Number(v[key]);
  return key ? v[key] : undefined;
}

function attrs(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

const hex = (b: Buffer | undefined) => (b ? Buffer.from(b).toString("hex") : "");

/**
 * A real OTLP/gRPC trace receiver (the collector's TraceService, as Jaeger implements it) for
 * tests: exporters send to it over the network exactly as they would to Jaeger.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const def = loadSync("opentelemetry/proto/collector/trace/v1/trace_service.proto", {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    oneofs: true,
  });
  const pkg = loadPackageDefinition(def) as unknown as { opentelemetry: { proto: { collector: { trace: { v1: GrpcObject } } } } };
  const service = (pkg.opentelemetry.proto.collector.trace.v1.TraceService as ServiceClientConstructor).service;
  const spans: ReceivedSpan[] = [];
  const server = new Server();
  server.addService(service, {
    Export: (call: { request: { resource_spans: Array<{ resource?: { attributes: KeyValue[] }; scope_spans: Array<{ spans: Array<Record<string, unknown>> }> }> } }, cb: (err: null, res: object) => void) => {
      for (const rs of call.request.resource_spans) {
        const svc = String(attrs(rs.resource?.attributes)["service.name"] ?? "");
        for (const ss of rs.scope_spans) {
          for (const s of ss.spans) {
            const status = (s.status ?? {}) as { code?: string; message?: string };
            spans.push({
              service: svc,
              traceId: hex(s.trace_id as Buffer),
              spanId: hex(s.span_id as Buffer),
              parentSpanId: hex(s.parent_span_id as Buffer),
              name: String(s.name),
              kind: String(s.kind),
              attributes: attrs(s.attributes as KeyValue[]),
              events: ((s.events ?? []) as Array<{ name: string }>).map((e) => e.name),
              statusCode: status.code ?? "STATUS_CODE_UNSET",
              statusMessage: status.message ?? "",
            });
          }
        }
      }
      cb(null, {});
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
