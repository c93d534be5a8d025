-- TaskRescueOrphans: RUNNING attempts whose worker is dead (silent for WORKER_TIMEOUT, or unknown
-- and claimed longer than that ago), or that ran past their timeout (+ grace), go back to PENDING
-- for the next attempt, or to DEAD_LETTER when attempts are exhausted. Leader only.
-- Params: $1 leader_id text, $2 epoch bigint, $3 worker_timeout_ms bigint, $4 default_timeout_ms bigint,
--         $5 grace_ms bigint, $6 limit int, $7 suspect_worker_ids text[] (workers known gone: rescue at once),
--         $8 judge_silence boolean (false while heartbeats and reports may have gone unrecorded:
--            Postgres or NATS was out of reach, or the term is new; then neither a silent worker is
--            taken for dead nor an attempt past its timeout for lost: its report may be on its way)
-- Returns: (id, type, status, attempts, reason) of each rescued task.
-- Guards: invariants 3, 5, 6: the old attempt's late reports match no row afterwards (status changes).
WITH orphan AS (
  SELECT t.id,
         CASE WHEN t.started_at + coalesce(t.timeout_ms, $4) * interval '1 millisecond'
                   + $5 * interval '1 millisecond' < now()
              THEN 'attempt timed out' ELSE 'worker lost' END AS reason
  FROM tasks t LEFT JOIN workers w ON w.id = t.worker_id
  WHERE t.status = 'running'
    AND (t.worker_id = ANY($7::text[])
         OR ($8 AND w.id IS NULL AND t.started_at < now() - $3 * interval '1 millisecond')
         OR ($8 AND w.last_heartbeat < now() - $3 * interval '1 millisecond')
         OR ($8 AND t.started_at + coalesce(t.timeout_ms, $4) * interval '1 millisecond' + $5 * interval '1 millisecond' < now()))
  ORDER BY t.started_at
  LIMIT $6
  FOR UPDATE OF t SKIP LOCKED
)
UPDATE tasks AS t
SET status = CASE WHEN t.attempts < t.max_attempts THEN 'pending' ELSE 'dead_letter' END,
    run_at = now(),
    finished_at = CASE WHEN t.attempts < t.max_attempts THEN NULL ELSE now() END,
    last_error = 'attempt ' || t.attempts || ': ' || o.reason || ' (worker ' || coalesce(t.worker_id, '?') || ')',
    updated_at = now(), leader_epoch = $2
FROM orphan o
WHERE t.id = o.id AND t.status = 'running' AND EXISTS (SELECT 1 FROM leader_lease l WHERE l.name = 'maintenance' AND l.leader_id = $1 AND l.epoch = $2 AND l.expires_at > now())
RETURNING t.id, t.type, t.status, t.attempts, o.reason
