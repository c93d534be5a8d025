-- TaskAdmitCandidates: ready PENDING tasks the leader may admit now, per queue.
-- A queue's dispatch window is its alive workers' capacity x $2 + $3, capped by its queue limit;
-- its credit is the window minus what is queued or running (at least 0). Within the credit, tasks are taken by
-- priority (highest first), except a tenth of the credit (and one task on the caller's "age turns")
-- taken oldest first whatever their priority, so low priorities never starve. Types out of
-- rate-limit tokens are skipped.
-- Params: $1 worker_timeout_ms bigint, $2 window_factor float8, $3 window_extra int, $4 max_per_queue int,
--         $5 min_age_share int (0, or 1 on an age turn)
-- Returns: (queue, credit, id, type, by_age); the caller trims by rate limits and admits.
WITH cap AS (
  SELECT q AS queue, sum(w.capacity)::int AS capacity
  FROM workers w CROSS JOIN LATERAL unnest(w.queues) AS q
  WHERE w.last_heartbeat >= now() - $1 * interval '1 millisecond'
  GROUP BY q
),
credit AS MATERIALIZED (
  -- What is queued or running is counted per queue only up to the window (see TaskInsertMany's
  -- room: an index scan that stops there, and marks the dead entries it meets). MATERIALIZED: the
  -- credit is read three times below, and counted once.
  SELECT c.queue,
         c.win - (SELECT count(*) FROM (SELECT 1 FROM tasks f
                                        WHERE f.status IN ('queued', 'running') AND f.queue = c.queue
                                        LIMIT c.win) AS busy)::int AS credit
  FROM (SELECT cap.queue, greatest(least(ceil(cap.capacity * $2)::int + $3, coalesce(ql.max_concurrency, 2147483647)), 0) AS win
        FROM cap LEFT JOIN queue_limits ql ON ql.queue = cap.queue) AS c
)
SELECT cr.queue, cr.credit, p.id, p.type, p.by_age
FROM credit cr
CROSS JOIN LATERAL (
  (SELECT t.id, t.type, false AS by_age FROM tasks t
   WHERE t.status = 'pending' AND t.queue = cr.queue AND t.run_at <= now()
     AND NOT EXISTS (SELECT 1 FROM rate_limits r WHERE r.type = t.type
                     AND r.tokens + extract(epoch FROM now() - r.refilled_at) * 1000 * r.limit_count / r.period_ms < 1)
   ORDER BY t.priority DESC, t.run_at
   LIMIT least(cr.credit, $4))
  UNION ALL
  (SELECT t.id, t.type, true AS by_age FROM tasks t
   WHERE t.status = 'pending' AND t.queue = cr.queue AND t.run_at <= now()
     AND NOT EXISTS (SELECT 1 FROM rate_limits r WHERE r.type = t.type
                     AND r.tokens + extract(epoch FROM now() - r.refilled_at) * 1000 * r.limit_count / r.period_ms < 1)
   ORDER BY t.run_at
   LIMIT greatest($5::int, least(cr.credit, $4) / 10))
) AS p
WHERE cr.credit > 0
