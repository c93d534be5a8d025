export { createCoordinatorApp, DEFAULT_COORDINATOR_PORT, type CoordinatorApp, type CoordinatorOptions } from "./app.js";
