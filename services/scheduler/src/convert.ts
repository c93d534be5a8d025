import type { TaskRecord, TaskStatus } from "@taskorch/domain";
import { TaskStatus as ProtoStatus, type Task } from "@taskorch/proto";

const TO_PROTO: Record<TaskStatus, ProtoStatus> = {
  pending: ProtoStatus.TASK_STATUS_PENDING,
  queued: ProtoStatus.TASK_STATUS_QUEUED,
  running: ProtoStatus.TASK_STATUS_RUNNING,
  succeeded: ProtoStatus.TASK_STATUS_SUCCEEDED,
  dead_letter: ProtoStatus.TASK_STATUS_DEAD_LETTER,
  canceled: ProtoStatus.TASK_STATUS_CANCELED,
};

const FROM_PROTO = new Map<ProtoStatus, TaskStatus>(Object.entries(TO_PROTO).map(([k, v]) => [v, k as TaskStatus]));

export function statusFromProto(s: ProtoStatus): TaskStatus | null {
  return FROM_PROTO.get(s) ?? null;
}

function traceIdOf(traceparent: string | null): string {
  const parts = traceparent?.split("-");
  return parts && parts.length >= 3 ? parts[1]! : "";
}

/** Store record -> wire message. JSON columns are parsed here, at the edge, and nowhere else. */
export function toProtoTask(t: TaskRecord): Task {
  return {
    id: t.id,
    type: t.type,
    queue: t.queue,
    payload: JSON.parse(t.payloadJson) as unknown,
    priority: t.priority,
    status: TO_PROTO[t.status],
    attempts: t.attempts,
    maxAttempts: t.maxAttempts,
    runAt: t.runAt,
    timeout: t.timeoutMs === null ? undefined : { seconds: Math.floor(t.timeoutMs / 1000), nanos: (t.timeoutMs % 1000) * 1_000_000 },
    idempotencyKey: t.idempotencyKey ?? "",
    result: t.resultJson === null ? undefined : (JSON.parse(t.resultJson) as unknown),
    lastError: t.lastError ?? "",
    workerId: t.workerId ?? "",
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    startedAt: t.startedAt ?? undefined,
    finishedAt: t.finishedAt ?? undefined,
    traceId: traceIdOf(t.traceparent),
    groupId: t.groupId ?? "",
  };
}
