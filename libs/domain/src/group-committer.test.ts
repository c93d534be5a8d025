import { describe, expect, it } from "vitest";
import { GroupCommitter } from "./group-committer.js";

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("GroupCommitter", () => {
  it("flushes a lone submit at once and batches submits that arrive during a flush", async () => {
    const flushes: number[][] = [];
    const gate = deferred<void>();
    const gc = new GroupCommitter<number, number>({
      maxBatch: 100,
      maxInFlight: 1,
      flushFunc: async (items) => {
        flushes.push(items);
        if (flushes.length === 1) await gate.promise;
        return items.map((i) => i * 10);
      },
    });
    const first = gc.submit([1]);
    const second = gc.submit([2, 3]);
    const third = gc.submit([4]);
    expect(flushes).toEqual([[1]]);
    gate.resolve();
    expect(await first).toEqual([10]);
    expect(await second).toEqual([20, 30]);
    expect(await third).toEqual([40]);
    expect(flushes).toEqual([[1], [2, 3, 4]]);
  });

  it("never splits a group and fails only the group whose item failed", async () => {
    const gate = deferred<void>();
    const flushes: number[][] = [];
    const gc = new GroupCommitter<number, number>({
      maxBatch: 3,
      maxInFlight: 1,
      flushFunc: async (items) => {
        flushes.push(items);
        if (flushes.length === 1) await gate.promise;
        return items.map((i) => (i === 13 ? new Error("bad 13") : i));
      },
    });
    const a = gc.submit([0]);
    const big = gc.submit([1, 2, 3, 4, 5]);
    const bad = gc.submit([12, 13]);
    gate.resolve();
    await a;
    expect(await big).toEqual([1, 2, 3, 4, 5]);
    await expect(bad).rejects.toThrow("bad 13");
    expect(flushes).toEqual([[0], [1, 2, 3, 4, 5], [12, 13]]);
  });

  it("cuts thousands of one-item groups into flushes of maxBatch, in order, failing only the failed item's", async () => {
    const gate = deferred<void>();
    const flushes: number[][] = [];
    const gc = new GroupCommitter<number, number>({
      maxBatch: 1000,
      maxInFlight: 1,
      flushFunc: async (items) => {
        flushes.push(items);
        if (flushes.length === 1) await gate.promise;
        return items.map((i) => (i === 1500 ? new Error("bad 1500") : -i));
      },
    });
    const submits = Array.from({ length: 2501 }, (_, i) => gc.submit([i]));
    expect(gc.backlog).toBe(2500);
    gate.resolve();
    const results = await Promise.allSettled(submits);
    expect(flushes.map((f) => [f.length, f[0], f.at(-1)])).toEqual([[1, 0, 0], [1000, 1, 1000], [1000, 1001, 2000], [500, 2001, 2500]]);
    expect(results[1500]).toMatchObject({ status: "rejected", reason: new Error("bad 1500") });
    expect(results.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<number[]>).value[0])).toEqual(
      Array.from({ length: 2501 }, (_, i) => -i).filter((v) => v !== -1500),
    );
    expect(gc.backlog).toBe(0);
  });

  it("with flushAtTurnEnd, sends what one turn submits in one flush, and a later turn's in the next", async () => {
    const flushes: number[][] = [];
    const gc = new GroupCommitter<number, number>({
      maxBatch: 100,
      maxInFlight: 4,
      flushAtTurnEnd: true,
      flushFunc: async (items) => {
        flushes.push(items);
        return items;
      },
    });
    const turn1 = [gc.submit([1]), gc.submit([2]), gc.submit([3])];
    expect(flushes).toEqual([]);
    expect(await Promise.all(turn1)).toEqual([[1], [2], [3]]);
    await new Promise((r) => setImmediate(r));
    const turn2 = [gc.submit([4]), gc.submit([5])];
    expect(await Promise.all(turn2)).toEqual([[4], [5]]);
    // Without it the first submits would each have gone alone while flushes were free.
    expect(flushes).toEqual([[1, 2, 3], [4, 5]]);
  });

  it("rejects every group of a failed flush", async () => {
    const gc = new GroupCommitter<number, number>({ maxBatch: 10, maxInFlight: 1, flushFunc: async () => Promise.reject(new Error("db down")) });
    await expect(gc.submit([1])).rejects.toThrow("db down");
    expect(gc.backlog).toBe(0);
  });
});
