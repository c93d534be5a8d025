import { InterceptingCall, status, type Interceptor } from "@grpc/grpc-js";
import { metrics } from "@taskorch/telemetry";

/**
 * A grpc-js client interceptor recording the conventional client metrics (grpc_client_started_total,
 * grpc_client_handled_total{grpc_code}, grpc_client_handling_seconds) for every call it sees.
 */
export const grpcClientMetricsInterceptor: Interceptor = (options, nextCall) => {
  const [, grpcService = "unknown", grpcMethod = "unknown"] = options.method_definition.path.split("/");
  const labels = { grpc_type: options.method_definition.requestStream || options.method_definition.responseStream ? "stream" : "unary", grpc_service: grpcService, grpc_method: grpcMethod };
  metrics.grpcClientStarted.inc(labels);
  const stopTimer = metrics.grpcClientHandling.startTimer(labels);
  return new InterceptingCall(nextCall(options), {
    start: (metadata, _listener, next) => {
      next(metadata, {
        onReceiveStatus: (st, nextStatus) => {
          stopTimer();
          metrics.grpcClientHandled.inc({ ...labels, grpc_code: status[st.code] ?? String(st.code) });
          nextStatus(st);
        },
      });
    },
  });
};
