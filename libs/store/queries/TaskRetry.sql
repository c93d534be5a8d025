-- TaskRetry: sends a DEAD_LETTER or CANCELED task back to its queue, ready to publish, with a fresh
-- budget of attempts (the seed's manual retry resets attempts for the same reason). The attempt
-- number is not reset: the retry runs as attempt attempts + 1 and may go on to attempts + budget,
-- where budget is the task's original max_attempts (max_attempts - attempt_base).
-- Params: $1 id uuid
-- Returns: the task; no row when it is missing or not in a retryable status.
-- Guards: invariants 3 and 6: attempt numbers only grow, so a report or claim of any earlier
--          attempt can never match the retried one.
UPDATE tasks AS t
SET status = 'queued', attempts = t.attempts + 1, attempt_base = t.attempts,
    max_attempts = t.attempts + (t.max_attempts - t.attempt_base),
    run_at = now(), dispatched_at = now(), updated_at = now(),
    result = NULL, worker_id = NULL, started_at = NULL, finished_at = NULL
WHERE t.id = $1 AND t.status IN ('dead_letter', 'canceled')
RETURNING t.id, t.type, t.queue, t.payload::text AS payload, t.priority, t.status, t.attempts, t.max_attempts, t.run_at, t.timeout_ms, t.idempotency_key, t.result::text AS result, t.last_error, t.worker_id, t.traceparent, t.created_at, t.updated_at, t.started_at, t.finished_at, t.group_id
