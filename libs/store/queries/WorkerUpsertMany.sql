-- WorkerUpsertMany: records a batch of heartbeats (registration on first sight), by the DB clock.
-- Params: $1 id text[], $2 hostname text[], $3 queues text[] (comma-joined), $4 capacity int[],
--         $5 active int[], $6 version text[]
INSERT INTO workers AS w (id, hostname, queues, capacity, active, version, started_at, last_heartbeat)
SELECT h.id, h.hostname, string_to_array(h.queues, ','), h.capacity, h.active, h.version, now(), now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[])
     AS h(id, hostname, queues, capacity, active, version)
ON CONFLICT (id) DO UPDATE
SET hostname = excluded.hostname, queues = excluded.queues, capacity = excluded.capacity,
    active = excluded.active, version = excluded.version, last_heartbeat = now()
