-- ScheduleDue: schedules whose next tick has come (DB clock), with the status of their last task,
-- locked for this round. Leader only.
-- Params: $1 limit int
-- Returns: schedule rows plus last_task_status and now (the DB clock).
SELECT s.id, s.cron, s.interval_ms, s.timezone, s.task_type, s.task_queue, s.task_payload::text AS task_payload,
       s.task_priority, s.task_max_attempts, s.task_timeout_ms, s.overlap_policy, s.catchup_policy, s.paused,
       s.next_fire_at, s.last_fire_at, s.last_task_id, s.created_at, s.updated_at,
       (SELECT t.status FROM tasks t WHERE t.id = s.last_task_id) AS last_task_status, now() AS db_now
FROM schedules s
WHERE NOT s.paused AND s.next_fire_at <= now()
ORDER BY s.next_fire_at
LIMIT $1
FOR UPDATE OF s SKIP LOCKED
