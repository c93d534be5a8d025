-- ScheduleInsert: creates a schedule. Params: $1 id, $2 cron|null, $3 interval_ms|null, $4 timezone,
-- $5 task_type, $6 task_queue, $7 task_payload text (JSON), $8 priority, $9 max_attempts, $10 timeout_ms|null,
-- $11 overlap_policy, $12 catchup_policy, $13 paused, $14 next_fire_at
-- Returns: the row; none when the id exists (ALREADY_EXISTS).
INSERT INTO schedules (id, cron, interval_ms, timezone, task_type, task_queue, task_payload, task_priority,
                       task_max_attempts, task_timeout_ms, overlap_policy, catchup_policy, paused, next_fire_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO NOTHING
RETURNING id, cron, interval_ms, timezone, task_type, task_queue, task_payload::text AS task_payload, task_priority, task_max_attempts, task_timeout_ms, overlap_policy, catchup_policy, paused, next_fire_at, last_fire_at, last_task_id, created_at, updated_at
