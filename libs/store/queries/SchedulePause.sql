-- SchedulePause: pauses or resumes; on resume the next tick is recomputed by the caller.
-- Params: $1 id, $2 paused bool, $3 next_fire_at timestamptz|null (keep when null)
UPDATE schedules SET paused = $2, next_fire_at = coalesce($3, next_fire_at), updated_at = now()
WHERE id = $1 RETURNING id, cron, interval_ms, timezone, task_type, task_queue, task_payload::text AS task_payload, task_priority, task_max_attempts, task_timeout_ms, overlap_policy, catchup_policy, paused, next_fire_at, last_fire_at, last_task_id, created_at, updated_at
