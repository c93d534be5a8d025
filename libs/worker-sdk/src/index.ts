/**
 * taskorch worker SDK.
 *
 * ```ts
 * const worker = new Worker({ nc, natsPrefix: "taskorch", workerId, queues: ["default"], poolSize: 10, ... });
 * worker.registerHandler("email.send", async ({ payload, signal }) => sendEmail(payload, { signal }));
 * await worker.start();
 * ```
 */
export { Worker, type WorkerConfig } from "./worker.js";
export { NonRetryableError, type TaskContext, type TaskHandlerFunc } from "./handler.js";
export { Semaphore } from "./semaphore.js";
