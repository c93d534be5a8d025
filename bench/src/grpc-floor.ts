/**
 * The ceiling gRPC puts on single enqueue on this machine: a grpc-js server whose unary handler
 * does nothing, in its own process, and a grpc-js client in this one — 32 concurrent calls over one
 * channel (as the bench's single-enqueue workload), then one call at a time 20 ms apart (idle
 * round trip). taskorch's EnqueueTask cannot beat these numbers, whatever it does behind the call.
 *
 *   npm --prefix bench run grpc-floor
 */
import { fork } from "node:child_process";
import * as grpc from "@grpc/grpc-js";

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
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.send?.({ port });
  });
}

async function measure(): Promise<void> {
  const child = fork(new URL(import.meta.url).pathname, ["serve"], { stdio: "inherit" });
  const port = await new Promise<number>((resolve) => child.once("message", (m: { port: number }) => resolve(m.port)));
  const Client = grpc.makeGenericClientConstructor(service, "Floor");
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { echo: (b: Buffer, cb: (err: grpc.ServiceError | null) => void) => void };
  const call = () => new Promise<void>((resolve, reject) => client.echo(Buffer.alloc(80), (err) => (err ? reject(err) : resolve())));
  for (let i = 0; i < 500; i++) await call(); // warm-up
  let started = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (started < CALLS) {
      started++;
      await call();
    }
  }));
  const rate = CALLS / ((performance.now() - t0) / 1000);
  const lat: number[] = [];
  for (let i = 0; i < IDLE_CALLS; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const t = performance.now();
    await call();
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2);
  console.log("| measure | value |\n|---|---|");
  console.log(`| no-op unary calls/s, ${CONCURRENCY} concurrent on one channel | ${Math.round(rate).toLocaleString("en-US")} |`);
  console.log(`| idle round trip (one call every 20 ms), p50 / p99 ms | ${q(0.5)} / ${q(0.99)} |`);
  client.close();
  child.kill();
}

if (process.argv[2] === "serve") serve();
else await measure();
