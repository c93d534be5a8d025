/**
 * The ceiling gRPC puts on single enqueue on this machine: a grpc-js server whose unary handler
 * does nothing, in its own process, and a grpc-js client in this one — 32 concurrent calls over one
 * channel (as the bench's single-enqueue workload), then one call at a time 20 ms apart (idle
 * round trip). taskorch's EnqueueTask cannot beat these numbers, whatever it does behind the call.
 *
 * Then the cost of one hop between processes: a one-byte TCP echo between the same two processes,
 * back to back, and one every 5 ms (as the steady workload's 200 tasks/s), when both sleep between
 * messages. A pickup crosses eleven such hops (client, scheduler, Postgres, NATS, worker), so on a
 * machine where waking a sleeping process is slow, that is the floor of the latency numbers.
 *
 *   npm --prefix bench run grpc-floor
 */
import { fork, type ChildProcess } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { idleDurations, runConcurrent, track } from "./common.js";

const identity = (b: Buffer): Buffer => b;
const service: grpc.ServiceDefinition = {
  echo: { path: "/bench.Floor/Echo", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};
const CALLS = 20_000;
const CONCURRENCY = 32;
const IDLE_CALLS = 200;

function serve(): void {
  const server = new grpc.Server();
  const reply = Buffer.alloc(60); // about an EnqueueTaskResponse without the payload
  server.addService(service, { echo: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, reply) });
  const echo = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on("data", (d) => socket.write(d));
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    echo.listen(0, "127.0.0.1", () => process.send?.({ port, echoPort: (echo.address() as net.AddressInfo).port }));
  });
}

/** The no-op server in a child process of its own (the bench's floors use it too). */
export async function startNoopServer(): Promise<{ port: number; echoPort: number; child: ChildProcess }> {
  const child = track(fork(fileURLToPath(import.meta.url), ["serve"], { stdio: "inherit" }));
  const { port, echoPort } = await new Promise<{ port: number; echoPort: number }>((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the no-op gRPC server exited (${code}) before it listened`)));
  });
  return { port, echoPort, child };
}

export interface NoopClient {
  call(): Promise<void>;
  close(): void;
}

export function noopClient(port: number): NoopClient {
  const Client = grpc.makeGenericClientConstructor(service, "Floor");
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { echo: (b: Buffer, cb: (err: grpc.ServiceError | null) => void) => void };
  return {
    call: () => new Promise<void>((resolve, reject) => client.echo(Buffer.alloc(80), (err) => (err ? reject(err) : resolve()))),
    close: () => client.close(),
  };
}

/** No-op unary calls/s with `concurrency` calls in flight on one channel (after a warm-up). */
export async function noopCallRate(client: NoopClient, calls: number, concurrency: number): Promise<number> {
  for (let i = 0; i < 500; i++) await client.call(); // warm-up
  const t0 = performance.now();
  await runConcurrent(calls, concurrency, () => client.call());
  return calls / ((performance.now() - t0) / 1000);
}

async function measure(): Promise<void> {
  const { port, echoPort, child } = await startNoopServer();
  const client = noopClient(port);
  const rate = await noopCallRate(client, CALLS, CONCURRENCY);
  const lat = await idleDurations(() => client.call(), IDLE_CALLS, 20);
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  const hop = await echoRoundTrips(echoPort);
  const us = (xs: number[]) => `${Math.round(1000 * q(xs, 0.5))} / ${Math.round(1000 * q(xs, 0.99))}`;
  console.log("| measure | value |\n|---|---|");
  console.log(`| no-op unary calls/s, ${CONCURRENCY} concurrent on one channel | ${Math.round(rate).toLocaleString("en-US")} |`);
  console.log(`| idle round trip (one call every 20 ms), p50 / p99 ms | ${q(lat, 0.5).toFixed(2)} / ${q(lat, 0.99).toFixed(2)} |`);
  console.log(`| TCP echo round trip between the two processes, back to back, p50 / p99 µs | ${us(hop.busy)} |`);
  console.log(`| TCP echo round trip, one every 5 ms (both processes asleep in between), p50 / p99 µs | ${us(hop.idle)} |`);
  client.close();
  child.kill();
}

/** One-byte echoes: 2,000 back to back, then 400 spaced 5 ms apart. */
async function echoRoundTrips(port: number): Promise<{ busy: number[]; idle: number[] }> {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once("connect", resolve));
  const echo = () =>
    new Promise((resolve) => {
      socket.once("data", resolve);
      socket.write("x");
    });
  const busy: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    await echo();
    busy.push(performance.now() - t);
  }
  const idle = await idleDurations(echo, 400, 5);
  socket.destroy();
  return { busy, idle };
}

// Run as a script (npm run grpc-floor, or forked with "serve"), not when the bench imports it.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === "serve") serve();
  else await measure();
}
