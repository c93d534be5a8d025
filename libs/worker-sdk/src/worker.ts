/**
 * Worker: pulls attempts of the queues it serves from JetStream, claims each before running it,
 * runs the registered handler with bounded concurrency and reports the outcome. It never touches
 * Postgres (invariant 7): everything goes over NATS, so any language can implement this loop.
 *
 * Life of one message (one attempt, or a DispatchBatch of several attempts of a queue):
 *   fetch only as many messages as the free pool slots can take, judged by the attempts per
 *   message lately (nothing waits in a local buffer, so a dead worker strands no unclaimed
 *   messages for long) -> decode -> take a slot per attempt it
 *   has room for -> claim them (request/reply, one request for many)
 *     granted:  run handler with an AbortSignal (timeout, cancel notice, shutdown) -> hand the
 *               outcome to the reporter -> free the slot (the slot bounds running handlers; the
 *               report is stored by JetStream in the background, and only when reports pile up
 *               undelivered does a slot wait for its report, so the worker stops pulling work)
 *     rejected: the attempt is no longer current (ran elsewhere, canceled): drop it
 *   all claims answered: ack the message (Postgres now owns the attempts); attempts of a batch it
 *   had no room for: nak, so JetStream redelivers the message; no answer: nak with a delay
 * A timed-out attempt is reported failed at its deadline even if the handler ignores the signal;
 * its late result is discarded.
 *
 * Shutdown (stop): stop pulling, nak what was pulled but not claimed, wait up to SHUTDOWN_TIMEOUT
 * for running handlers, then abort the rest and report them failed ("worker shut down") so they are
 * retried elsewhere at once; then wait (bounded) until the reports stream has stored every report.
 */
import { hostname } from "node:os";
import { capErrorMessage, coerceError, VERSION } from "@taskorch/domain";
import {
  DISPATCH_BATCH_HEADER,
  durationToMs,
  ensureDispatchConsumer,
  ENVELOPE_BYTES,
  ensureStreams,
  jsonFromBytes,
  largestBody,
  maxMessageBytes,
  StreamRepairer,
  subjectsFor,
  type NatsConnection,
  type Subjects,
} from "@taskorch/bus";
import { CancelNotice, DispatchBatch, DispatchMessage, Heartbeat, type Report } from "@taskorch/proto";
import {
  ATTR,
  context,
  contextFromTraceparent,
  failSpan,
  FailureLog,
  metrics,
  SpanKind,
  trace,
  traceparentOf,
  tracer,
  type Logger,
  type Span,
} from "@taskorch/telemetry";
import { jetstream, type Consumer, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { Subscription } from "@nats-io/transport-node";
import { Claimer } from "./claimer.js";
import { NonRetryableError, type TaskHandlerFunc } from "./handler.js";
import { Reporter } from "./reporter.js";
import { isThenable, RunningAttempt } from "./running-attempt.js";
import { Semaphore } from "./semaphore.js";

export interface WorkerConfig {
  nc: NatsConnection;
  natsPrefix: string;
  workerId: string;
  queues: string[];
  poolSize: number;
  heartbeatIntervalMs: number;
  defaultTimeoutMs: number;
  shutdownTimeoutMs: number;
  maxResultBytes: number;
  logger: Logger;
}

const NAK_DELAY_MS = 1000;
const NO_ROOM_NAK_DELAY_MS = 20;
/** Attempts whose claim this worker already had answered (won or lost): a redelivered batch skips them. */
const SEEN_ATTEMPTS = 10_000;
/** Long-poll of one fetch: an idle worker gets a new message the moment it is published. */
const FETCH_EXPIRES_MS = 5000;
/** How long stop() waits for the reports stream to store the last reports. */
const REPORT_FLUSH_MS = 5000;

export class Worker {
  private readonly handlers = new Map<string, TaskHandlerFunc>();
  private readonly subjects: Subjects;
  private readonly slots: Semaphore;
  private readonly claimer: Claimer;
  private readonly reporter: Reporter;
  private readonly repairer: StreamRepairer;
  private readonly running = new Map<string, RunningAttempt>();
  /** Attempts whose claim is on its way (a second message for one, e.g. a re-dispatch, must not claim it too). */
  private readonly claiming = new Set<string>();
  private readonly durations = new Map<string, { observe(seconds: number): void }>();
  private readonly seen = new Set<string>();
  /** The keys of `seen` in insertion order, overwritten in a ring: forgets the oldest in O(1). */
  private readonly seenOrder: Array<string | undefined> = new Array<string | undefined>(SEEN_ATTEMPTS);
  private seenNext = 0;
  /** Messages waiting here for a free slot, by queue. */
  private readonly waitingByQueue = new Map<string, number>();
  /** Attempts per dispatch message lately (moving average), by queue: sizes the next fetch. */
  private readonly attemptsPerMessage = new Map<string, number>();
  private fetches = new Set<ConsumerMessages>();
  private loops: Promise<void>[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private cancelSub: Subscription | undefined;
  private stopping = false;
  /** A scheduler out of reach leaves every claim unanswered: a few lines, not one per task. */
  private readonly claimFailures: FailureLog;

  constructor(private readonly config: WorkerConfig) {
    if (config.poolSize < 1) throw new Error("Worker: poolSize must be at least 1");
    if (config.queues.length === 0) throw new Error("Worker: serve at least one queue");
    this.subjects = subjectsFor(config.natsPrefix);
    this.slots = new Semaphore(config.poolSize);
    this.claimer = new Claimer(config.nc, this.subjects, config.workerId);
    this.claimFailures = new FailureLog({ logger: config.logger, failedMsg: "Worker: claim got no answer; will retry", recoveredMsg: "Worker: claims are answered again" });
    this.repairer = new StreamRepairer(config.nc, this.subjects, config.logger, async (jsm) => {
      for (const queue of config.queues) await ensureDispatchConsumer(jsm, this.subjects, queue, this.maxAckPending);
    });
    this.reporter = new Reporter(config.nc, this.subjects, config.workerId, config.logger, (reason) => this.repairer.repair(reason));
  }

  /** Registers the handler for a task type (replacing any earlier one). */
  registerHandler<P = unknown, R = unknown>(type: string, fn: TaskHandlerFunc<P, R>): this {
    this.handlers.set(type, fn as TaskHandlerFunc);
    return this;
  }

  private get maxAckPending(): number {
    return Math.max(1000, this.config.poolSize * 4);
  }

  /** Reports allowed in flight before a finished attempt keeps its slot until its report is stored. */
  private get maxReportsInFlight(): number {
    return Math.max(1000, this.config.poolSize * 2);
  }

  get activeCount(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    const { nc, logger } = this.config;
    const jsm = await ensureStreams(nc, this.subjects);
    const js = jetstream(nc);
    metrics.workerPoolCapacity.set(this.config.poolSize);
    metrics.workerPoolActive.set(0);
    this.cancelSub = nc.subscribe(this.subjects.cancels, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const notice = CancelNotice.decode(msg.data);
          this.running.get(`${notice.taskId}:${notice.attempt}`)?.abort(new Error("task canceled"));
        } catch {
          // not ours to fix: a malformed notice changes nothing
        }
      },
    });
    this.sendHeartbeat();
    this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), this.config.heartbeatIntervalMs);
    for (const queue of this.config.queues) {
      await ensureDispatchConsumer(jsm, this.subjects, queue, this.maxAckPending);
      const consumer = await js.consumers.get(this.subjects.dispatchStream, this.subjects.dispatchConsumer(queue));
      this.loops.push(this.pull(queue, consumer));
    }
    logger.info({ queues: this.config.queues, pool_size: this.config.poolSize, handlers: [...this.handlers.keys()] }, "Worker: started");
  }

  private sendHeartbeat(): void {
    try {
      this.config.nc.publish(
        this.subjects.heartbeats,
        Heartbeat.encode({
          workerId: this.config.workerId,
          hostname: hostname(),
          queues: this.config.queues,
          capacity: this.config.poolSize,
          active: this.running.size,
          version: VERSION,
        }).finish(),
      );
    } catch (err) {
      this.config.logger.warn({ err }, "Worker: heartbeat not sent");
    }
  }

  /**
   * One loop per queue: wait for a free slot, fetch at most the free slots' worth, and hand each
   * message its slot as it arrives. Several queues' loops compete for the shared slots first come,
   * first served, so no queue starves while it has messages.
   */
  private async pull(queue: string, consumer: Consumer): Promise<void> {
    while (!this.stopping) {
      await this.slots.waitFree();
      if (this.stopping) break;
      let batch: ConsumerMessages;
      try {
        // As many messages as the free slots can take: a message may carry a batch of attempts,
        // and asking for one message per free slot then brought more than there was room for,
        // each handed back and redelivered (measured: ~3 deliveries per message at a pool of 10).
        const perMessage = this.attemptsPerMessage.get(queue) ?? 1;
        batch = await consumer.fetch({ max_messages: Math.max(1, Math.floor(this.slots.free / perMessage)), expires: FETCH_EXPIRES_MS });
      } catch (err) {
        this.config.logger.warn({ err }, "Worker: fetch failed; retrying");
        this.repairer.repair("fetch failed");
        await new Promise((r) => setTimeout(r, NAK_DELAY_MS));
        continue;
      }
      this.fetches.add(batch);
      this.repairer.watch(batch);
      try {
        for await (const m of batch) {
          if (this.stopping || (this.slots.free === 0 && (this.waitingByQueue.get(queue) ?? 0) > 0)) {
            // No room, and a message of this queue already waits for a slot here: hand this one
            // back for a little while (at once would bounce it straight back), so that a worker
            // holds at most one waiting message per queue and others with room can take it.
            m.nak(this.stopping ? undefined : NO_ROOM_NAK_DELAY_MS);
            continue;
          }
          void this.accept(m, queue);
        }
      } catch (err) {
        this.config.logger.warn({ err }, "Worker: fetch ended with an error; retrying");
        this.repairer.repair("fetch error");
        await new Promise((r) => setTimeout(r, NAK_DELAY_MS));
      } finally {
        this.fetches.delete(batch);
      }
    }
  }

  /**
   * Claims the message's attempts in waves: as many as there are free slots at once, or, when the
   * pool is full, the next ones as soon as a slot frees up, in turn with the other queues' waiting
   * messages (slots are handed out first come, first served), so a big batch of one queue does
   * not starve another. A wave does not wait for the previous wave's answers: with a small pool
   * that wait was one claim round trip per attempt. A rejected claim (the attempt ran elsewhere)
   * frees its slot at once.
   * Acknowledges the message once every attempt's claim is answered; attempts already claimed
   * here are skipped when a batch is redelivered, and claims of attempts taken elsewhere are
   * rejected (fenced).
   */
  private async accept(m: JsMsg, queue: string): Promise<void> {
    let items: DispatchMessage[];
    try {
      items = m.headers?.get(DISPATCH_BATCH_HEADER) === "batch" ? DispatchBatch.decode(m.data).items : [DispatchMessage.decode(m.data)];
    } catch (err) {
      this.config.logger.warn({ err }, "Worker: dropped malformed dispatch message");
      m.term();
      return;
    }
    this.attemptsPerMessage.set(queue, 0.8 * (this.attemptsPerMessage.get(queue) ?? 1) + 0.2 * items.length);
    const headerParent = m.headers?.get("traceparent");
    // A message that comes back (a nak, a lost ack) may hold attempts this worker runs or was
    // answered for: those are not claimed again. (A claim of an attempt already RUNNING here would
    // be granted: that is how a grant nobody heard is recovered, see TaskClaimMany.)
    items = items.filter((d) => {
      const key = `${d.taskId}:${d.attempt}`;
      return !this.seen.has(key) && !this.claiming.has(key) && !this.running.has(key);
    });
    let next = 0;
    const claims: Promise<boolean>[] = [];
    try {
      while (next < items.length && !this.stopping) {
        // The first wave takes its slots synchronously, before the pull loop looks at the next message.
        let n = Math.min(this.slots.free, items.length - next);
        if (n > 0) {
          this.slots.take(n);
        } else {
          this.waitingByQueue.set(queue, (this.waitingByQueue.get(queue) ?? 0) + 1);
          m.working(); // waiting for room is not a lost message: keep JetStream from redelivering it
          try {
            await this.slots.acquire();
          } finally {
            this.waitingByQueue.set(queue, this.waitingByQueue.get(queue)! - 1);
          }
          if (this.stopping) {
            this.slots.release();
            break;
          }
          // Slots still free now are wanted by nobody else (a released slot goes to the first
          // waiter), so this wave takes them too instead of one slot per round trip.
          n = 1 + Math.min(this.slots.free, items.length - next - 1);
          if (n > 1) this.slots.take(n - 1);
        }
        const wave = items.slice(next, next + n);
        next += n;
        // Claims go out without waiting for the previous wave's answers (the Claimer batches them).
        for (const d of wave) claims.push(this.claimAndRun(d, d.traceparent || headerParent).claimed);
      }
      await Promise.all(claims);
    } catch {
      // A claim nobody answered (no scheduler): let JetStream redeliver the message later.
      m.nak(NAK_DELAY_MS);
      return;
    }
    if (next < items.length) m.nak();
    else m.ack();
  }

  private remember(key: string): void {
    // (Deleting a Set's first entry through its iterator cost ~4 µs per call at this size: V8
    // walks the deleted entries' holes from the start each time.)
    if (this.seen.has(key)) return;
    const oldest = this.seenOrder[this.seenNext];
    if (oldest !== undefined) this.seen.delete(oldest);
    this.seenOrder[this.seenNext] = key;
    this.seenNext = (this.seenNext + 1) % SEEN_ATTEMPTS;
    this.seen.add(key);
  }

  /** Claims one attempt and, when granted, runs it; `claimed` settles once the claim is answered. */
  private claimAndRun(d: DispatchMessage, traceparent: string | undefined): { claimed: Promise<boolean> } {
    // One CONSUMER span per attempt, under the dispatch span: the handler runs inside it, so its
    // own spans and log lines join the task's trace.
    const parent = contextFromTraceparent(traceparent);
    const span = tracer.startSpan(
      `process ${d.type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: { [ATTR.taskId]: d.taskId, [ATTR.taskType]: d.type, [ATTR.taskQueue]: d.queue, [ATTR.attempt]: d.attempt, [ATTR.workerId]: this.config.workerId, [ATTR.messagingSystem]: "nats" },
      },
      parent,
    );
    const key = `${d.taskId}:${d.attempt}`;
    this.claiming.add(key);
    const claim = this.claimer.claim(d.taskId, d.attempt);
    void context
      .with(trace.setSpan(parent, span), async () => {
        let granted: boolean;
        try {
          granted = await claim;
        } catch (err) {
          this.claiming.delete(key);
          this.claimFailures.failed(err, { task_id: d.taskId });
          span.addEvent("task.claim_unanswered");
          return;
        }
        // Answered either way: a redelivery of its batch need not ask again (unanswered: it must).
        // (A granted attempt is in `running` from here on: run() records it before its first await.)
        this.claiming.delete(key);
        this.remember(key);
        this.claimFailures.succeeded();
        if (!granted) {
          span.addEvent("task.claim_rejected");
          this.config.logger.debug({ task_id: d.taskId, attempt: d.attempt }, "Worker: claim rejected (attempt no longer current)");
          return;
        }
        span.addEvent("task.claimed");
        await this.run(d, span);
      })
      .finally(() => {
        span.end();
        this.slots.release();
      });
    return { claimed: claim };
  }

  private async run(d: DispatchMessage, span: Span): Promise<void> {
    // A child logger costs a serialisation of its bindings: make it only when something logs.
    let taskLogger: Logger | undefined;
    const log = (): Logger => (taskLogger ??= this.config.logger.child({ task_id: d.taskId, attempt: d.attempt, task_type: d.type }));
    const key = `${d.taskId}:${d.attempt}`;
    const attempt = new RunningAttempt();
    this.running.set(key, attempt);
    metrics.workerPoolActive.set(this.running.size);
    const timeoutMs = durationToMs(d.timeout) ?? this.config.defaultTimeoutMs;
    const started = performance.now();
    const report: Report = { taskId: d.taskId, attempt: d.attempt, type: d.type, resultJson: undefined, failure: undefined, duration: undefined, traceparent: traceparentOf() ?? "" };
    span.addEvent("task.started");
    try {
      const handler = this.handlers.get(d.type);
      if (!handler) {
        throw new NonRetryableError(`no handler registered for task type ${JSON.stringify(d.type)} on worker ${this.config.workerId} (registered: ${[...this.handlers.keys()].join(", ") || "none"})`);
      }
      const payload = JSON.parse(jsonFromBytes(d.payloadJson)) as unknown;
      const returned = handler({
        taskId: d.taskId,
        attempt: d.attempt,
        maxAttempts: d.maxAttempts,
        type: d.type,
        queue: d.queue,
        payload,
        get signal() {
          return attempt.signal;
        },
        get logger() {
          return log();
        },
      });
      // A handler that returned its result (not a promise) is done: there is nothing to time out.
      const result = isThenable(returned) ? await attempt.settle(returned, timeoutMs) : returned;
      const json = JSON.stringify(result ?? null);
      const bytes = Buffer.byteLength(json);
      if (bytes > this.config.maxResultBytes || bytes > largestBody(this.config.nc)) throw this.resultTooBig(bytes);
      report.resultJson = Buffer.from(json);
      span.addEvent("task.completed");
    } catch (err) {
      const error = coerceError(err);
      report.failure = { message: capErrorMessage(error.message || error.name), nonRetryable: error instanceof NonRetryableError || error.name === "NonRetryableError" };
      log().info({ err: error.message }, "Worker: attempt failed");
      span.addEvent("task.failed", { "exception.message": error.message });
      failSpan(span, error);
    } finally {
      this.running.delete(key);
      metrics.workerPoolActive.set(this.running.size);
    }
    const seconds = (performance.now() - started) / 1000;
    this.durationOf(d.type).observe(seconds);
    report.duration = { seconds: Math.floor(seconds), nanos: Math.round((seconds % 1) * 1e9) };
    const delivered = this.reporter.report(report).catch((err: unknown) => log().warn({ err }, "Worker: report not delivered; the coordinator will recover the attempt"));
    // Free the slot now (the caller does) unless reports are piling up undelivered (the stream is
    // slow or gone): then holding slots is the back-pressure that stops this worker pulling work.
    if (this.reporter.inFlight > this.maxReportsInFlight) await delivered;
  }

  /** A result that could not be reported: over maxResultBytes, or more than one NATS message carries. */
  private resultTooBig(bytes: number): NonRetryableError {
    const natsLimit = largestBody(this.config.nc);
    const why =
      natsLimit < this.config.maxResultBytes
        ? `${natsLimit} bytes (what one NATS message carries: the server's max_payload of ${maxMessageBytes(this.config.nc)} bytes less ${ENVELOPE_BYTES} for the envelope)`
        : `${this.config.maxResultBytes} bytes (MAX_PAYLOAD_BYTES)`;
    return new NonRetryableError(`result is ${bytes} bytes of JSON; the limit is ${why}`);
  }

  /** The duration histogram's child for a type (looking up labels on every observe hashes them). */
  private durationOf(type: string): { observe(seconds: number): void } {
    let child = this.durations.get(type);
    if (!child) {
      child = metrics.taskDuration.labels({ type });
      this.durations.set(type, child);
    }
    return child;
  }

  /** Graceful drain within SHUTDOWN_TIMEOUT (see the note at the top). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.heartbeatTimer);
    await Promise.all([...this.fetches].map((f) => f.close().catch(() => undefined)));
    const drained = await this.slots.idle(this.config.shutdownTimeoutMs);
    if (!drained) {
      this.config.logger.warn({ running: this.running.size }, "Worker: shutdown timeout reached; aborting running tasks");
      for (const c of this.running.values()) c.abort(new Error("worker shut down before the task finished"));
      await this.slots.idle(5000);
    }
    await Promise.all(this.loops);
    if (!(await this.reporter.flushed(REPORT_FLUSH_MS))) {
      this.config.logger.warn({ undelivered: this.reporter.inFlight }, "Worker: reports not stored before shutdown; the coordinator will recover those attempts");
    }
    this.cancelSub?.unsubscribe();
    this.sendHeartbeat();
    this.reporter.stop();
  }
}
