import { defineConfig } from "vitest/config";

// Unit tests (`*.test.ts` beside the code) need nothing; `*.pg.test.ts`, `*.nats.test.ts` and
// test/e2e need the local Postgres and NATS (started by .ci/run / make test when absent).
export default defineConfig({
  test: {
    include: ["libs/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "bench/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One file at a time: the e2e files each run several service processes, Postgres and NATS
    // on a 2-core machine, and a browser test next to a fuzz run times out. Sequential is ~9 min.
    fileParallelism: false,
    maxWorkers: 1,
  },
});
