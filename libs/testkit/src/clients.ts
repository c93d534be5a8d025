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
    enqueueTasks: call<EnqueueTasksRequest, EnqueueTasksResponse>(raw, "enqueueTasks"),
    getTask: call<GetTaskRequest, GetTaskResponse>(raw, "getTask"),
    listTasks: call<ListTasksRequest, ListTasksResponse>(raw, "listTasks"),
    cancelTask: call<CancelTaskRequest, CancelTaskResponse>(raw, "cancelTask"),
    retryTask: call<RetryTaskRequest, RetryTaskResponse>(raw, "retryTask"),
    waitTask: call<WaitTaskRequest, WaitTaskResponse>(raw, "waitTask"),
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
