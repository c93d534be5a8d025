-- RateLimitSet: sets (or replaces) a type's rate limit; the bucket starts full.
-- Params: $1 type text, $2 limit_count int, $3 period_ms bigint
INSERT INTO rate_limits (type, limit_count, period_ms, tokens) VALUES ($1, $2::int, $3::bigint, $2::float8)
ON CONFLICT (type) DO UPDATE SET limit_count = excluded.limit_count, period_ms = excluded.period_ms,
  tokens = least(rate_limits.tokens, excluded.limit_count), updated_at = now()
RETURNING type, limit_count, period_ms
