/**
 * @taskorch/client — the typed Node client of taskorch.
 *
 * @example
 * import { TaskorchClient } from "@taskorch/client";
 * const client = new TaskorchClient({ address: "127.0.0.1:50051" });
 * const task = await client.enqueue("example.noop", { hello: "world" });
 * const done = await client.wait(task.id, { timeoutMs: 30_000 });
 * console.log(done.status, done.result); // "succeeded" { hello: "world" }
 * client.close();
 */
export {
  TaskorchClient,
  defaultCoordinatorAddress,
  type CallOptions,
  type EnqueueItem,
  type EnqueueOptions,
  type EnqueuedGroup,
  type EnqueuedTask,
  type GroupPage,
  type GroupPageOptions,
  type InvokeFunc,
  type ListFilter,
  type TaskorchClientOptions,
  type TaskPage,
  type TlsOptions,
  type WaitedGroup,
  type WaitedTask,
  type WaitOptions,
} from "./client.js";
export {
  isTaskStatus,
  type CatchupPolicy,
  type Group,
  type Leader,
  type Limits,
  type OverlapPolicy,
  type QueueLimit,
  type RateLimit,
  type Schedule,
  type ScheduleDefinition,
  type ScheduleTask,
  type Task,
  type TaskStatus,
  type WorkerInfo,
} from "./convert.js";
export {
  AbortedError,
  AlreadyExistsError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidRequestError,
  isServiceError,
  PermissionDeniedError,
  ResourceExhaustedError,
  statusName,
  TaskNotFoundError,
  TaskorchClientError,
  toClientError,
  UnauthenticatedError,
  UnavailableError,
  type TaskorchClientErrorOptions,
} from "./errors.js";
export { backoffMs, DEFAULT_RETRY_POLICY, RETRYABLE_CODES, type RetryPolicy } from "./retry.js";
export { TASK_STATUSES, isTerminal } from "@taskorch/domain";
