-- ScheduleUpdate: replaces a schedule's definition and next tick. Params as ScheduleInsert.
UPDATE schedules SET cron = $2, interval_ms = $3, timezone = $4, task_type = $5, task_queue = $6,
  task_payload = $7::jsonb, task_priority = $8, task_max_attempts = $9, task_timeout_ms = $10,
  overlap_policy = $11, catchup_policy = $12, paused = $13, next_fire_at = $14, updated_at = now()
WHERE id = $1
RETURNING id, cron, interval_ms, timezone, task_type, task_queue, task_payload::text AS task_payload, task_priority, task_max_attempts, task_timeout_ms, overlap_policy, catchup_policy, paused, next_fire_at, last_fire_at, last_task_id, created_at, updated_at
