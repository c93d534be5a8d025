-- RateLimitSpend: stores what is left of each bucket after an admission round.
-- Params: $1 types text[], $2 remaining float8[]
UPDATE rate_limits AS r SET tokens = s.remaining, refilled_at = now()
FROM unnest($1::text[], $2::float8[]) AS s(type, remaining) WHERE r.type = s.type
