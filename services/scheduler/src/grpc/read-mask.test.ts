import { InvalidArgumentError } from "@taskorch/domain";
import { Task, TaskStatus } from "@taskorch/proto";
import { describe, expect, it } from "vitest";
import { taskProjection } from "./read-mask.js";

const full = Task.fromPartial({
  id: "0190a3f0-0000-7000-8000-000000000001",
  type: "email.send",
  queue: "mail",
  payload: { to: "a@b.c" },
  status: TaskStatus.TASK_STATUS_QUEUED,
  attempts: 1,
  maxAttempts: 5,
  runAt: new Date(1_000),
  createdAt: new Date(1_000),
  groupId: "0190a3f0-0000-7000-8000-000000000002",
});

describe("taskProjection (EnqueueTasks read_mask)", () => {
  it("keeps every field without a mask or with an empty one", () => {
    expect(taskProjection(undefined)(full)).toBe(full);
    expect(taskProjection([])(full)).toBe(full);
  });

  it("keeps only the named fields, by proto name, and leaves the rest at their defaults", () => {
    const projected = taskProjection(["id", "status", "max_attempts", "run_at"])(full);
    expect(projected).toEqual(Task.fromPartial({ id: full.id, status: full.status, maxAttempts: 5, runAt: full.runAt }));
    // Defaults are not encoded: the projected task is much smaller on the wire.
    expect(Task.encode(projected).finish().length).toBeLessThan(Task.encode(full).finish().length / 2);
  });

  it("rejects an unknown path with INVALID_ARGUMENT naming the field and the valid names", () => {
    expect(() => taskProjection(["id", "maxAttempts"])).toThrow(/read_mask.*unknown Task field "maxAttempts".*max_attempts/);
    expect(() => taskProjection(["nope"])).toThrow(InvalidArgumentError);
  });
});
