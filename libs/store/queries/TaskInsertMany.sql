-- TaskInsertMany: inserts a batch of tasks in one statement (group commit for EnqueueTask/EnqueueTasks).
-- Params: $1 id uuid[], $2 type text[], $3 queue text[], $4 payload text[] (JSON), $5 priority int[],
--         $6 max_attempts int[], $7 run_at timestamptz[] (null = now), $8 delay_ms bigint[],
--         $9 timeout_ms int[] (null = worker default), $10 idempotency_key text[], $11 traceparent text[]
-- Returns: the inserted rows. A row whose idempotency key exists already is skipped (the caller
--          reads the existing task). Tasks due now are stored QUEUED with attempt 1, ready to publish.
-- Guards: invariant 1 (committed before the RPC returns); the due time is judged by the DB clock.
INSERT INTO tasks AS t (id, type, queue, payload, priority, status, attempts, max_attempts, run_at,
                        timeout_ms, idempotency_key, traceparent, dispatched_at)
SELECT i.id, i.type, i.queue, i.payload::jsonb, i.priority,
       CASE WHEN d.due <= now() THEN 'queued' ELSE 'pending' END,
       CASE WHEN d.due <= now() THEN 1 ELSE 0 END,
       i.max_attempts, greatest(d.due, now()), i.timeout_ms, i.idempotency_key, i.traceparent,
       CASE WHEN d.due <= now() THEN now() END
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::timestamptz[],
            $8::bigint[], $9::int[], $10::text[], $11::text[])
     AS i(id, type, queue, payload, priority, max_attempts, run_at, delay_ms, timeout_ms, idempotency_key, traceparent)
CROSS JOIN LATERAL (SELECT coalesce(i.run_at, now() + i.delay_ms * interval '1 millisecond') AS due) AS d
ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING t.id, t.type, t.queue, t.payload::text AS payload, t.priority, t.status, t.attempts, t.max_attempts, t.run_at, t.timeout_ms, t.idempotency_key, t.result::text AS result, t.last_error, t.worker_id, t.traceparent, t.created_at, t.updated_at, t.started_at, t.finished_at
