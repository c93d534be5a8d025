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
    fileParallelism: true,
    maxWorkers: 2,
  },
});
