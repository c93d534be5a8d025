-- LeaderAttemptElect: takes the lease when nobody holds it or it has expired (DB clock), as the next
-- epoch. With $4 = true (single-instance mode) it takes the lease even if unexpired: the only
-- instance restarting after a crash need not wait out its own old term.
-- Params: $1 name text, $2 leader_id text, $3 term_ms bigint, $4 force bool
-- Returns: (epoch, expires_at, acquired_at) when this node now leads; no row otherwise.
-- Guards: invariant 5: epochs only grow; the expiry test uses now() of the database only.
INSERT INTO leader_lease AS l (name, leader_id, epoch, acquired_at, expires_at)
VALUES ($1, $2, 1, now(), now() + $3 * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE
SET leader_id = excluded.leader_id, epoch = l.epoch + 1, acquired_at = now(), expires_at = excluded.expires_at
WHERE l.expires_at <= now() OR $4::bool
RETURNING epoch, expires_at, acquired_at
