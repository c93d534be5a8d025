-- TaskCountActive: tasks waiting (pending + queued) and running, by type, for the queue gauges.
-- Params: none
-- Runs every few seconds on the leader. One branch per partial index (pending; queued or running),
-- each predicate that index's own: the three statuses in one WHERE match no single index, and
-- Postgres read the whole table instead, history included (~3,500 pages and 11 ms at 60,000
-- finished tasks, against ~100 pages and well under a millisecond this way).
SELECT type, count(*) FILTER (WHERE status <> 'running')::int AS pending,
       count(*) FILTER (WHERE status = 'running')::int AS running
FROM (SELECT type, status FROM tasks WHERE status = 'pending'
      UNION ALL
      SELECT type, status FROM tasks WHERE status IN ('queued', 'running')) AS active
GROUP BY type
