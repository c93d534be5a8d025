import { InvalidArgumentError, isUuid, NotFoundError } from "@taskorch/domain";
import type { GetGroupRequest, GetGroupResponse, Group, WaitGroupRequest, WaitGroupResponse } from "@taskorch/proto";
import { unary } from "@taskorch/rpc";
import { countGroup, listGroupTasks, type GroupCounts, type Pool } from "@taskorch/store";
import type { Logger } from "@taskorch/telemetry";
import { toProtoTask } from "../convert.js";
import type { TaskWaiter } from "../wait/task-waiter.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import { openWaitWindow } from "./wait-window.js";

/** Recount at most this often while waiting, however many tasks finish. */
const RECOUNT_MIN_MS = 100;
const RECOUNT_MAX_MS = 2000;

function toGroup(id: string, c: GroupCounts): Group {
  const n = (s: keyof GroupCounts["byStatus"]) => c.byStatus[s] ?? 0;
  const finished = n("succeeded") + n("dead_letter") + n("canceled");
  return {
    id,
    total: c.total,
    waiting: n("pending") + n("queued"),
    running: n("running"),
    succeeded: n("succeeded"),
    deadLetter: n("dead_letter"),
    canceled: n("canceled"),
    done: finished === c.total,
  };
}

function requireGroupId(id: string): string {
  if (!isUuid(id)) throw new InvalidArgumentError("id", `${JSON.stringify(id.slice(0, 80))} is not a group id (the group_id EnqueueTasks returned)`);
  return id.toLowerCase();
}

async function mustCount(pool: Pool, id: string): Promise<GroupCounts> {
  const counts = await countGroup(pool, id);
  if (counts.total === 0) throw new NotFoundError(`group ${id} not found`);
  return counts;
}

/** GetGroup and WaitGroup: Celery's group(...).apply_async() / .get() over EnqueueTasks batches. */
export function groupHandlers(pool: Pool, waiter: TaskWaiter, maxPageSize: number, logger: Logger) {
  return {
    getGroup: unary<GetGroupRequest, GetGroupResponse>(logger, async (req) => {
      const id = requireGroupId(req.id);
      if (req.pageSize < 0 || req.pageSize > maxPageSize) throw new InvalidArgumentError("page_size", `must be from 0 to ${maxPageSize} (MAX_PAGE_SIZE), got ${req.pageSize}`);
      const counts = await mustCount(pool, id);
      if (req.pageSize === 0) return { group: toGroup(id, counts), tasks: [], nextPageToken: "" };
      const after = req.pageToken === "" ? null : decodePageToken(req.pageToken);
      const tasks = await listGroupTasks(pool, id, after, req.pageSize + 1);
      const page = tasks.slice(0, req.pageSize);
      return {
        group: toGroup(id, counts),
        tasks: page.map(toProtoTask),
        nextPageToken: tasks.length > req.pageSize ? encodePageToken(page[page.length - 1]!.id) : "",
      };
    }),

    waitGroup: unary<WaitGroupRequest, WaitGroupResponse>(logger, async (req, call) => {
      const id = requireGroupId(req.id);
      const { deadline, signal } = openWaitWindow(req.timeout, call);
      const release = await waiter.listen();
      try {
        for (;;) {
          const group = toGroup(id, await mustCount(pool, id));
          const remaining = deadline - Date.now();
          if (group.done || remaining <= 0 || signal.aborted) return { group, timedOut: !group.done };
          await new Promise((r) => setTimeout(r, RECOUNT_MIN_MS));
          await waiter.waitForAnyEvent(Math.min(remaining, RECOUNT_MAX_MS), signal);
        }
      } finally {
        release();
      }
    }),
  };
}
