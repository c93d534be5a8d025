-- TaskDeleteMany: removes tasks inserted earlier in the same transaction whose batch must not land
-- (EnqueueTasks is all-or-none).
-- Params: $1 ids uuid[]
DELETE FROM tasks WHERE id = ANY($1::uuid[])
