-- TaskInsertMany: inserts a batch of tasks in one statement (group commit for EnqueueTask/EnqueueTasks).
-- Params: $1 json: array of {id, type, queue, payload (JSON text), priority, max_attempts,
--         run_at (null = now), delay_ms, timeout_ms (null = worker default), idempotency_key,
--         traceparent, group_id}, $2 worker_timeout_ms bigint, $3 window_factor float8, $4 window_extra int
--         (One JSON document rather than twelve arrays: node-postgres serializes arrays element by
--         element, ~10 ms per 1,000 tasks; JSON.stringify takes ~1 ms.)
-- Returns: (id, status, attempts, run_at_ms, created_at_ms) of the inserted rows (the caller has the
--          rest); a row whose idempotency key exists already is skipped (the caller reads the
--          existing task). Times as epoch milliseconds: cheaper to parse than timestamps.
-- Admission fast path: a task due now goes straight to QUEUED (attempt 1, ready to publish) while its
-- queue has room in its dispatch window (alive workers' capacity x factor + extra, minus what is
-- queued or running), highest priority first, no older ready task of the queue is waiting (they go
-- first, by priority), and neither a queue limit nor a rate limit applies to it. Everything else is
-- stored PENDING and admitted by the leader (TaskAdmitCandidates).
-- Guards: invariant 1 (committed before the RPC returns); due times are judged by the DB clock.
WITH input AS (
  SELECT i.*, coalesce(i.run_at, now() + i.delay_ms * interval '1 millisecond') AS due
  FROM ROWS FROM (json_to_recordset($1::json) AS (id uuid, type text, queue text, payload text, priority int,
                   max_attempts int, run_at timestamptz, delay_ms bigint, timeout_ms int,
                   idempotency_key text, traceparent text, group_id uuid)) WITH ORDINALITY
       AS i(id, type, queue, payload, priority, max_attempts, run_at, delay_ms, timeout_ms, idempotency_key, traceparent, group_id, ord)
),
cap AS (
  SELECT q AS queue, sum(w.capacity)::int AS capacity
  FROM workers w CROSS JOIN LATERAL unnest(w.queues) AS q
  WHERE w.last_heartbeat >= now() - $2 * interval '1 millisecond' AND q IN (SELECT DISTINCT queue FROM input)
  GROUP BY q
),
backlog AS (
  -- One index probe per queue (stops at the first waiting task), whatever the backlog's size.
  -- (LATERAL ... LIMIT 1 rather than EXISTS: the planner may turn EXISTS into a scan of them all.)
  SELECT q.queue FROM (SELECT DISTINCT queue FROM input) AS q
  CROSS JOIN LATERAL (SELECT 1 FROM tasks t WHERE t.status = 'pending' AND t.queue = q.queue AND t.run_at <= now() LIMIT 1) AS w
),
room AS (
  -- Queues that can take tasks at once: alive workers, room in the window, nobody older waiting.
  -- What is queued or running is counted per queue only up to the window, all that decides the
  -- room: an index scan of idx_tasks_inflight that stops there. A count of them all was planned as
  -- a bitmap scan, which visits every dead row version that claims and outcomes left in the index
  -- since the last vacuum, on every enqueue (1.1 ms and ~600 buffers after 27,000 tasks without a
  -- vacuum); an index scan marks the dead entries it meets, so the next enqueue skips them.
  SELECT * FROM (
    SELECT c.queue,
           c.win - (SELECT count(*) FROM (SELECT 1 FROM tasks f
                                          WHERE f.status IN ('queued', 'running') AND f.queue = c.queue
                                          LIMIT c.win) AS busy)::int AS n
    FROM (SELECT cap.queue, greatest(ceil(cap.capacity * $3)::int + $4, 0) AS win FROM cap) AS c
    LEFT JOIN queue_limits ql ON ql.queue = c.queue
    LEFT JOIN backlog b ON b.queue = c.queue
    WHERE ql.queue IS NULL AND b.queue IS NULL
  ) AS windows
  WHERE n > 0
),
ranked AS (
  -- Only tasks of queues with room are ranked (a sort of the batch): with no room anywhere, as
  -- when a backlog is loaded before workers start, every task is simply stored PENDING.
  SELECT input.*, false AS fast FROM input WHERE input.queue NOT IN (SELECT queue FROM room)
  UNION ALL
  SELECT input.*,
         (input.due <= now() AND rl.type IS NULL
          AND row_number() OVER (PARTITION BY input.queue ORDER BY (input.due <= now()) DESC, input.priority DESC, input.ord) <= room.n) AS fast
  FROM input
  JOIN room ON room.queue = input.queue
  LEFT JOIN rate_limits rl ON rl.type = input.type
)
INSERT INTO tasks AS t (id, type, queue, payload, priority, status, attempts, max_attempts, run_at,
                        timeout_ms, idempotency_key, traceparent, group_id, dispatched_at)
SELECT r.id, r.type, r.queue, r.payload::jsonb, r.priority,
       CASE WHEN r.fast THEN 'queued' ELSE 'pending' END,
       CASE WHEN r.fast THEN 1 ELSE 0 END,
       r.max_attempts, greatest(r.due, now()), r.timeout_ms, r.idempotency_key, r.traceparent, r.group_id,
       CASE WHEN r.fast THEN now() END
FROM ranked r
ORDER BY r.ord
ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING t.id, t.status, t.attempts, (extract(epoch FROM t.run_at) * 1000)::float8 AS run_at_ms,
          (extract(epoch FROM t.created_at) * 1000)::float8 AS created_at_ms
