export * from "./errors.js";
export * from "./task.js";
export * from "./names.js";
export * from "./duration.js";
export * from "./backoff.js";
export * from "./ids.js";
export const VERSION = "0.1.0";
export * from "./group-committer.js";
export * from "./schedule.js";
