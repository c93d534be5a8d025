-- TaskList: one page of tasks, newest first, keyset-paginated on id (UUIDv7 ids sort by creation time).
-- The statuses are not a parameter: the store writes them where {statuses} stands and prepares one
-- statement per filter (sqlForStatuses), so that each generic plan (the pool forces generic plans)
-- sees which statuses it lists: one status uses that status's list index (idx_tasks_list_*), all
-- of them the primary key. As a parameter the status was hidden from the planner, which then
-- scanned the whole table for the few dead letters among millions of tasks.
-- Params: $1 type text|null, $2 queue text|null, $3 after_id uuid|null (last id of the previous
--         page), $4 limit int, $5 max_bytes bigint|null
-- Returns: up to $4 tasks older than the cursor, each with bytes_through: the bytes of payload,
--          result and error of the tasks up to and including it. Tasks that start past $5 bytes are
--          not sent (a page of big tasks must not fill the scheduler's memory, nor a response a
--          client's message limit), except the first two: a page holds at least one task, and the
--          caller learns from the one after the budget that more follow.
SELECT p.* FROM (
  SELECT t.id, t.type, t.queue, t.payload::text AS payload, t.priority, t.status, t.attempts, t.max_attempts, t.run_at, t.timeout_ms, t.idempotency_key, t.result::text AS result, t.last_error, t.worker_id, t.traceparent, t.created_at, t.updated_at, t.started_at, t.finished_at, t.group_id,
         s.bytes, (sum(s.bytes) OVER (ORDER BY t.id DESC ROWS UNBOUNDED PRECEDING))::float8 AS bytes_through,
         row_number() OVER (ORDER BY t.id DESC) AS n
  FROM tasks t
  CROSS JOIN LATERAL (SELECT octet_length(t.payload::text) + coalesce(octet_length(t.result::text), 0) + coalesce(octet_length(t.last_error), 0) AS bytes) AS s
  WHERE t.status IN ({statuses})
    AND ($1::text IS NULL OR t.type = $1)
    AND ($2::text IS NULL OR t.queue = $2)
    AND ($3::uuid IS NULL OR t.id < $3)
  ORDER BY t.id DESC
  LIMIT $4
) AS p
WHERE $5::bigint IS NULL OR p.n <= 2 OR p.bytes_through - p.bytes < $5
ORDER BY p.id DESC
