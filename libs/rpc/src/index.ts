export { mapError, toServiceError, type MappedStatus } from "./status.js";
export { unary, type AsyncUnaryHandler } from "./unary.js";
export { startGrpcServer, type GrpcServer, type GrpcServerConfig, type GrpcServiceBinding } from "./server.js";
