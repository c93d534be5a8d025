export { createWorkerApp, type WorkerApp } from "./app.js";
export { registerExampleHandlers } from "./examples.js";
