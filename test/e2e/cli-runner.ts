/**
 * Runs the operator CLI as a user does: a child process of the real entry point
 * (services/all-in-one/dist/cli.js, what the `taskorch` bin runs) per command, with the cluster's
 * addresses in the environment as an operator would set them.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { Cluster } from "./cluster.js";

const ENTRY = fileURLToPath(new URL("../../services/all-in-one/dist/cli.js", import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `taskorch <args>` against the cluster `cluster()` returns when called (set in beforeAll). */
export function cliRunner(cluster: () => Cluster): (args: string[], stdin?: string) => Promise<Run> {
  return (args, stdin) =>
    new Promise((resolve, reject) => {
      const c = cluster();
      const child = spawn(process.execPath, [ENTRY, ...args], {
        env: {
          PATH: process.env.PATH ?? "",
          TASKORCH_ADDRESS: `127.0.0.1:${c.scheduler.grpcPort}`,
          TASKORCH_COORDINATOR_ADDRESS: `127.0.0.1:${c.coordinator.grpcPort}`,
        },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin ?? "");
    });
}

/** The JSON a successful (exit 0) `--json` command printed. */
export function jsonOf<T = Record<string, unknown>>(r: Run): T {
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}
