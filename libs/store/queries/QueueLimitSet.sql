-- QueueLimitSet: sets a queue's cluster-wide concurrency limit. Params: $1 queue text, $2 max int
INSERT INTO queue_limits (queue, max_concurrency) VALUES ($1, $2)
ON CONFLICT (queue) DO UPDATE SET max_concurrency = excluded.max_concurrency, updated_at = now()
RETURNING queue, max_concurrency
