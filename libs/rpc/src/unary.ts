import { status, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { metrics, type Logger } from "@taskorch/telemetry";
import { mapError, toServiceError } from "./status.js";

export type AsyncUnaryHandler<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;

/** Names of a method for metrics: `/taskorch.v1.SchedulerService/EnqueueTask` -> service, method. */
function splitPath(path: string): [string, string] {
  const [, service = "unknown", method = "unknown"] = path.split("/");
  return [service, method];
}

/**
 * Adapts an async handler to grpc-js: maps thrown errors to statuses, masks unexpected ones (and logs
 * them), and records the conventional grpc_server_* metrics.
 */
export function unary<Req, Res>(
  logger: Logger,
  handler: AsyncUnaryHandler<Req, Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    const [grpcService, grpcMethod] = splitPath(call.getPath());
    const labels = { grpc_type: "unary", grpc_service: grpcService, grpc_method: grpcMethod };
    metrics.grpcServerStarted.inc(labels);
    const stopTimer = metrics.grpcServerHandling.startTimer(labels);
    handler(call.request, call).then(
      (response) => {
        stopTimer();
        metrics.grpcServerHandled.inc({ ...labels, grpc_code: status[status.OK] });
        callback(null, response);
      },
      (err: unknown) => {
        stopTimer();
        const mapped = mapError(err);
        metrics.grpcServerHandled.inc({ ...labels, grpc_code: status[mapped.code] });
        if (mapped.unexpected) logger.error({ err, grpc_method: grpcMethod }, "Rpc: unexpected error");
        else logger.debug({ grpc_method: grpcMethod, grpc_code: status[mapped.code], message: mapped.message }, "Rpc: request rejected");
        callback(toServiceError(mapped));
      },
    );
  };
}
