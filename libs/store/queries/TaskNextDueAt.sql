-- TaskNextDueAt: milliseconds until the earliest pending task is due (null when none), so the
-- promoter can sleep exactly that long instead of polling.
-- Walks idx_tasks_claimable (queue, run_at) WHERE status = 'pending' as a loose index scan: the
-- next queue with pending tasks, then that queue's earliest run_at, two index probes per queue
-- whatever the backlog's size (no index on run_at alone: every pending row would pay for it).
-- Params: none
WITH RECURSIVE queues AS (
  (SELECT t.queue FROM tasks t WHERE t.status = 'pending' ORDER BY t.queue LIMIT 1)
  UNION ALL
  SELECT (SELECT t.queue FROM tasks t WHERE t.status = 'pending' AND t.queue > q.queue ORDER BY t.queue LIMIT 1)
  FROM queues q
  WHERE q.queue IS NOT NULL
)
SELECT extract(epoch FROM (min(d.run_at) - now())) * 1000 AS ms
FROM queues q
CROSS JOIN LATERAL (
  SELECT t.run_at FROM tasks t WHERE t.status = 'pending' AND t.queue = q.queue ORDER BY t.run_at LIMIT 1
) AS d
