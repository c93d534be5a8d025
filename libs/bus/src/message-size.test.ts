import { describe, expect, it } from "vitest";
import { chunkBySize } from "./message-size.js";

describe("chunkBySize", () => {
  const size = (n: number) => n;
  it("keeps order and cuts at the count or the byte budget, whichever comes first", () => {
    expect(chunkBySize([1, 1, 1, 1, 1], size, 100, 2)).toEqual([[1, 1], [1, 1], [1]]);
    expect(chunkBySize([40, 40, 40, 10, 50], size, 100, 32)).toEqual([[40, 40], [40, 10, 50]]);
    expect(chunkBySize([100, 1], size, 100, 32)).toEqual([[100], [1]]);
  });
  it("sends an item bigger than the budget alone, never with others", () => {
    expect(chunkBySize([10, 500, 10], size, 100, 32)).toEqual([[10], [500], [10]]);
    expect(chunkBySize([], size, 100, 32)).toEqual([]);
  });
});
