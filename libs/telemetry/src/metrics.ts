import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Every metric taskorch exports, declared once (Temporal's metric_defs.go). The task metrics carry
 * the seed's names, labels, types and buckets exactly; label values stay bounded (a task type is a
 * label, a task id never is).
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const metrics = {
  tasksEnqueued: new Counter({ name: "tasks_enqueued_total", help: "Total tasks added to the queue", labelNames: ["type"], registers: [registry] }),
  tasksCompleted: new Counter({ name: "tasks_completed_total", help: "Total tasks finished (success or failed)", labelNames: ["type", "status"], registers: [registry] }),
  taskRetries: new Counter({ name: "task_retries_total", help: "Total retry attempts across all tasks", labelNames: ["type", "attempt"], registers: [registry] }),
  tasksDeadLetter: new Counter({ name: "tasks_dead_letter_total", help: "Tasks that exceeded max retries", labelNames: ["type"], registers: [registry] }),
  tasksPending: new Gauge({ name: "tasks_pending", help: "Current pending tasks by type", labelNames: ["type"], registers: [registry] }),
  tasksRunning: new Gauge({ name: "tasks_running", help: "Currently executing tasks by type", labelNames: ["type"], registers: [registry] }),
  workerPoolActive: new Gauge({ name: "worker_pool_active", help: "Number of tasks this worker is currently processing", registers: [registry] }),
  workerPoolCapacity: new Gauge({ name: "worker_pool_capacity", help: "Total worker pool size (= WORKER_POOL_SIZE)", registers: [registry] }),
  workersTotal: new Gauge({ name: "workers_total", help: "Number of registered workers that are alive", registers: [registry] }),
  leaderStatus: new Gauge({ name: "leader_status", help: "1 if this coordinator is leader, 0 otherwise", labelNames: ["worker_id"], registers: [registry] }),
  taskDuration: new Histogram({
    name: "task_duration_seconds",
    help: "Task execution duration",
    labelNames: ["type"],
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600],
    registers: [registry],
  }),
  taskClaimDuration: new Histogram({ name: "task_claim_duration_seconds", help: "Time to execute claim query", registers: [registry] }),
  rateLimit: new Gauge({ name: "taskorch_rate_limit_per_second", help: "Cluster-wide rate limit of a task type, in tasks per second (leader only)", labelNames: ["type"], registers: [registry] }),
  queueConcurrencyLimit: new Gauge({ name: "taskorch_queue_concurrency_limit", help: "Cluster-wide concurrency limit of a queue (leader only)", labelNames: ["queue"], registers: [registry] }),

  grpcServerStarted: new Counter({ name: "grpc_server_started_total", help: "Total number of RPCs started on the server.", labelNames: ["grpc_type", "grpc_service", "grpc_method"], registers: [registry] }),
  grpcServerHandled: new Counter({ name: "grpc_server_handled_total", help: "Total number of RPCs completed on the server, regardless of success or failure.", labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"], registers: [registry] }),
  grpcServerHandling: new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  }),
  grpcClientStarted: new Counter({ name: "grpc_client_started_total", help: "Total number of RPCs started on the client.", labelNames: ["grpc_type", "grpc_service", "grpc_method"], registers: [registry] }),
  grpcClientHandled: new Counter({ name: "grpc_client_handled_total", help: "Total number of RPCs completed by the client, regardless of success or failure.", labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"], registers: [registry] }),
  grpcClientHandling: new Histogram({
    name: "grpc_client_handling_seconds",
    help: "Histogram of response latency (seconds) of the gRPC until it is finished by the application.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  }),
} as const;

export type Metrics = typeof metrics;
