-- taskorch schema v3: attempt numbers never repeat.
-- RetryTask used to reset attempts to 0, so the retried task's attempt 1 carried the same fence as
-- the attempt 1 that had run before: a late report of the old run, from a worker that also claimed
-- the new one, matched the new attempt (invariant 3), and handlers saw the same (task_id, attempt)
-- twice for two different runs. Now RetryTask continues the numbering and grants a fresh budget:
-- max_attempts stays "the last attempt number allowed" (every budget check is unchanged) and
-- attempt_base records the attempts spent before the last manual retry, so the budget a retry
-- grants is always the task's original max_attempts.
ALTER TABLE tasks ADD COLUMN attempt_base integer NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD CONSTRAINT tasks_attempt_base_check CHECK (attempt_base >= 0 AND attempt_base <= attempts);
