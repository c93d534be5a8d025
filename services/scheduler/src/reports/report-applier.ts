import { capErrorMessage, GroupCommitter, isUuid, type AttemptReport, type TaskStatus } from "@taskorch/domain";
import { jsonFromBytes, type AdmissionEvent, type NatsConnection, type StreamRepairer, type Subjects } from "@taskorch/bus";
import { ReportBatch } from "@taskorch/proto";
import { recordOutcomes, type BackoffParams, type Pool, type RecordedOutcome } from "@taskorch/store";
import { ATTR, contextFromTraceparent, FailureLog, metrics, SpanStatusCode, tracer, type Logger } from "@taskorch/telemetry";
import { jetstream, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";

/** Redelivery delay when reports could not be written (database down). */
const NAK_DELAY_MS = 1000;
const RESTART_DELAY_MS = 500;

/** Turns one wire report into a domain report, or undefined when it is malformed (dropped). */
export function toAttemptReport(workerId: string, r: ReportBatch["reports"][number]): AttemptReport | undefined {
  if (!isUuid(r.taskId) || r.attempt < 1 || workerId === "") return undefined;
  const durationMs = r.duration ? r.duration.seconds * 1000 + r.duration.nanos / 1e6 : 0;
  if (r.resultJson !== undefined) {
    const resultJson = r.resultJson.length === 0 ? "null" : jsonFromBytes(r.resultJson);
    try {
      JSON.parse(resultJson);
    } catch {
      return undefined;
    }
    return { taskId: r.taskId, attempt: r.attempt, workerId, type: r.type, durationMs, traceparent: r.traceparent || null, outcome: { kind: "success", resultJson } };
  }
  if (r.failure !== undefined) {
    return {
      taskId: r.taskId,
      attempt: r.attempt,
      workerId,
      type: r.type,
      durationMs,
      traceparent: r.traceparent || null,
      outcome: { kind: "failure", message: capErrorMessage(r.failure.message) || "failed without a message", nonRetryable: r.failure.nonRetryable },
    };
  }
  return undefined;
}

const EVENT_BY_STATUS: Record<string, string> = {
  succeeded: "task.succeeded",
  pending: "task.retry_scheduled",
  dead_letter: "task.dead_lettered",
};

/** Closes a task's trace: a span under the worker's span saying what was recorded, or that it was stale. */
function traceRecording(r: AttemptReport, outcome: RecordedOutcome | null): void {
  if (!r.traceparent) return;
  const span = tracer.startSpan(
    `record ${r.type}`,
    { attributes: { [ATTR.taskId]: r.taskId, [ATTR.taskType]: r.type, [ATTR.attempt]: r.attempt, [ATTR.workerId]: r.workerId } },
    contextFromTraceparent(r.traceparent),
  );
  if (outcome) {
    span.setAttribute(ATTR.status, outcome.status);
    span.addEvent(EVENT_BY_STATUS[outcome.status] ?? `task.${outcome.status}`);
    if (outcome.status === "dead_letter") span.setStatus({ code: SpanStatusCode.ERROR, message: r.outcome.kind === "failure" ? r.outcome.message : "dead letter" });
  } else {
    span.addEvent("task.report_rejected", { reason: "attempt no longer current" });
  }
  span.end();
}

/**
 * Applies workers' reports (`<prefix>.reports`, JetStream) to Postgres in batches: every report
 * batch that arrives while a write runs goes into the next write (group commit). Messages are
 * acknowledged only after the commit, so a crash here redelivers them; applying a report twice
 * changes nothing (the guarded UPDATE no longer matches: invariant 4).
 */
export class ReportApplier {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private readonly committer: GroupCommitter<AttemptReport, RecordedOutcome | null>;
  private readonly writeFailures: FailureLog;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly pool: Pool,
    private readonly backoff: BackoffParams,
    private readonly announceFunc: (finishedTaskIds: string[]) => void,
    private readonly repairer: StreamRepairer,
    private readonly admissionFunc: (event: AdmissionEvent) => void,
    private readonly logger: Logger,
  ) {
    // While Postgres is away every report message fails and comes back each second: a few lines, not one per message.
    this.writeFailures = new FailureLog({ logger, failedMsg: "ReportApplier: writing reports failed; will retry", recoveredMsg: "ReportApplier: writing reports works again" });
    this.committer = new GroupCommitter({
      maxBatch: 5000,
      maxInFlight: 2,
      // Report messages delivered in one turn go into one write.
      flushAtTurnEnd: true,
      flushFunc: async (reports) => {
        let outcomes: RecordedOutcome[];
        try {
          outcomes = await recordOutcomes(this.pool, reports, this.backoff);
        } catch (err) {
          this.writeFailures.failed(err);
          throw err;
        }
        this.writeFailures.succeeded();
        this.afterCommit(outcomes);
        // Finished attempts free room in their queues' windows; a retry is a newly delayed task
        // the leader must plan for.
        if (outcomes.some((o) => o.status === "pending")) this.admissionFunc("ready");
        else if (outcomes.length > 0) this.admissionFunc("room");
        const byKey = new Map(outcomes.map((o) => [o.taskId, o]));
        const results = reports.map((r) => byKey.get(r.taskId) ?? null);
        reports.forEach((r, i) => traceRecording(r, results[i] ?? null));
        return results;
      },
    });
  }

  async start(): Promise<void> {
    const js = jetstream(this.nc);
    // Fail fast at start when the consumer cannot be reached at all.
    await js.consumers.get(this.subjects.reportsStream, this.subjects.reportsConsumer);
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          const consumer = await js.consumers.get(this.subjects.reportsStream, this.subjects.reportsConsumer);
          const messages = await consumer.consume({ max_messages: 2000 });
          this.messages = messages;
          // A vanished stream or consumer ends this consume; the repairer recreates them and the
          // loop consumes again (reports published meanwhile wait in the new stream).
          this.repairer.watch(messages, () => void messages.close());
          for await (const m of messages) this.handle(m);
        } catch (err) {
          if (!this.stopped) this.logger.warn({ err }, "ReportApplier: consume failed; retrying");
          this.repairer.repair("reports consume failed");
        }
        if (!this.stopped) await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
      }
    })();
  }

  private handle(m: JsMsg): void {
    let batch: ReportBatch;
    try {
      batch = ReportBatch.decode(m.data);
    } catch (err) {
      this.logger.warn({ err }, "ReportApplier: dropped malformed report message");
      m.term();
      return;
    }
    const reports = batch.reports.map((r) => toAttemptReport(batch.workerId, r)).filter((r): r is AttemptReport => r !== undefined);
    if (reports.length < batch.reports.length) {
      this.logger.warn({ dropped: batch.reports.length - reports.length, worker: batch.workerId }, "ReportApplier: dropped malformed reports");
    }
    this.committer.submit(reports).then(
      (outcomes) => {
        const stale = outcomes.filter((o) => o === null).length;
        if (stale > 0) this.logger.debug({ stale, worker: batch.workerId }, "ReportApplier: ignored reports for attempts that are no longer current");
        m.ack();
      },
      // Logged by the write (writeFailures); JetStream offers the message again.
      () => m.nak(NAK_DELAY_MS),
    );
  }

  private afterCommit(outcomes: RecordedOutcome[]): void {
    const finished: string[] = [];
    for (const o of outcomes) {
      const status: TaskStatus = o.status;
      if (status === "succeeded") {
        metrics.tasksCompleted.inc({ type: o.type, status: "success" });
        finished.push(o.taskId);
      } else {
        metrics.tasksCompleted.inc({ type: o.type, status: "failed" });
        if (status === "pending") metrics.taskRetries.inc({ type: o.type, attempt: String(o.attempts) });
        if (status === "dead_letter") {
          metrics.tasksDeadLetter.inc({ type: o.type });
          finished.push(o.taskId);
        }
      }
    }
    this.announceFunc(finished);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }
}
