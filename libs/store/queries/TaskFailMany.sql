-- TaskFailMany: records failed attempts. RUNNING -> PENDING (retry after backoff) while attempts
-- remain and the error is retryable, else RUNNING -> DEAD_LETTER.
-- Params: $1 task_id uuid[], $2 attempt int[], $3 worker_id text[], $4 error text[],
--         $5 non_retryable bool[], $6 backoff_base_ms bigint, $7 backoff_max_ms bigint
-- Returns: (id, type, status, attempts) of each task changed.
-- Guards: invariants 3, 4, 6, as TaskCompleteMany. Backoff: base*2^(attempt-1), capped, equal jitter.
UPDATE tasks AS t
SET status = CASE WHEN NOT r.non_retryable AND t.attempts < t.max_attempts THEN 'pending' ELSE 'dead_letter' END,
    run_at = CASE WHEN NOT r.non_retryable AND t.attempts < t.max_attempts
             THEN now() + (b.ms / 2 + b.ms / 2 * random()) * interval '1 millisecond' ELSE t.run_at END,
    finished_at = CASE WHEN NOT r.non_retryable AND t.attempts < t.max_attempts THEN NULL ELSE now() END,
    last_error = r.error, updated_at = now()
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::bool[]) AS r(id, attempt, worker_id, error, non_retryable),
     LATERAL (SELECT least($7::bigint, $6::bigint * power(2, greatest(r.attempt - 1, 0)))::float8 AS ms) AS b
WHERE t.id = r.id AND t.attempts = r.attempt AND t.worker_id = r.worker_id AND t.status = 'running'
RETURNING t.id, t.type, t.status, t.attempts
