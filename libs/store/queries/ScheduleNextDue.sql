-- ScheduleNextDue: milliseconds until the next unpaused schedule's tick (null when none).
SELECT extract(epoch FROM (min(next_fire_at) - now())) * 1000 AS ms FROM schedules WHERE NOT paused
