-- TaskRetry: sends a DEAD_LETTER or CANCELED task back to its queue with attempts reset (the seed's
-- manual retry SQL), as attempt 1, ready to publish.
-- Params: $1 id uuid
-- Returns: the task; no row when it is missing or not in a retryable status.
-- Guards: invariant 6.
UPDATE tasks AS t
SET status = 'queued', attempts = 1, run_at = now(), dispatched_at = now(), updated_at = now(),
    result = NULL, worker_id = NULL, started_at = NULL, finished_at = NULL
WHERE t.id = $1 AND t.status IN ('dead_letter', 'canceled')
RETURNING t.id, t.type, t.queue, t.payload::text AS payload, t.priority, t.status, t.attempts, t.max_attempts, t.run_at, t.timeout_ms, t.idempotency_key, t.result::text AS result, t.last_error, t.worker_id, t.traceparent, t.created_at, t.updated_at, t.started_at, t.finished_at, t.group_id
