-- TaskRedispatchStale: QUEUED tasks nobody claimed for DISPATCH_TIMEOUT (a lost or purged NATS
-- message) are published again, same attempt. Leader only. Duplicates are harmless: a claim for
-- an attempt that is no longer QUEUED is rejected.
-- Params: $1 leader_id text, $2 epoch bigint, $3 dispatch_timeout_ms bigint, $4 limit int
-- Returns: dispatch fields of each task to publish again.
-- Guards: invariants 2, 5, 6.
UPDATE tasks AS t
SET dispatched_at = now(), updated_at = now(), leader_epoch = $2
FROM (SELECT id FROM tasks WHERE status = 'queued' AND dispatched_at < now() - $3 * interval '1 millisecond'
      ORDER BY dispatched_at LIMIT $4 FOR UPDATE SKIP LOCKED) AS stale
WHERE t.id = stale.id AND t.status = 'queued' AND EXISTS (SELECT 1 FROM leader_lease l WHERE l.name = 'maintenance' AND l.leader_id = $1 AND l.epoch = $2 AND l.expires_at > now())
RETURNING t.id, t.attempts, t.type, t.queue, t.payload::text AS payload, t.timeout_ms, t.max_attempts, t.traceparent
