import { createInbox, headers as newHeaders, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { flushPromptly } from "./flush-consolidation.js";

export interface PublishOptions {
  headers?: MsgHdrs;
  /** JetStream de-duplication id (Nats-Msg-Id). */
  msgId?: string;
  /** On a task's way to its handler: written at once, not at the end of the turn (flushPromptly). */
  promptly?: boolean;
}

const ACK_TIMEOUT_MS = 5000;

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Publishes to JetStream subjects and awaits the stream's acknowledgement, using a core publish with
 * a reply inbox and one subscription for all acks. PITFALLS.md measured js.publish() at ~85 µs of
 * client CPU per message (~15k/s per process); this path reached 70-90k/s on the same server.
 */
export class StreamPublisher {
  private readonly inboxPrefix = createInbox();
  private readonly pending = new Map<number, Pending>();
  private readonly sub: Subscription;
  private seq = 0;

  constructor(private readonly nc: NatsConnection) {
    this.sub = nc.subscribe(`${this.inboxPrefix}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const id = Number(msg.subject.slice(this.inboxPrefix.length + 1));
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        clearTimeout(p.timer);
        const body = msg.data.length > 0 ? (JSON.parse(new TextDecoder().decode(msg.data)) as { error?: { description?: string } }) : {};
        if (body.error) p.reject(new Error(`JetStream rejected publish: ${body.error.description ?? "unknown error"}`));
        else if (msg.headers?.hasError) p.reject(new Error(`JetStream rejected publish: ${msg.headers.description}`));
        else p.resolve();
      },
    });
  }

  /** Resolves once the stream has stored the message; rejects on error, no stream, or timeout. */
  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<void> {
    const id = ++this.seq;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no JetStream acknowledgement for ${subject} within ${ACK_TIMEOUT_MS}ms`));
      }, ACK_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      let headers = options.headers;
      if (options.msgId !== undefined) {
        headers = headers ?? newHeaders();
        headers.set("Nats-Msg-Id", options.msgId);
      }
      try {
        this.nc.publish(subject, data, { reply: `${this.inboxPrefix}.${id}`, headers });
        if (options.promptly) flushPromptly(this.nc);
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  close(): void {
    this.sub.unsubscribe();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error("publisher closed"));
      this.pending.delete(id);
    }
  }
}

