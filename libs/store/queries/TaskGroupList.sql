-- TaskGroupList: a page of a group's tasks in enqueue order.
-- Params: $1 group_id uuid, $2 after_id uuid|null, $3 limit int
SELECT t.id, t.type, t.queue, t.payload::text AS payload, t.priority, t.status, t.attempts, t.max_attempts, t.run_at, t.timeout_ms, t.idempotency_key, t.result::text AS result, t.last_error, t.worker_id, t.traceparent, t.created_at, t.updated_at, t.started_at, t.finished_at, t.group_id
FROM tasks t WHERE t.group_id = $1 AND ($2::uuid IS NULL OR t.id > $2) ORDER BY t.id LIMIT $3
