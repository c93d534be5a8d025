-- ScheduleDelete: removes a schedule. Params: $1 id
DELETE FROM schedules WHERE id = $1 RETURNING id
