import { credentials, type ServiceError } from "@grpc/grpc-js";
import {
  CoordinatorServiceClient,
  SchedulerServiceClient,
  type CancelTaskRequest,
  type CancelTaskResponse,
  type EnqueueTaskRequest,
  type EnqueueTaskResponse,
  type EnqueueTasksRequest,
  type EnqueueTasksResponse,
  type GetLeaderRequest,
  type GetLeaderResponse,
  type GetTaskRequest,
  type GetTaskResponse,
  type ListTasksRequest,
  type ListTasksResponse,
  type ListWorkersRequest,
  type ListWorkersResponse,
  type RetryTaskRequest,
  type RetryTaskResponse,
  type WaitTaskRequest,
  type WaitTaskResponse,
  type GetGroupRequest,
  type GetGroupResponse,
  type WaitGroupRequest,
  type WaitGroupResponse,
  type SetRateLimitRequest,
  type SetRateLimitResponse,
  type SetQueueLimitRequest,
  type SetQueueLimitResponse,
  type ListLimitsRequest,
  type ListLimitsResponse,
  type CreateScheduleRequest,
  type CreateScheduleResponse,
  type ListSchedulesRequest,
  type ListSchedulesResponse,
  type PauseScheduleRequest,
  type PauseScheduleResponse,
  type TriggerScheduleRequest,
  type TriggerScheduleResponse,
} from "@taskorch/proto";

type Unary = (req: unknown, cb: (err: ServiceError | null, res: unknown) => void) => void;

function call<Req, Res>(client: object, method: string): (req: Req) => Promise<Res> {
  const fn = (client as Record<string, Unary>)[method]!;
  return (req) => new Promise<Res>((resolve, reject) => fn.call(client, req, (err, res) => (err ? reject(err) : resolve(res as Res))));
}

/** Promise-returning SchedulerService client for tests. */
export function schedulerClient(port: number) {
  const raw = new SchedulerServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    enqueueTask: call<EnqueueTaskRequest, EnqueueTaskResponse>(raw, "enqueueTask"),
    enqueueTasks: call<Omit<EnqueueTasksRequest, "readMask"> & Partial<Pick<EnqueueTasksRequest, "readMask">>, EnqueueTasksResponse>(raw, "enqueueTasks"),
    getTask: call<GetTaskRequest, GetTaskResponse>(raw, "getTask"),
    listTasks: call<Omit<ListTasksRequest, "readMask"> & Partial<Pick<ListTasksRequest, "readMask">>, ListTasksResponse>(raw, "listTasks"),
    cancelTask: call<CancelTaskRequest, CancelTaskResponse>(raw, "cancelTask"),
    retryTask: call<RetryTaskRequest, RetryTaskResponse>(raw, "retryTask"),
    waitTask: call<WaitTaskRequest, WaitTaskResponse>(raw, "waitTask"),
    getGroup: call<GetGroupRequest, GetGroupResponse>(raw, "getGroup"),
    waitGroup: call<WaitGroupRequest, WaitGroupResponse>(raw, "waitGroup"),
    setRateLimit: call<SetRateLimitRequest, SetRateLimitResponse>(raw, "setRateLimit"),
    setQueueLimit: call<SetQueueLimitRequest, SetQueueLimitResponse>(raw, "setQueueLimit"),
    listLimits: call<ListLimitsRequest, ListLimitsResponse>(raw, "listLimits"),
    createSchedule: call<CreateScheduleRequest, CreateScheduleResponse>(raw, "createSchedule"),
    listSchedules: call<ListSchedulesRequest, ListSchedulesResponse>(raw, "listSchedules"),
    pauseSchedule: call<PauseScheduleRequest, PauseScheduleResponse>(raw, "pauseSchedule"),
    triggerSchedule: call<TriggerScheduleRequest, TriggerScheduleResponse>(raw, "triggerSchedule"),
    close: () => raw.close(),
  };
}

/** Promise-returning CoordinatorService client for tests. */
export function coordinatorClient(port: number) {
  const raw = new CoordinatorServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    getLeader: call<GetLeaderRequest, GetLeaderResponse>(raw, "getLeader"),
    listWorkers: call<ListWorkersRequest, ListWorkersResponse>(raw, "listWorkers"),
    close: () => raw.close(),
  };
}
