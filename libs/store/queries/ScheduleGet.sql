-- ScheduleGet: one schedule, or all when $1 is null. Params: $1 id|null
SELECT id, cron, interval_ms, timezone, task_type, task_queue, task_payload::text AS task_payload, task_priority, task_max_attempts, task_timeout_ms, overlap_policy, catchup_policy, paused, next_fire_at, last_fire_at, last_task_id, created_at, updated_at FROM schedules WHERE $1::text IS NULL OR id = $1 ORDER BY id
