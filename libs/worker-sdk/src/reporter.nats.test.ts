/**
 * Reports that finish together share a message only as far as the server's max_payload allows:
 * five results of 300 KB were one message of 1.5 MB, refused on every retry, so those tasks were
 * never recorded. Real NATS/JetStream.
 */
import { randomUUID } from "node:crypto";
import { ensureStreams, subjectsFor } from "@taskorch/bus";
import { ReportBatch } from "@taskorch/proto";
import { createLogger } from "@taskorch/telemetry";
import { createTestNats, type TestNats } from "@taskorch/testkit";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reporter } from "./reporter.js";

let nats: TestNats;
let nc: NatsConnection;

beforeAll(async () => {
  nats = createTestNats();
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc.close();
  await nats.cleanup();
});

describe("Reporter", () => {
  it("splits reports that finish together into messages the server accepts", async () => {
    const subjects = subjectsFor(nats.prefix);
    await ensureStreams(nc, subjects);
    const reporter = new Reporter(nc, subjects, "w", createLogger({ service: "test", nodeId: "test", debug: false }));
    const result = Buffer.from(JSON.stringify("r".repeat(300_000)));
    const ids = Array.from({ length: 5 }, () => randomUUID());
    // All in one turn: one flush.
    const stored = Promise.all(ids.map((taskId) => reporter.report({ taskId, attempt: 1, type: "t", resultJson: result, failure: undefined, duration: undefined, traceparent: "" })));
    const outcome = await Promise.race([stored.then(() => "stored"), new Promise((r) => setTimeout(() => r("still retrying after 10 s"), 10_000))]);
    expect(outcome).toBe("stored");
    reporter.stop();

    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(subjects.reportsStream);
    expect(info.state.messages).toBeGreaterThanOrEqual(2);
    const seen: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(subjects.reportsStream, { seq });
      expect(m!.data.length).toBeLessThanOrEqual(nc.info!.max_payload);
      seen.push(...ReportBatch.decode(m!.data).reports.map((r) => r.taskId));
    }
    expect(seen.sort()).toEqual([...ids].sort());
    for (const stream of [subjects.dispatchStream, subjects.reportsStream]) await jsm.streams.delete(stream).catch(() => false);
  }, 20_000);
});
