// Enqueues one task over gRPC, waits for it and prints it: the "first task" a newcomer sees.
import { credentials } from "@grpc/grpc-js";
import { SchedulerServiceClient, TaskStatus } from "@taskorch/proto";

const address = process.argv[2] ?? "127.0.0.1:50051";
const client = new SchedulerServiceClient(address, credentials.createInsecure());
const call = (method, req) => new Promise((resolve, reject) => client[method](req, (err, res) => (err ? reject(err) : resolve(res))));

await new Promise((resolve, reject) => client.waitForReady(Date.now() + 30_000, (err) => (err ? reject(err) : resolve())));
const { task } = await call("enqueueTask", { type: "example.noop", queue: "", priority: 0, idempotencyKey: "", payload: { hello: "taskorch" } });
console.log(`demo: enqueued ${task.id} (${task.type}), waiting for it...`);
const done = await call("waitTask", { id: task.id, timeout: { seconds: 30, nanos: 0 } });
const status = TaskStatus[done.task.status].replace("TASK_STATUS_", "");
console.log(`demo: task ${done.task.id} is ${status} after ${done.task.attempts} attempt(s); result: ${JSON.stringify(done.task.result)}`);
client.close();
if (status !== "SUCCEEDED") process.exit(1);
