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

  it("rejects every group of a failed flush", async () => {
    const gc = new GroupCommitter<number, number>({ maxBatch: 10, maxInFlight: 1, flushFunc: async () => Promise.reject(new Error("db down")) });
    await expect(gc.submit([1])).rejects.toThrow("db down");
    expect(gc.backlog).toBe(0);
  });
});
