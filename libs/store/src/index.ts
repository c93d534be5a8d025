export { createPool, DEFAULT_QUERY_TIMEOUT_MS, inTransaction, isQueryTimeout, pingDatabase, type Pool, type PoolClient, type PoolConfig } from "./pool.js";
export { migrate, type MigrationResult } from "./migrate.js";
export * from "./task-store.js";
export * from "./worker-store.js";
export * from "./leader-store.js";
export * from "./schedule-store.js";
