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
 * A statement specialised to one task status: the status's name replaces '{status}' in the text,
 * under its own prepared-statement name, so that the generic plan can pick that status's partial
 * index (a status passed as a parameter is invisible to a generic plan). Statuses are a closed
 * set of plain words, checked here, so the substitution cannot change the statement's meaning.
 */
export function sqlForStatus(name: string, status: string): { name: string; text: string } {
  if (!/^[a-z_]+$/.test(status)) throw new Error(`sqlForStatus: ${JSON.stringify(status)} is not a task status`);
  const { text } = sql(name);
  return { name: `${name}:${status}`, text: text.replaceAll("'{status}'", `'${status}'`) };
}
