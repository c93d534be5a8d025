-- TaskCancel: cancels an unfinished task. PENDING/QUEUED stop at once; a RUNNING attempt is fenced
-- off (its late report matches no row) and its worker is asked to abort.
-- Params: $1 id uuid, $2 reason text
-- Returns: the task after the change plus prev_status; no row when the task is missing or finished.
-- Guards: invariant 6 (status named in the WHERE, row locked by the sub-select).
UPDATE tasks AS t
SET status = 'canceled', finished_at = now(), updated_at = now(), last_error = $2
FROM (SELECT id, status FROM tasks WHERE id = $1 FOR UPDATE) AS p
WHERE t.id = p.id AND t.status IN ('pending', 'queued', 'running')
RETURNING t.id, t.type, t.queue, t.payload::text AS payload, t.priority, t.status, t.attempts, t.max_attempts, t.run_at, t.timeout_ms, t.idempotency_key, t.result::text AS result, t.last_error, t.worker_id, t.traceparent, t.created_at, t.updated_at, t.started_at, t.finished_at, t.group_id, p.status AS prev_status
