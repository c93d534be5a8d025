-- TaskGetMany: tasks by id.
-- Params: $1 ids uuid[]
-- Returns: the tasks that exist.
SELECT t.id, t.type, t.queue, t.payload::text AS payload, t.priority, t.status, t.attempts, t.max_attempts, t.run_at, t.timeout_ms, t.idempotency_key, t.result::text AS result, t.last_error, t.worker_id, t.traceparent, t.created_at, t.updated_at, t.started_at, t.finished_at, t.group_id FROM tasks t WHERE t.id = ANY($1::uuid[])
