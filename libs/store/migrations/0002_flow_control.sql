-- taskorch schema v2: flow control (admission by capacity, priorities, limits), groups, schedules.

-- Admission picks ready tasks per queue by priority, and the oldest for the anti-starvation share.
CREATE INDEX idx_tasks_ready_priority ON tasks (queue, priority DESC, run_at) WHERE status = 'pending';
CREATE INDEX idx_tasks_ready_age ON tasks (queue, run_at) WHERE status = 'pending';
-- In-flight (queued + running) per queue, counted every admission round.
CREATE INDEX idx_tasks_inflight ON tasks (queue) WHERE status IN ('queued', 'running');

-- Groups: EnqueueTasks gives its tasks one group id (Celery's group(...)).
ALTER TABLE tasks ADD COLUMN group_id uuid;
CREATE INDEX idx_tasks_group ON tasks (group_id) WHERE group_id IS NOT NULL;

-- Cluster-wide concurrency limit per queue (absent: only worker capacity bounds it).
CREATE TABLE queue_limits (
  queue           text PRIMARY KEY,
  max_concurrency integer NOT NULL CHECK (max_concurrency >= 0),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Cluster-wide rate limit per task type as a token bucket: `limit_count` per `period_ms`, refilled
-- continuously by the database clock; admission takes one token per task.
CREATE TABLE rate_limits (
  type        text PRIMARY KEY,
  limit_count integer NOT NULL CHECK (limit_count > 0),
  period_ms   bigint  NOT NULL CHECK (period_ms > 0),
  tokens      double precision NOT NULL,
  refilled_at timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Schedules (Celery beat, cluster-wide): fired by the coordinator leader, each tick once.
CREATE TABLE schedules (
  id              text PRIMARY KEY,
  cron            text,
  interval_ms     bigint CHECK (interval_ms IS NULL OR interval_ms >= 1000),
  timezone        text NOT NULL DEFAULT 'UTC',
  task_type       text NOT NULL,
  task_queue      text NOT NULL,
  task_payload    jsonb NOT NULL DEFAULT 'null'::jsonb,
  task_priority   integer NOT NULL DEFAULT 0,
  task_max_attempts integer NOT NULL,
  task_timeout_ms integer,
  overlap_policy  text NOT NULL DEFAULT 'allow' CHECK (overlap_policy IN ('allow', 'skip')),
  catchup_policy  text NOT NULL DEFAULT 'skip' CHECK (catchup_policy IN ('skip', 'run_once')),
  paused          boolean NOT NULL DEFAULT false,
  next_fire_at    timestamptz NOT NULL,
  last_fire_at    timestamptz,
  last_task_id    uuid,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedules_kind CHECK ((cron IS NULL) <> (interval_ms IS NULL))
);
CREATE INDEX idx_schedules_due ON schedules (next_fire_at) WHERE NOT paused;
