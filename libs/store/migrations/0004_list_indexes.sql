-- taskorch schema v4: list indexes that the hot transitions do not write.
-- idx_tasks_status_list (status, id DESC) got a new entry on every status change, four per task
-- (insert, admit, claim, finish); with the indexes below in its place, Postgres' statement time per
-- drained task went from 62 to 50 µs (pg_stat_statements, 40k tasks). Yet ListTasks could not use
-- it: the status was a parameter of a generic plan. Listing by status now prepares one statement
-- per status (TaskList with the status written in) over these partial indexes, each written only
-- on entering its status:
--   pending      when stored pending (delayed, held back, or a retry after backoff)
--   succeeded    when it succeeds
--   dead_letter / canceled  when it fails for good or is canceled
-- queued and running tasks are few (the dispatch windows) and listed through idx_tasks_queued and
-- idx_tasks_running. On a large table this migration builds the indexes while holding writes
-- (a transactional migration cannot CREATE INDEX CONCURRENTLY): upgrade in a quiet minute.
DROP INDEX idx_tasks_status_list;
CREATE INDEX idx_tasks_list_pending ON tasks (id) WHERE status = 'pending';
CREATE INDEX idx_tasks_list_succeeded ON tasks (id) WHERE status = 'succeeded';
CREATE INDEX idx_tasks_list_failed ON tasks (id) WHERE status IN ('dead_letter', 'canceled');
