export * from "./env.js";
export * from "./process.js";
export * from "./clients.js";
export * from "./metrics.js";
export * from "./otlp-receiver.js";
export * from "./pki.js";
export * from "./nats-server.js";
export * from "./postgres-server.js";
