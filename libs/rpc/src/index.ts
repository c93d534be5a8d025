export { mapError, toServiceError, type MappedStatus } from "./status.js";
export { unary, type AsyncUnaryHandler } from "./unary.js";
export { startGrpcServer, type GrpcServer, type GrpcServerConfig, type GrpcServiceBinding } from "./server.js";
export { addReflection, REFLECTION_V1, REFLECTION_V1ALPHA, type ReflectionOptions } from "./reflection.js";
export { invokeViaReflection, listServicesViaReflection, ReflectionClient, ReflectionError, type InvokeOptions } from "./reflection-client.js";
export {
  ANONYMOUS,
  assertQueueAccess,
  authInterceptor,
  checkQueue,
  hasPermission,
  isOpenMethod,
  isQueueLimited,
  QUEUE_SCOPED_METHODS,
  MALFORMED_REQUEST,
  METHOD_PERMISSIONS,
  parseTokensFile,
  permissionFor,
  PERMISSIONS,
  principalOf,
  TokenStore,
  tolerantDefinition,
  type AuthInterceptorConfig,
  type Permission,
  type Principal,
  type TokenStoreConfig,
} from "./auth.js";
export { grpcSecurityFromSettings, isLoopbackHost, RotatingCertificateProvider, serverCredentialsFor, type GrpcTlsConfig } from "./tls.js";
export { grpcClientMetricsInterceptor } from "./client-metrics.js";
