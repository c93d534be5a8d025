-- LeaderGet: the lease as it stands, with "held" and the time left judged by the DB clock.
-- Params: $1 name text
SELECT leader_id, epoch, acquired_at, expires_at, expires_at > now() AS held,
       extract(epoch FROM (expires_at - now())) * 1000 AS remaining_ms
FROM leader_lease WHERE name = $1
