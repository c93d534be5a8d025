-- TaskRecordOutcomes: records finished attempts, successes and failures together, in one statement
-- (one round trip and one commit per batch of reports).
--   success:                               RUNNING -> SUCCEEDED (result stored)
--   failure, retryable, attempts remain:   RUNNING -> PENDING, due after backoff
--   failure otherwise:                     RUNNING -> DEAD_LETTER
-- Params: $1 task_id uuid[], $2 attempt int[], $3 worker_id text[], $4 ok bool[],
--         $5 result text[] (JSON; null for failures), $6 error text[] (null for successes),
--         $7 non_retryable bool[], $8 backoff_base_ms bigint, $9 backoff_max_ms bigint
-- Returns: (id, type, status, attempts) of each task changed. A report for a stale attempt, another
--          worker's claim or a task that is no longer RUNNING changes nothing and is not returned.
-- Guards: invariants 3, 4, 6: exactly-once recording; duplicated reports match no row.
-- Backoff: base*2^(attempt-1), capped, equal jitter.
-- Plan: each row is found by primary key. The status test is written `status || '' = 'running'` so the
-- planner cannot use a status index instead: with stale statistics (a burst after the last
-- ANALYZE) it otherwise scans every running task per batch (4.0 -> 1.8 ms for 64 claims).
UPDATE tasks AS t
SET status = CASE WHEN r.ok THEN 'succeeded'
                  WHEN NOT r.non_retryable AND t.attempts < t.max_attempts THEN 'pending'
                  ELSE 'dead_letter' END,
    result = CASE WHEN r.ok THEN r.result::jsonb ELSE t.result END,
    run_at = CASE WHEN NOT r.ok AND NOT r.non_retryable AND t.attempts < t.max_attempts
             THEN now() + (b.ms / 2 + b.ms / 2 * random()) * interval '1 millisecond' ELSE t.run_at END,
    finished_at = CASE WHEN NOT r.ok AND NOT r.non_retryable AND t.attempts < t.max_attempts THEN NULL ELSE now() END,
    last_error = CASE WHEN r.ok THEN t.last_error ELSE r.error END,
    updated_at = now()
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::bool[], $5::text[], $6::text[], $7::bool[])
       AS r(id, attempt, worker_id, ok, result, error, non_retryable),
     LATERAL (SELECT least($9::bigint, $8::bigint * power(2, greatest(r.attempt - 1, 0)))::float8 AS ms) AS b
WHERE t.id = r.id AND t.attempts = r.attempt AND t.worker_id = r.worker_id AND t.status || '' = 'running'
RETURNING t.id, t.type, t.status, t.attempts
