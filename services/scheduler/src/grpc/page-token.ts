import { InvalidArgumentError, isUuid } from "@taskorch/domain";

/** Keyset cursor: the id of the last task on the previous page, opaque to clients. */
export function encodePageToken(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString("base64url");
}

export function decodePageToken(token: string): string {
  try {
    const raw = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof raw.after !== "string" || !isUuid(raw.after)) throw new Error("bad cursor");
    return raw.after;
  } catch {
    throw new InvalidArgumentError("page_token", "is not a token from a previous ListTasks response; omit it to start from the first page");
  }
}
