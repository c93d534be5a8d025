-- LimitList: every rate limit and queue limit.
SELECT 'rate' AS kind, type AS name, limit_count, period_ms, NULL::int AS max_concurrency FROM rate_limits
UNION ALL
SELECT 'queue', queue, NULL, NULL, max_concurrency FROM queue_limits
ORDER BY 1, 2
