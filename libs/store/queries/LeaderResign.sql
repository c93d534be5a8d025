-- LeaderResign: ends this node's own term now, so a successor can take over at once.
-- Params: $1 name text, $2 leader_id text, $3 epoch bigint
UPDATE leader_lease SET expires_at = now()
WHERE name = $1 AND leader_id = $2 AND epoch = $3 AND expires_at > now()
