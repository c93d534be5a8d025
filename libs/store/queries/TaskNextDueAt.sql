-- TaskNextDueAt: milliseconds until the earliest pending task is due (null when none), so the
-- promoter can sleep exactly that long instead of polling.
-- Params: none
SELECT extract(epoch FROM (min(run_at) - now())) * 1000 AS ms FROM tasks WHERE status = 'pending'
