export { createSchedulerApp, DEFAULT_SCHEDULER_PORT, type SchedulerApp } from "./app.js";
export { validateEnqueue, type TaskValidatorConfig } from "./enqueue/task-validator.js";
