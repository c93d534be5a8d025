-- TaskCountActive: tasks waiting (pending + queued) and running, by type, for the queue gauges.
-- Params: none
SELECT type, count(*) FILTER (WHERE status IN ('pending', 'queued'))::int AS pending,
       count(*) FILTER (WHERE status = 'running')::int AS running
FROM tasks WHERE status IN ('pending', 'queued', 'running') GROUP BY type
