-- TaskClaimMany: grants attempts to workers (QUEUED -> RUNNING), many claims in one statement.
-- Params: $1 task_id uuid[], $2 attempt int[], $3 worker_id text[]
-- Returns: (id, attempts, worker_id, type) of each granted claim. A claim for an attempt that is not
--          the current one, or whose task is no longer QUEUED, is simply not returned (rejected).
-- Re-claims: an attempt already RUNNING on the claiming worker is granted again, unchanged. Its
--          first grant was committed but never heard (the worker stopped waiting for the answer:
--          Postgres took longer than the claim timeout, the scheduler died before replying, the
--          reply was lost), so the worker did not run it and asks again when the dispatch comes
--          back; refused, the task would stay RUNNING on a live worker until its timeout. The
--          worker never claims an attempt it runs or has been answered for, so this cannot start
--          the attempt twice; no other worker can take it (invariant 3 holds).
-- Guards: invariants 3 and 6: the WHERE names the status and the attempt, so two workers that got
--          the same message cannot both win; when one batch holds both, Postgres applies one row.
-- Plan: each row is found by primary key. The status test is written `status || ''` so the
-- planner cannot use a status index instead: with stale statistics (a burst after the last
-- ANALYZE) it otherwise scans every queued task per batch (4.0 -> 1.8 ms for 64 claims).
UPDATE tasks AS t
SET status = 'running', worker_id = c.worker_id,
    started_at = CASE WHEN t.status = 'queued' THEN now() ELSE t.started_at END, updated_at = now()
FROM unnest($1::uuid[], $2::int[], $3::text[]) AS c(id, attempt, worker_id)
WHERE t.id = c.id AND t.attempts = c.attempt
  AND (t.status || '' = 'queued' OR (t.status || '' = 'running' AND t.worker_id = c.worker_id))
RETURNING t.id, t.attempts, t.worker_id, t.type
