/**
 * Group commit: callers submit groups of items; while a flush is running, new groups queue up and
 * go out together in the next flush. Under load each statement carries many callers' rows (one
 * commit, one fsync); when idle a lone caller is flushed at once (with flushAtTurnEnd: at the end
 * of the current event-loop turn), so nobody waits for a timer.
 *
 * A group is never split across flushes, so a flush function that writes in one transaction makes
 * each group atomic (EnqueueTasks' all-or-none). A failed flush rejects every group in it.
 */
export interface GroupCommitterConfig<In, Out> {
  /** Writes the items and returns one result per item, in order (an Error instance fails that item's group). */
  flushFunc: (items: In[], groupSizes: number[]) => Promise<Array<Out | Error>>;
  /** Flush once this many items are waiting even if other flushes run (a group larger than this goes alone). */
  maxBatch: number;
  /** Flushes allowed to run at once (more overlap = more pool connections in use). */
  maxInFlight: number;
  /**
   * Start flushes at the end of the event-loop turn (setImmediate) instead of at once, so that
   * what is submitted in one turn goes out together: the callbacks of one incoming message or
   * reply each submit one item, and without this the first few left alone, one per flush.
   */
  flushAtTurnEnd?: boolean;
}

interface Group<In, Out> {
  items: In[];
  resolve: (out: Out[]) => void;
  reject: (err: Error) => void;
}

export class GroupCommitter<In, Out> {
  private waiting: Group<In, Out>[] = [];
  private waitingItems = 0;
  private inFlight = 0;
  private pumpScheduled = false;

  constructor(private readonly config: GroupCommitterConfig<In, Out>) {
    if (config.maxBatch < 1) throw new Error("GroupCommitter: maxBatch must be at least 1");
    if (config.maxInFlight < 1) throw new Error("GroupCommitter: maxInFlight must be at least 1");
  }

  /** Submits items that must be written together; resolves with their results in order. */
  submit(items: In[]): Promise<Out[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<Out[]>((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      this.waitingItems += items.length;
      if (!this.config.flushAtTurnEnd) this.pump();
      else if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        setImmediate(() => {
          this.pumpScheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Items waiting for a flush (for tests and gauges). */
  get backlog(): number {
    return this.waitingItems;
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.inFlight < this.config.maxInFlight) {
      // Take the longest prefix of waiting groups that fits (at least one group) at once: shift()
      // per group copies the rest each time, quadratic with thousands of one-item groups waiting.
      let count = 0;
      let size = 0;
      while (count < this.waiting.length) {
        const next = this.waiting[count]!.items.length;
        if (count > 0 && size + next > this.config.maxBatch) break;
        size += next;
        count++;
      }
      const all = count === this.waiting.length;
      const batch = all ? this.waiting : this.waiting.slice(0, count);
      this.waiting = all ? [] : this.waiting.slice(count);
      this.waitingItems -= size;
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async flush(batch: Group<In, Out>[]): Promise<void> {
    const items = batch.flatMap((g) => g.items);
    let results: Array<Out | Error>;
    try {
      results = await this.config.flushFunc(items, batch.map((g) => g.items.length));
      if (results.length !== items.length) throw new Error(`GroupCommitter: flush returned ${results.length} results for ${items.length} items`);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const g of batch) g.reject(error);
      return;
    }
    let offset = 0;
    for (const g of batch) {
      const mine = results.slice(offset, offset + g.items.length);
      offset += g.items.length;
      const failure = mine.find((r): r is Error => r instanceof Error);
      if (failure) g.reject(failure);
      else g.resolve(mine as Out[]);
    }
  }
}
