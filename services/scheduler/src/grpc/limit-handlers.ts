import { checkQueueName, checkTaskType, formatRate, InvalidArgumentError, NotFoundError, parseRate } from "@taskorch/domain";
import type {
  DeleteQueueLimitRequest,
  DeleteQueueLimitResponse,
  DeleteRateLimitRequest,
  DeleteRateLimitResponse,
  ListLimitsRequest,
  ListLimitsResponse,
  SetQueueLimitRequest,
  SetQueueLimitResponse,
  SetRateLimitRequest,
  SetRateLimitResponse,
} from "@taskorch/proto";
import { unary } from "@taskorch/rpc";
import { deleteQueueLimit, deleteRateLimit, listLimits, setQueueLimit, setRateLimit, type Pool } from "@taskorch/store";
import type { Logger } from "@taskorch/telemetry";

/** Cluster-wide rate limits per type and concurrency limits per queue, changeable at runtime. */
export function limitHandlers(pool: Pool, onChangeFunc: () => void, logger: Logger) {
  return {
    setRateLimit: unary<SetRateLimitRequest, SetRateLimitResponse>(logger, async (req) => {
      if (!req.limit) throw new InvalidArgumentError("limit", "is required, e.g. {\"type\":\"email.send\",\"rate\":\"10/m\"}");
      const type = checkTaskType("limit.type", req.limit.type);
      const { limit, periodMs } = parseRate("limit.rate", req.limit.rate);
      await setRateLimit(pool, { type, limit, periodMs });
      logger.info({ type, rate: formatRate(limit, periodMs) }, "Limits: rate limit set");
      onChangeFunc();
      return { limit: { type, rate: formatRate(limit, periodMs) } };
    }),
    deleteRateLimit: unary<DeleteRateLimitRequest, DeleteRateLimitResponse>(logger, async (req) => {
      const type = checkTaskType("type", req.type);
      if (!(await deleteRateLimit(pool, type))) throw new NotFoundError(`no rate limit for type ${type}`);
      onChangeFunc();
      return {};
    }),
    setQueueLimit: unary<SetQueueLimitRequest, SetQueueLimitResponse>(logger, async (req) => {
      if (!req.limit) throw new InvalidArgumentError("limit", "is required, e.g. {\"queue\":\"emails\",\"maxConcurrency\":5}");
      const queue = checkQueueName("limit.queue", req.limit.queue);
      const max = req.limit.maxConcurrency;
      if (!Number.isInteger(max) || max < 0 || max > 1_000_000) throw new InvalidArgumentError("limit.max_concurrency", `must be from 0 (paused) to 1000000, got ${max}`);
      await setQueueLimit(pool, { queue, maxConcurrency: max });
      logger.info({ queue, max_concurrency: max }, "Limits: queue limit set");
      onChangeFunc();
      return { limit: { queue, maxConcurrency: max } };
    }),
    deleteQueueLimit: unary<DeleteQueueLimitRequest, DeleteQueueLimitResponse>(logger, async (req) => {
      const queue = checkQueueName("queue", req.queue);
      if (!(await deleteQueueLimit(pool, queue))) throw new NotFoundError(`no concurrency limit for queue ${queue}`);
      onChangeFunc();
      return {};
    }),
    listLimits: unary<ListLimitsRequest, ListLimitsResponse>(logger, async () => {
      const l = await listLimits(pool);
      return {
        rateLimits: l.rate.map((r) => ({ type: r.type, rate: formatRate(r.limit, r.periodMs) })),
        queueLimits: l.queue.map((q) => ({ queue: q.queue, maxConcurrency: q.maxConcurrency })),
      };
    }),
  };
}
