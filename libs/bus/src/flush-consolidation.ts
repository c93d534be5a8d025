import type { NatsConnection } from "@nats-io/transport-node";

/** The parts of nats.js' ProtocolHandler (@nats-io/nats-core 3.x) this module relies on. */
interface ProtocolInternals {
  flushPending(): void;
  close(err?: Error): Promise<void>;
  outbound: { size(): number };
  pendingLimit: number;
}

function protocolOf(nc: NatsConnection): ProtocolInternals | undefined {
  const p = (nc as unknown as { protocol?: Partial<ProtocolInternals> }).protocol;
  const usable =
    p !== undefined &&
    typeof p.flushPending === "function" &&
    typeof p.close === "function" &&
    typeof p.outbound?.size === "function" &&
    typeof p.pendingLimit === "number";
  return usable ? (p as ProtocolInternals) : undefined;
}

const promptFlushes = new WeakMap<NatsConnection, () => void>();

/** Writes what is buffered once the current microtasks ran, instead of at the end of the turn. */
export function flushPromptly(nc: NatsConnection): void {
  promptFlushes.get(nc)?.();
}

/**
 * Flush consolidation (Netty's FlushConsolidationHandler, for nats.js): sends what one event-loop
 * turn publishes in one socket write.
 *
 * nats.js writes its outbound buffer in a microtask queued by the first command, so commands from
 * separate callbacks of one turn (a claim reply, a stream ack, a task event, a report) each cost a
 * write system call and a wake-up of nats-server. On these 2-core VMs a loopback write that wakes
 * another process costs ~0.1 ms of CPU, and at low load a task cost ~19 of them across the processes.
 * Deferring the write to the end of the turn (setImmediate) merges them: at 200 tasks/s the
 * scheduler's writes per task went from 4.4 to 2.6 and the worker's from 2.8 to 1.3; drain at a pool
 * of 10 from 1.8k to 2.1-2.2k tasks/s (docs/performance-history.md).
 *
 * What does not change: commands keep their order (one buffer); a buffer past nats.js' own limit is
 * still written at once (a long turn cannot hoard memory); close() writes what is buffered before it
 * closes the socket (as the microtask did); flush() and drain() still wait for the server's PONG,
 * which now follows the deferred write.
 *
 * A message on a task's way to its handler (a dispatch, a claim request, a claim reply) should not
 * wait for the rest of the turn: at 200 tasks/s the scheduler's dispatch publish then waited behind
 * the gRPC answer it builds in the same turn, 0.74-0.81 ms from publish to worker instead of 0.5.
 * Its sender calls flushPromptly(nc) after publishing, which writes once the current microtasks
 * ran, as nats.js does on its own (taking along whatever the turn buffered so far): 0.43-0.55 ms,
 * for a drain at a pool of 10 of 2.1-2.2k tasks/s instead of 2.3-2.4k.
 *
 * It reaches into nats.js internals; with a version that lacks them it changes nothing and returns
 * false (the test suite checks it returns true for the version we ship).
 */
export function consolidateFlushes(nc: NatsConnection): boolean {
  const protocol = protocolOf(nc);
  if (!protocol) return false;
  const flushNow = protocol.flushPending.bind(protocol);
  const close = protocol.close.bind(protocol);
  let scheduled = false;
  protocol.flushPending = () => {
    if (protocol.outbound.size() >= protocol.pendingLimit) {
      flushNow();
      return;
    }
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flushNow();
    });
  };
  let prompt = false;
  promptFlushes.set(nc, () => {
    if (prompt) return;
    prompt = true;
    queueMicrotask(() => {
      prompt = false;
      flushNow();
    });
  });
  protocol.close = (err?: Error) => {
    flushNow();
    return close(err);
  };
  return true;
}
