/**
 * A peer's drain workers in their own process, the way a user runs workers apart from producers
 * (taskorch's worker is a process of its own too). argv[2] is JSON: { system, setting, ... }.
 * Prints "READY <epoch ms>" once its workers run; stops gracefully on SIGTERM.
 */
import { startPeerWorker } from "./peer-workers.js";
import { epochMs } from "./common.js";

const cfg = JSON.parse(process.argv[2] ?? "{}") as Record<string, unknown>;
const stopper = await startPeerWorker(cfg as never, () => undefined);
process.stdout.write(`READY ${epochMs()}\n`);
let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  stopper().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
