-- LeaderGet: the lease as it stands, with "held" judged by the DB clock.
-- Params: $1 name text
SELECT leader_id, epoch, acquired_at, expires_at, expires_at > now() AS held FROM leader_lease WHERE name = $1
