-- TaskCompleteMany: records successful attempts (RUNNING -> SUCCEEDED).
-- Params: $1 task_id uuid[], $2 attempt int[], $3 worker_id text[], $4 result text[] (JSON)
-- Returns: (id, type) of each task recorded. A report for a stale attempt, another worker's claim
--          or a task that is no longer RUNNING changes nothing and is not returned.
-- Guards: invariants 3, 4, 6: exactly-once recording; duplicated reports match no row.
UPDATE tasks AS t
SET status = 'succeeded', result = r.result::jsonb, finished_at = now(), updated_at = now()
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[]) AS r(id, attempt, worker_id, result)
WHERE t.id = r.id AND t.attempts = r.attempt AND t.worker_id = r.worker_id AND t.status = 'running'
RETURNING t.id, t.type
