import { readFileSync } from "node:fs";

const QUERY_DIR = new URL("../queries/", import.meta.url);
const cache = new Map<string, string>();

/**
 * Loads one named statement from queries/<name>.sql (BullMQ's per-statement loader). The name doubles
 * as the prepared-statement name, so each connection parses a statement once.
 */
export function sql(name: string): { name: string; text: string } {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`${name}.sql`, QUERY_DIR), "utf8");
    cache.set(name, text);
  }
  return { name, text };
}

/**
 * A statement specialised to a set of task statuses: their names replace {statuses} in the text,
 * under a prepared-statement name of their own, so that the generic plan can pick the index that
 * fits them (statuses passed as a parameter are invisible to a generic plan). Statuses are a
 * closed set of plain words, checked here, so the substitution cannot change the statement's meaning.
 */
export function sqlForStatuses(name: string, statuses: readonly string[]): { name: string; text: string } {
  for (const s of statuses) if (!/^[a-z_]+$/.test(s)) throw new Error(`sqlForStatuses: ${JSON.stringify(s)} is not a task status`);
  const { text } = sql(name);
  return { name: `${name}:${statuses.join(",")}`, text: text.replaceAll("{statuses}", statuses.map((s) => `'${s}'`).join(", ")) };
}
