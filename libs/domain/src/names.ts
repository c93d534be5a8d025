import { InvalidArgumentError } from "./errors.js";

/**
 * Name rules. A queue name becomes one NATS subject token (`<prefix>.dispatch.<queue>`), so it may
 * not contain `.`, `*`, `>` or whitespace; a type is only a label and may use dots.
 */
export const QUEUE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const TASK_TYPE = /^[A-Za-z0-9_.:-]{1,128}$/;
export const SUBJECT_PREFIX = /^[A-Za-z0-9_-]{1,32}$/;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export function checkQueueName(field: string, value: string): string {
  if (!QUEUE_NAME.test(value)) {
    throw new InvalidArgumentError(
      field,
      `queue name ${JSON.stringify(value.slice(0, 80))} is invalid: use 1-64 letters, digits, '_' or '-' (no '.', '*', '>' or spaces, which would break the NATS subject)`,
    );
  }
  return value;
}

export function checkTaskType(field: string, value: string): string {
  if (value === "") throw new InvalidArgumentError(field, "task type is required, e.g. \"email.send\"");
  if (!TASK_TYPE.test(value)) {
    throw new InvalidArgumentError(
      field,
      `task type ${JSON.stringify(value.slice(0, 80))} is invalid: use 1-128 letters, digits, '.', '_', ':' or '-'`,
    );
  }
  return value;
}
