import { randomBytes, randomFillSync } from "node:crypto";

/** Random bytes drawn in 4 KiB blocks: one syscall per ~400 ids instead of one per id (profiled). */
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

function random10(): Buffer {
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const out = POOL.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return out;
}

let lastMs = 0;
let seq = 0;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix ms, then a 12-bit counter (RFC 9562 method 1) and random
 * bits, so ids from one process sort in creation order even within a millisecond (ListTasks pages
 * on id), and inserts land at the right edge of the primary-key index.
 */
export function newTaskId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    seq = 0;
  } else if (++seq > 0xfff) {
    lastMs += 1;
    seq = 0;
  }
  const bytes = Buffer.allocUnsafe(16);
  random10().copy(bytes, 6);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (seq >> 8);
  bytes[7] = seq & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}

/** Worker and coordinator ids, as in the seed's health example: `hostname-pid-random`. */
export function newNodeId(hostname: string, pid: number): string {
  return `${hostname}-${pid}-${randomBytes(3).toString("hex")}`;
}
