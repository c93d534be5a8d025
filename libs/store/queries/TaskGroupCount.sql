-- TaskGroupCount: a group's tasks by status. Params: $1 group_id uuid
SELECT status, count(*)::int AS n FROM tasks WHERE group_id = $1 GROUP BY status
