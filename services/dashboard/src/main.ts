#!/usr/bin/env node
/** Standalone entry point (`node services/dashboard/dist/main.js`); `taskorch dashboard` calls runDashboard the same way. */
import { runDashboard } from "./run.js";

runDashboard(process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`taskorch dashboard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
