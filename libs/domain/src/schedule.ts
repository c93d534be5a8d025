import { CronExpressionParser } from "cron-parser";
import { formatDuration, parseDuration } from "./duration.js";
import { InvalidArgumentError } from "./errors.js";

/** When a schedule fires: a cron expression in a time zone, or a fixed interval. */
export type Timing = { kind: "cron"; cron: string; timeZone: string } | { kind: "interval"; intervalMs: number };

export function checkTimeZone(field: string, tz: string): string {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return tz;
  } catch {
    throw new InvalidArgumentError(field, `${JSON.stringify(tz)} is not an IANA time zone, e.g. "UTC" or "Europe/Paris"`);
  }
}

/** Checks a cron expression (5 fields, or 6 with seconds first); throws naming the field. */
export function checkCron(field: string, cron: string, tz: string): string {
  const fields = cron.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) {
    throw new InvalidArgumentError(field, `${JSON.stringify(cron)} needs 5 fields (minute hour day month weekday) or 6 with seconds first`);
  }
  try {
    CronExpressionParser.parse(cron, { tz });
  } catch (err) {
    throw new InvalidArgumentError(field, `${JSON.stringify(cron)} is not a valid cron expression: ${err instanceof Error ? err.message : String(err)}`);
  }
  return cron.trim();
}

/** The first tick strictly after `after` (DST is handled by the cron library in the zone). */
export function nextTick(timing: Timing, after: Date, anchor?: Date): Date {
  if (timing.kind === "interval") {
    // Ticks sit on a grid from the anchor (creation), so restarts do not drift the schedule.
    const base = (anchor ?? after).getTime();
    const n = Math.floor((after.getTime() - base) / timing.intervalMs) + 1;
    return new Date(base + Math.max(1, n) * timing.intervalMs);
  }
  return CronExpressionParser.parse(timing.cron, { currentDate: after, tz: timing.timeZone }).next().toDate();
}

const RATE_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses Celery's rate notation ("10/s", "10/m", "100/h") or "N/<duration>" ("5/30s"). */
export function parseRate(field: string, rate: string): { limit: number; periodMs: number } {
  const m = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(rate);
  const limit = m ? Number(m[1]) : NaN;
  const periodMs = m ? (RATE_UNITS[m[2]!] ?? parseDuration(m[2]!)) : undefined;
  if (!m || !Number.isInteger(limit) || limit < 1 || limit > 1_000_000 || periodMs === undefined || periodMs < 1) {
    throw new InvalidArgumentError(field, `${JSON.stringify(rate)} is not a rate: use Celery's notation "10/s", "10/m", "100/h" (or "5/30s")`);
  }
  return { limit, periodMs };
}

export function formatRate(limit: number, periodMs: number): string {
  for (const [unit, ms] of Object.entries(RATE_UNITS)) if (periodMs === ms) return `${limit}/${unit}`;
  return `${limit}/${formatDuration(periodMs)}`;
}
