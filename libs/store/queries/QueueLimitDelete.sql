-- QueueLimitDelete: removes a queue's concurrency limit. Params: $1 queue text
DELETE FROM queue_limits WHERE queue = $1 RETURNING queue
