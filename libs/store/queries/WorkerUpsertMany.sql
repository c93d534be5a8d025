-- WorkerUpsertMany: records a batch of heartbeats (registration on first sight), by the DB clock.
-- Params: $1 id text[], $2 hostname text[], $3 queues text[] (comma-joined), $4 capacity int[],
--         $5 active int[], $6 version text[], $7 worker_timeout_ms bigint
-- Returns: the ids of workers whose heartbeat adds dispatch capacity: new, back after WORKER_TIMEOUT,
--          more capacity or other queues than before. (The leader's Admitter sleeps while ready
--          tasks have no room; these are what should wake it, instead of its next CLAIM_INTERVAL.)
--          The CTE `before` reads the rows as they were: every part of a statement sees one snapshot.
WITH h AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[])
         AS h(id, hostname, queues, capacity, active, version)
),
before AS (
  SELECT w.id, w.queues, w.capacity, w.last_heartbeat >= now() - $7 * interval '1 millisecond' AS alive
  FROM workers w WHERE w.id IN (SELECT id FROM h)
),
upserted AS (
  INSERT INTO workers AS w (id, hostname, queues, capacity, active, version, started_at, last_heartbeat)
  SELECT h.id, h.hostname, string_to_array(h.queues, ','), h.capacity, h.active, h.version, now(), now()
  FROM h
  ON CONFLICT (id) DO UPDATE
  SET hostname = excluded.hostname, queues = excluded.queues, capacity = excluded.capacity,
      active = excluded.active, version = excluded.version, last_heartbeat = now()
  RETURNING w.id, w.queues, w.capacity
)
SELECT u.id
FROM upserted u LEFT JOIN before b ON b.id = u.id
WHERE b.id IS NULL OR NOT b.alive OR u.capacity > b.capacity OR NOT (u.queues <@ b.queues)
