/** Human output of the operator commands: aligned tables, key/value blocks, short times. */

/** Renders rows as columns separated by two spaces; the header is the first row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** "key: value" lines with the values aligned; undefined values are left out. */
export function keyValues(pairs: [string, string | undefined][]): string {
  const shown = pairs.filter((p): p is [string, string] => p[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${v}`).join("\n") + "\n";
}

/** 2025-01-02T03:04:05Z (seconds are enough for an operator). */
export function time(d: Date | undefined): string {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, "Z") : "-";
}

/** "3s ago", "in 2m", for heartbeats and leases. */
export function relative(d: Date | undefined, now = Date.now()): string {
  if (!d) return "-";
  const ms = d.getTime() - now;
  const abs = Math.abs(ms);
  const text = abs < 1000 ? `${abs}ms` : abs < 120_000 ? `${Math.round(abs / 1000)}s` : abs < 7_200_000 ? `${Math.round(abs / 60_000)}m` : `${Math.round(abs / 3_600_000)}h`;
  return ms <= 0 ? `${text} ago` : `in ${text}`;
}

/** Cuts long cells (errors, payloads) so a table row stays on one line. */
export function truncate(s: string, max: number): string {
  const flat = s.replace(/\s+/g, " ");
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export function json(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value);
}
