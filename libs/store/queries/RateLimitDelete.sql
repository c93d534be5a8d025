-- RateLimitDelete: removes a type's rate limit. Params: $1 type text
DELETE FROM rate_limits WHERE type = $1 RETURNING type
