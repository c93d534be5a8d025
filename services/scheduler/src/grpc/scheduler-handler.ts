import {
  FailedPreconditionError,
  newTaskId,
  toDispatchItem,
  InvalidArgumentError,
  isTerminal,
  isUuid,
  NotFoundError,
  type TaskRecord,
} from "@taskorch/domain";
import {
  CancelNotice,
  SchedulerServiceService,
  type CancelTaskRequest,
  type CancelTaskResponse,
  type EnqueueTaskRequest,
  type EnqueueTaskResponse,
  type EnqueueTasksRequest,
  type EnqueueTasksResponse,
  type GetTaskRequest,
  type GetTaskResponse,
  type ListTasksRequest,
  type ListTasksResponse,
  type RetryTaskRequest,
  type RetryTaskResponse,
  type WaitTaskRequest,
  type WaitTaskResponse,
} from "@taskorch/proto";
import { assertQueueAccess, isQueueLimited, unary, type GrpcServiceBinding } from "@taskorch/rpc";
import { cancelTask, getTask, listTasks, retryTask, type Pool } from "@taskorch/store";
import { ATTR, trace, traceparentOf, context, type Logger } from "@taskorch/telemetry";
import type { NatsConnection, Subjects } from "@taskorch/bus";
import { statusFromProto, toProtoTask } from "../convert.js";
import type { Enqueuer } from "../enqueue/enqueuer.js";
import type { DispatchQueue } from "../enqueue/dispatch-queue.js";
import { checkLength, validateEnqueue, type TaskValidatorConfig } from "../enqueue/task-validator.js";
import type { TaskWaiter } from "../wait/task-waiter.js";
import { groupHandlers } from "./group-handlers.js";
import { limitHandlers } from "./limit-handlers.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import { taskProjection } from "./read-mask.js";
import { openWaitWindow } from "./wait-window.js";
import { scheduleHandlers } from "./schedule-handlers.js";

export interface SchedulerHandlerDeps {
  pool: Pool;
  nc: NatsConnection;
  subjects: Subjects;
  enqueuer: Enqueuer;
  dispatchQueue: DispatchQueue;
  waiter: TaskWaiter;
  validator: TaskValidatorConfig;
  /** MAX_BATCH_SIZE and MAX_PAGE_SIZE (defaults MAX_BATCH and 1000). */
  limits?: { maxBatchSize: number; maxPageSize: number };
  /** Wakes the leader's Admitter (limits changed). */
  capacityFunc: () => void;
  logger: Logger;
}

export const MAX_BATCH = 10_000;
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
/**
 * A ListTasks page ends before its payloads, results and errors pass this (it holds at least one
 * task), and an EnqueueTasks answer may not return more: below the 4 MiB that gRPC clients
 * (grpc-js, grpc-go, grpcurl) accept by default.
 */
const MAX_PAGE_BYTES = 3 * 1024 * 1024;
/** Re-read the task this often while waiting, in case a finished event was lost. */
const WAIT_RECHECK_MS = 5000;

/** Whether a read mask (none: every field) returns a field that can be big: payload, result, last_error. */
function withBulkyFields(readMask: readonly string[] | undefined): boolean {
  return readMask === undefined || readMask.length === 0 || readMask.some((path) => path === "payload" || path === "result" || path === "last_error");
}

function requireId(id: string): string {
  if (id === "") throw new InvalidArgumentError("id", "task id is required");
  if (!isUuid(id)) throw new InvalidArgumentError("id", `${JSON.stringify(id.slice(0, 80))} is not a task id (expected a UUID)`);
  return id.toLowerCase();
}

async function mustGet(pool: Pool, id: string): Promise<TaskRecord> {
  const task = await getTask(pool, id);
  if (!task) throw new NotFoundError(`task ${id} not found`);
  return task;
}

/** SchedulerService: thin handlers that validate, then call the store/enqueuer. */
export function schedulerService(deps: SchedulerHandlerDeps): GrpcServiceBinding {
  const { pool, logger } = deps;
  const maxBatch = deps.limits?.maxBatchSize ?? MAX_BATCH;
  const maxPageSize = deps.limits?.maxPageSize ?? MAX_PAGE_SIZE;
  /** Reads a task and checks that the caller's token may act on its queue (queue-limited tokens). */
  const getVisible = async (call: Parameters<typeof assertQueueAccess>[0], id: string, what: string): Promise<TaskRecord> => {
    const task = await mustGet(pool, id);
    assertQueueAccess(call, task.queue, what);
    return task;
  };
  return {
    name: "taskorch.v1.SchedulerService",
    definition: SchedulerServiceService,
    implementation: {
      ...groupHandlers(pool, deps.waiter, maxPageSize, logger),
      ...limitHandlers(pool, deps.capacityFunc, logger),
      ...scheduleHandlers(pool, deps.enqueuer, deps.validator, logger),
      enqueueTask: unary<EnqueueTaskRequest, EnqueueTaskResponse>(logger, async (req) => {
        const spec = { ...validateEnqueue(req, deps.validator), traceparent: traceparentOf() };
        const [result] = await deps.enqueuer.enqueue([spec]);
        trace.getSpan(context.active())?.setAttributes({ [ATTR.taskId]: result!.task.id, [ATTR.taskType]: spec.type, [ATTR.taskQueue]: spec.queue });
        return { task: toProtoTask(result!.task), deduplicated: result!.deduplicated };
      }),

      enqueueTasks: unary<EnqueueTasksRequest, EnqueueTasksResponse>(logger, async (req) => {
        if (req.tasks.length === 0) throw new InvalidArgumentError("tasks", "the batch is empty; send at least one task");
        if (req.tasks.length > maxBatch) throw new InvalidArgumentError("tasks", `the batch has ${req.tasks.length} tasks; the limit is ${maxBatch} (MAX_BATCH_SIZE)`);
        const project = taskProjection(req.readMask);
        const traceparent = traceparentOf();
        const groupId = newTaskId();
        const specs = req.tasks.map((t, i) => ({ ...validateEnqueue(t, deps.validator, `tasks[${i}].`), traceparent, groupId }));
        // Refused before anything is written: committed, then an answer the client cannot take,
        // the caller would see an error for tasks that exist and send them again.
        const answerBytes = withBulkyFields(req.readMask) ? specs.reduce((sum, s) => sum + Buffer.byteLength(s.payloadJson), 0) : 0;
        if (answerBytes > MAX_PAGE_BYTES) {
          throw new InvalidArgumentError(
            "read_mask",
            `the answer would return ${answerBytes} bytes of payloads, more than the 4 MiB gRPC clients accept by default; set read_mask to the fields you need (e.g. paths ["id"]) or send smaller batches`,
          );
        }
        const results = await deps.enqueuer.enqueue(specs);
        return { tasks: results.map((r) => project(toProtoTask(r.task))), groupId };
      }),

      getTask: unary<GetTaskRequest, GetTaskResponse>(logger, async (req, call) => ({ task: toProtoTask(await getVisible(call, requireId(req.id), "GetTask")) })),

      listTasks: unary<ListTasksRequest, ListTasksResponse>(logger, async (req) => {
        const pageSize = req.pageSize === 0 ? DEFAULT_PAGE_SIZE : req.pageSize;
        if (pageSize < 1 || pageSize > maxPageSize) throw new InvalidArgumentError("page_size", `must be from 1 to ${maxPageSize} (MAX_PAGE_SIZE), got ${req.pageSize}`);
        checkLength("type", req.type, deps.validator.maxTypeLength ?? 128, "MAX_TYPE_LENGTH");
        checkLength("queue", req.queue, deps.validator.maxQueueLength ?? 64, "MAX_QUEUE_LENGTH");
        checkLength("page_token", req.pageToken, 256, "page tokens are short");
        const status = statusFromProto(req.status);
        if (status === null && req.status !== 0) throw new InvalidArgumentError("status", `unknown status ${req.status}`);
        const project = taskProjection(req.readMask);
        const page = await listTasks(pool, {
          status,
          type: req.type === "" ? null : req.type,
          queue: req.queue === "" ? null : req.queue,
          afterId: req.pageToken === "" ? null : decodePageToken(req.pageToken),
          pageSize,
          // Only the fields that can be big count (a mask without them makes small pages anyway).
          maxBytes: withBulkyFields(req.readMask) ? MAX_PAGE_BYTES : undefined,
        });
        const last = page.tasks[page.tasks.length - 1];
        return {
          tasks: page.tasks.map((t) => project(toProtoTask(t))),
          nextPageToken: page.more && last ? encodePageToken(last.id) : "",
        };
      }),

      cancelTask: unary<CancelTaskRequest, CancelTaskResponse>(logger, async (req, call) => {
        const id = requireId(req.id);
        if (isQueueLimited(call)) await getVisible(call, id, "CancelTask");
        const reason = req.reason.trim() === "" ? "canceled by request" : `canceled: ${req.reason.slice(0, 1024)}`;
        const changed = await cancelTask(pool, id, reason);
        if (!changed) {
          const task = await mustGet(pool, id);
          throw new FailedPreconditionError(`task ${id} is already ${task.status}; only pending, queued or running tasks can be canceled`);
        }
        if (changed.previousStatus === "running") {
          deps.nc.publish(deps.subjects.cancels, CancelNotice.encode({ taskId: id, attempt: changed.task.attempts }).finish());
        }
        deps.waiter.announce([id]);
        return { task: toProtoTask(changed.task) };
      }),

      retryTask: unary<RetryTaskRequest, RetryTaskResponse>(logger, async (req, call) => {
        const id = requireId(req.id);
        if (isQueueLimited(call)) await getVisible(call, id, "RetryTask");
        const task = await retryTask(pool, id);
        if (!task) {
          const current = await mustGet(pool, id);
          throw new FailedPreconditionError(`task ${id} is ${current.status}; only dead_letter or canceled tasks can be retried`);
        }
        deps.dispatchQueue.push([toDispatchItem(task)]);
        return { task: toProtoTask(task) };
      }),

      waitTask: unary<WaitTaskRequest, WaitTaskResponse>(logger, async (req, call) => {
        const id = requireId(req.id);
        const { deadline, signal } = openWaitWindow(req.timeout, call);
        // Listening before the first read: a finish committed after it is announced to us.
        const release = await deps.waiter.listen();
        try {
          for (;;) {
            const task = await getVisible(call, id, "WaitTask");
            const remaining = deadline - Date.now();
            if (isTerminal(task.status) || remaining <= 0 || signal.aborted) {
              return { task: toProtoTask(task), timedOut: !isTerminal(task.status) };
            }
            await deps.waiter.waitForEvent(id, Math.min(remaining, WAIT_RECHECK_MS), signal);
          }
        } finally {
          release();
        }
      }),
    },
  };
}
