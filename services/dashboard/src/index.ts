/**
 * @taskorch/dashboard — taskorch's web dashboard: overview, tasks, dead letters, workers and
 * schedules, live over server-sent events, talking to the cluster only through @taskorch/client.
 *
 * @example
 * import { loadDashboardConfig, startDashboard } from "@taskorch/dashboard";
 * const dashboard = await startDashboard(loadDashboardConfig(process.env), { logger });
 * console.log(`dashboard on ${dashboard.url}`);
 * process.on("SIGTERM", () => void dashboard.close());
 */
export { DASHBOARD_DEFAULTS, DashboardConfigError, loadDashboardConfig, type DashboardConfig } from "./config.js";
export { startDashboard, httpStatusOf, type DashboardLogger, type DashboardOptions, type DashboardServer } from "./server.js";
export { runDashboard } from "./run.js";
export { OverviewSampler, type DashboardClient, type SamplerConfig } from "./sampler.js";
export { MetricsScraper, parsePrometheusText, type MetricSample } from "./metrics.js";
export type * from "../web/api-types.js";
