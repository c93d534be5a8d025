import type { DispatchItem } from "@taskorch/domain";
import { DispatchMessage } from "@taskorch/proto";

const decoder = new TextDecoder();

export function dispatchMessageOf(item: DispatchItem, traceparent = ""): DispatchMessage {
  return {
    taskId: item.taskId,
    attempt: item.attempt,
    type: item.type,
    queue: item.queue,
    payloadJson: Buffer.from(item.payloadJson),
    timeout: item.timeoutMs === null ? undefined : { seconds: Math.floor(item.timeoutMs / 1000), nanos: (item.timeoutMs % 1000) * 1_000_000 },
    maxAttempts: item.maxAttempts,
    traceparent,
  };
}

export function encodeDispatch(item: DispatchItem): Uint8Array {
  return DispatchMessage.encode(dispatchMessageOf(item)).finish();
}

export function jsonFromBytes(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function durationToMs(d: { seconds: number; nanos: number } | undefined): number | null {
  return d === undefined ? null : d.seconds * 1000 + Math.round(d.nanos / 1_000_000);
}
