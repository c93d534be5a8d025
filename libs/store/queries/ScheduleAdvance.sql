-- ScheduleAdvance: records a tick and moves to the next one, only if the tick is still the one this
-- leader read (a concurrent or deposed leader changes nothing). Leader only.
-- Params: $1 leader_id, $2 epoch, $3 id, $4 expected next_fire_at, $5 new next_fire_at,
--         $6 fired_at timestamptz|null (null: tick skipped), $7 task_id uuid|null
-- Guards: invariants 5 and 6.
UPDATE schedules
SET next_fire_at = $5, last_fire_at = coalesce($6, last_fire_at), last_task_id = coalesce($7, last_task_id), updated_at = now()
WHERE id = $3 AND next_fire_at = $4
  AND EXISTS (SELECT 1 FROM leader_lease l WHERE l.name = 'maintenance' AND l.leader_id = $1 AND l.epoch = $2 AND l.expires_at > now())
RETURNING id
