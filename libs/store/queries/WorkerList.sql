-- WorkerList: every worker with its liveness judged by the DB clock.
-- Params: $1 worker_timeout_ms bigint
SELECT id, hostname, queues, capacity, active, version, started_at, last_heartbeat,
       last_heartbeat >= now() - $1 * interval '1 millisecond' AS alive
FROM workers ORDER BY last_heartbeat DESC, id
