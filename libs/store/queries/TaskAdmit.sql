-- TaskAdmit: moves chosen PENDING tasks to QUEUED as their next attempt. Leader only.
-- Params: $1 leader_id text, $2 epoch bigint, $3 ids uuid[]
-- Returns: dispatch fields of each admitted task.
-- Guards: invariants 5 and 6: the leader's term is checked in the same statement; status named.
UPDATE tasks AS t
SET status = 'queued', attempts = t.attempts + 1, dispatched_at = now(), updated_at = now(), leader_epoch = $2
WHERE t.id = ANY($3::uuid[]) AND t.status = 'pending' AND t.run_at <= now()
  AND EXISTS (SELECT 1 FROM leader_lease l WHERE l.name = 'maintenance' AND l.leader_id = $1 AND l.epoch = $2 AND l.expires_at > now())
RETURNING t.id, t.attempts, t.type, t.queue, t.payload::text AS payload, t.timeout_ms, t.max_attempts, t.traceparent
