-- RateLimitTake: the token buckets of the given types, refilled to now (DB clock), locked for this
-- admission round.
-- Params: $1 types text[]
-- Returns: (type, available) with available = min(limit, tokens + elapsed x rate).
SELECT type, least(limit_count::float8, tokens + extract(epoch FROM now() - refilled_at) * 1000 * limit_count / period_ms) AS available
FROM rate_limits WHERE type = ANY($1::text[]) FOR UPDATE
