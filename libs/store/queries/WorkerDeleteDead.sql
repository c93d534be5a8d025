-- WorkerDeleteDead: removes rows of workers silent for DEAD_WORKER_RETENTION that run nothing. Leader only.
-- Params: $1 leader_id text, $2 epoch bigint, $3 retention_ms bigint
-- Guards: invariant 5.
DELETE FROM workers w
WHERE w.last_heartbeat < now() - $3 * interval '1 millisecond'
  AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.status = 'running' AND t.worker_id = w.id)
  AND EXISTS (SELECT 1 FROM leader_lease l WHERE l.name = 'maintenance' AND l.leader_id = $1 AND l.epoch = $2 AND l.expires_at > now())
RETURNING w.id
