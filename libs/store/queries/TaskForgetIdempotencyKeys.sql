-- TaskForgetIdempotencyKeys: ends the idempotency retention window: finished tasks older than the
-- window release their key (it may be used again). Leader only.
-- Params: $1 leader_id, $2 epoch, $3 retention_ms bigint, $4 limit int
UPDATE tasks SET idempotency_key = NULL, updated_at = now()
WHERE id IN (SELECT id FROM tasks WHERE idempotency_key IS NOT NULL AND status IN ('succeeded', 'dead_letter', 'canceled')
             AND created_at < now() - $3 * interval '1 millisecond' LIMIT $4)
  AND EXISTS (SELECT 1 FROM leader_lease l WHERE l.name = 'maintenance' AND l.leader_id = $1 AND l.epoch = $2 AND l.expires_at > now())
RETURNING id
