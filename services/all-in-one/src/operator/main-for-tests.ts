#!/usr/bin/env node
/**
 * Runs an operator command without the service entry point: `node dist/operator/main-for-tests.js
 * list --json`. Tests use it; `taskorch <command>` does the same once cli.ts calls runOperatorCommand.
 */
import { OPERATOR_USAGE, runOperatorCommand } from "./index.js";

const code = await runOperatorCommand(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin });
if (code === undefined) process.stderr.write(`not an operator command: ${JSON.stringify(process.argv[2] ?? "")}\n\n${OPERATOR_USAGE}\n`);
process.exit(code ?? 2);
