/** Display formatting: rates, counts, times, JSON. */

export function rate(v: number | undefined, lowerBound = false): string {
  if (v === undefined) return "—";
  const s = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${lowerBound ? "≥ " : ""}${s}/s`;
}

export function percent(ratio: number | undefined): string {
  return ratio === undefined ? "—" : `${(ratio * 100).toFixed(ratio >= 0.999 || ratio === 0 ? 0 : 1)}%`;
}

/** A count, with "+" when it hit the sampling limit. */
export function count(n: number, truncated = false): string {
  return `${n.toLocaleString("en-US")}${truncated ? "+" : ""}`;
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (Math.abs(s) < 60) return s >= 0 ? `${s}s ago` : `in ${-s}s`;
  const m = Math.round(s / 60);
  if (Math.abs(m) < 60) return m >= 0 ? `${m}m ago` : `in ${-m}m`;
  const hr = Math.round(m / 60);
  if (Math.abs(hr) < 48) return hr >= 0 ? `${hr}h ago` : `in ${-hr}h`;
  return new Date(iso).toLocaleString();
}

export function time(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "—";
}

export function json(v: unknown): string {
  if (v === undefined) return "—";
  return JSON.stringify(v, null, 2);
}

export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

export function ms(v: number | undefined): string {
  if (v === undefined) return "worker default";
  return v % 1000 === 0 ? `${v / 1000}s` : `${v}ms`;
}
