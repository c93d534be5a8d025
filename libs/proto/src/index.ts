// Generated contracts of taskorch (ts-proto over proto/taskorch/v1). Never hand-edit src/gen: run `make proto`.
export { Task, TaskStatus, taskStatusFromJSON, taskStatusToJSON } from "./gen/taskorch/v1/task.js";
export { CancelTaskRequest, CancelTaskResponse, EnqueueTaskRequest, EnqueueTaskResponse, EnqueueTasksRequest, EnqueueTasksResponse, GetTaskRequest, GetTaskResponse, ListTasksRequest, ListTasksResponse, RetryTaskRequest, RetryTaskResponse, SchedulerServiceClient, SchedulerServiceServer, SchedulerServiceService, WaitTaskRequest, WaitTaskResponse } from "./gen/taskorch/v1/scheduler_service.js";
export { CoordinatorServiceClient, CoordinatorServiceServer, CoordinatorServiceService, GetLeaderRequest, GetLeaderResponse, ListWorkersRequest, ListWorkersResponse, Worker } from "./gen/taskorch/v1/coordinator_service.js";
export { CancelNotice, Claim, ClaimRequest, ClaimResponse, ClaimResult, DispatchMessage, Failure, Heartbeat, Report, ReportBatch, TaskEvents } from "./gen/taskorch/v1/bus.js";
export { Duration } from "./gen/google/protobuf/duration.js";
export { Timestamp } from "./gen/google/protobuf/timestamp.js";
export { descriptorSetPath } from "./descriptor.js";
