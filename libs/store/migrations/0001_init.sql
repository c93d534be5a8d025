-- taskorch schema v1. Applied in one transaction under an advisory lock (see src/migrate.ts).

CREATE TABLE tasks (
  id              uuid PRIMARY KEY,
  type            text        NOT NULL,
  queue           text        NOT NULL,
  payload         jsonb       NOT NULL DEFAULT 'null'::jsonb,
  priority        integer     NOT NULL DEFAULT 0,
  status          text        NOT NULL,
  attempts        integer     NOT NULL DEFAULT 0,
  max_attempts    integer     NOT NULL,
  run_at          timestamptz NOT NULL DEFAULT now(),
  timeout_ms      integer,
  idempotency_key text,
  result          jsonb,
  last_error      text,
  worker_id       text,
  traceparent     text,
  -- Epoch of the leader term whose maintenance last changed this row (audit of fencing).
  leader_epoch    bigint,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  dispatched_at   timestamptz,
  started_at      timestamptz,
  finished_at     timestamptz,
  CONSTRAINT tasks_status_check CHECK (status IN ('pending', 'queued', 'running', 'succeeded', 'dead_letter', 'canceled')),
  CONSTRAINT tasks_attempts_check CHECK (attempts >= 0 AND max_attempts >= 1)
);

-- The seed's claimable index: due pending tasks, found by the promoter in run_at order.
CREATE INDEX idx_tasks_claimable ON tasks (run_at) WHERE status = 'pending';
-- Queued tasks nobody claimed (lost dispatch), found by the orphan rescuer.
CREATE INDEX idx_tasks_queued ON tasks (dispatched_at) WHERE status = 'queued';
-- Running tasks by worker, for orphan recovery of dead workers.
CREATE INDEX idx_tasks_running ON tasks (worker_id, started_at) WHERE status = 'running';
-- Idempotency: one task per key.
CREATE UNIQUE INDEX idx_tasks_idempotency_key ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;
-- ListTasks by status, newest first (ids are UUIDv7, so id order is creation order; the primary
-- key serves the unfiltered listing).
CREATE INDEX idx_tasks_status_list ON tasks (status, id DESC);

CREATE TABLE workers (
  id             text PRIMARY KEY,
  hostname       text        NOT NULL,
  queues         text[]      NOT NULL DEFAULT '{}',
  capacity       integer     NOT NULL DEFAULT 0,
  active         integer     NOT NULL DEFAULT 0,
  version        text        NOT NULL DEFAULT '',
  started_at     timestamptz NOT NULL DEFAULT now(),
  last_heartbeat timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_workers_last_heartbeat ON workers (last_heartbeat);

-- One row per election; epoch only grows (see services/coordinator/src/leadership/elector.ts).
CREATE TABLE leader_lease (
  name        text PRIMARY KEY,
  leader_id   text        NOT NULL,
  epoch       bigint      NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
