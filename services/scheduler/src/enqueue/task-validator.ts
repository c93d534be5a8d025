import {
  checkQueueName,
  checkTaskType,
  InvalidArgumentError,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  newTaskId,
  type TaskSpec,
} from "@taskorch/domain";
import type { EnqueueTaskRequest } from "@taskorch/proto";

export interface TaskValidatorConfig {
  defaultMaxAttempts: number;
  maxPayloadBytes: number;
  /** What sets maxPayloadBytes, for the error message (default MAX_PAYLOAD_BYTES). */
  payloadLimitName?: string;
  /** MAX_TYPE_LENGTH (default and ceiling: the domain's 128). */
  maxTypeLength?: number;
  /** MAX_QUEUE_LENGTH (default and ceiling: 64). */
  maxQueueLength?: number;
  /** MAX_IDEMPOTENCY_KEY_LENGTH (default and ceiling: 255). */
  maxIdempotencyKeyLength?: number;
}

/** Throws INVALID_ARGUMENT naming the limit when `value` is longer than `max` characters. */
export function checkLength(field: string, value: string, max: number, setting: string): void {
  if (value.length > max) throw new InvalidArgumentError(field, `is ${value.length} characters; the limit is ${max} (${setting})`);
}

const MAX_DELAY_MS = 366 * 86_400_000;
const MAX_TIMEOUT_MS = 7 * 86_400_000;

function durationMs(field: string, d: { seconds: number; nanos: number } | undefined, max: number): number | null {
  if (d === undefined) return null;
  const ms = d.seconds * 1000 + Math.round(d.nanos / 1e6);
  if (!Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError(field, "must not be negative");
  if (ms > max) throw new InvalidArgumentError(field, `must be at most ${max / 86_400_000} days`);
  return ms;
}

/**
 * Checks one EnqueueTaskRequest and applies defaults. `field` prefixes names in messages so a batch
 * error says which entry is wrong ("tasks[3].queue: ...").
 */
export function validateEnqueue(req: EnqueueTaskRequest, config: TaskValidatorConfig, field = ""): TaskSpec {
  const f = (name: string) => `${field}${name}`;
  checkLength(f("type"), req.type, config.maxTypeLength ?? 128, "MAX_TYPE_LENGTH");
  checkLength(f("queue"), req.queue, config.maxQueueLength ?? 64, "MAX_QUEUE_LENGTH");
  const type = checkTaskType(f("type"), req.type);
  const queue = checkQueueName(f("queue"), req.queue === "" ? "default" : req.queue);
  const payloadJson = JSON.stringify(req.payload ?? null);
  const payloadBytes = Buffer.byteLength(payloadJson);
  if (payloadBytes > config.maxPayloadBytes) {
    throw new InvalidArgumentError(f("payload"), `is ${payloadBytes} bytes of JSON; the limit is ${config.maxPayloadBytes} bytes (${config.payloadLimitName ?? "MAX_PAYLOAD_BYTES"})`);
  }
  if (req.priority < -100 || req.priority > 100) throw new InvalidArgumentError(f("priority"), `must be from -100 to 100, got ${req.priority}`);
  const maxAttempts = req.maxAttempts ?? config.defaultMaxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
    throw new InvalidArgumentError(f("max_attempts"), `must be from 1 to 100 (omit it for the default ${config.defaultMaxAttempts}), got ${maxAttempts}`);
  }
  if (req.runAt !== undefined && req.delay !== undefined) {
    throw new InvalidArgumentError(f("run_at"), "give run_at or delay, not both");
  }
  const delayMs = durationMs(f("delay"), req.delay, MAX_DELAY_MS) ?? 0;
  const timeoutMs = durationMs(f("timeout"), req.timeout, MAX_TIMEOUT_MS);
  if (timeoutMs === 0) throw new InvalidArgumentError(f("timeout"), "must be positive (omit it for the worker default)");
  if (req.runAt !== undefined && Number.isNaN(req.runAt.getTime())) throw new InvalidArgumentError(f("run_at"), "is not a valid timestamp");
  const key = req.idempotencyKey;
  checkLength(f("idempotency_key"), key, Math.min(config.maxIdempotencyKeyLength ?? MAX_IDEMPOTENCY_KEY_LENGTH, MAX_IDEMPOTENCY_KEY_LENGTH), "MAX_IDEMPOTENCY_KEY_LENGTH");
  return {
    id: newTaskId(),
    type,
    queue,
    payloadJson,
    priority: req.priority,
    maxAttempts,
    runAt: req.runAt ?? null,
    delayMs,
    timeoutMs,
    idempotencyKey: key === "" ? null : key,
    traceparent: null,
    groupId: null,
  };
}
