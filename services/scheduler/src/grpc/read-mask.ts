import { InvalidArgumentError } from "@taskorch/domain";
import { Task } from "@taskorch/proto";

type TaskProperty = keyof Task;

const snakeCase = (property: string): string => property.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Task's fields by proto name (the paths of a FieldMask), taken from the generated message. */
const TASK_FIELDS = new Map<string, TaskProperty>((Object.keys(Task.fromPartial({})) as TaskProperty[]).map((p) => [snakeCase(p), p]));

/**
 * A read mask over Task (AIP-157 partial responses): returns a function that keeps only the named
 * fields of a task, the others left at their defaults (which are not encoded). No mask, or an empty
 * one, keeps every field. An unknown path is INVALID_ARGUMENT naming the valid ones.
 */
export function taskProjection(paths: readonly string[] | undefined, field = "read_mask"): (task: Task) => Task {
  if (paths === undefined || paths.length === 0) return (task) => task;
  const keep = paths.map((path) => {
    const property = TASK_FIELDS.get(path);
    if (!property) throw new InvalidArgumentError(field, `unknown Task field ${JSON.stringify(path.slice(0, 64))}; use proto field names: ${[...TASK_FIELDS.keys()].join(", ")}`);
    return property;
  });
  return (task) => {
    const projected = Task.fromPartial({});
    for (const property of keep) (projected as unknown as Record<string, unknown>)[property] = task[property];
    return projected;
  };
}
