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
