import {
  CoordinatorServiceService,
  type GetLeaderRequest,
  type GetLeaderResponse,
  type ListWorkersRequest,
  type ListWorkersResponse,
} from "@taskorch/proto";
import { unary, type GrpcServiceBinding } from "@taskorch/rpc";
import { getLease, listWorkers, type Pool } from "@taskorch/store";
import type { Logger } from "@taskorch/telemetry";

/** CoordinatorService: the leader lease and the worker registry, read from Postgres. */
export function coordinatorService(pool: Pool, workerTimeoutMs: number, logger: Logger): GrpcServiceBinding {
  return {
    name: "taskorch.v1.CoordinatorService",
    definition: CoordinatorServiceService,
    implementation: {
      getLeader: unary<GetLeaderRequest, GetLeaderResponse>(logger, async () => {
        const lease = await getLease(pool);
        if (!lease) return { leaderId: "", epoch: 0, held: false, expiresAt: undefined, acquiredAt: undefined };
        return { leaderId: lease.held ? lease.leaderId : "", epoch: lease.epoch, held: lease.held, expiresAt: lease.expiresAt, acquiredAt: lease.acquiredAt };
      }),
      listWorkers: unary<ListWorkersRequest, ListWorkersResponse>(logger, async () => ({
        workers: (await listWorkers(pool, workerTimeoutMs)).map((w) => ({
          id: w.id,
          hostname: w.hostname,
          queues: w.queues,
          capacity: w.capacity,
          active: w.active,
          lastHeartbeat: w.lastHeartbeat,
          startedAt: w.startedAt,
          alive: w.alive,
          version: w.version,
        })),
      })),
    },
  };
}
