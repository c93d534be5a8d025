-- LeaderRenew: extends this node's own unexpired term.
-- Params: $1 name text, $2 leader_id text, $3 epoch bigint, $4 term_ms bigint
-- Returns: (expires_at) when renewed; no row when the term was lost.
UPDATE leader_lease SET expires_at = now() + $4 * interval '1 millisecond'
WHERE name = $1 AND leader_id = $2 AND epoch = $3 AND expires_at > now()
RETURNING expires_at
