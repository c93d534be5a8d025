/**
 * runDashboard: the `taskorch dashboard` command — config from the environment (a bad value exits 2
 * naming the variable), a JSON logger, the server, and a graceful stop on SIGTERM/SIGINT.
 */
import { VERSION } from "@taskorch/domain";
import { createLogger } from "@taskorch/telemetry";
import { DashboardConfigError, loadDashboardConfig } from "./config.js";
import { startDashboard } from "./server.js";

/**
 * Runs the dashboard until a signal; resolves with the exit code only when it cannot start
 * (2: bad configuration, 1: cannot listen). Call it as `process.exit(await runDashboard())`.
 */
export async function runDashboard(env: Record<string, string | undefined> = process.env): Promise<number> {
  let config;
  try {
    config = loadDashboardConfig(env);
  } catch (err) {
    if (err instanceof DashboardConfigError) {
      process.stderr.write(`taskorch dashboard: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const pretty = config.logFormat === "pretty" || (config.logFormat === "auto" && process.stdout.isTTY === true);
  const logger = createLogger({ service: "taskorch-dashboard", nodeId: env.NODE_ID ?? `dashboard-${process.pid}`, debug: config.debug, pretty });
  let dashboard;
  try {
    dashboard = await startDashboard(config, { logger });
  } catch (err) {
    logger.error({ err, host: config.host, port: config.port }, "dashboard: cannot start");
    return 1;
  }
  logger.info({ url: dashboard.url, version: VERSION }, "taskorch: started");
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, "taskorch: shutting down");
    void dashboard.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  return new Promise<number>(() => {});
}
