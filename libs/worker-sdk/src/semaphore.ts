/** Bounded concurrency: at most `size` holders; waiters are served first come, first served. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.active;
  }

  get free(): number {
    return this.size - this.active;
  }

  /** Takes `n` slots that are free right now (callers check `free` first). */
  take(n: number): void {
    if (n > this.free) throw new Error(`Semaphore: cannot take ${n} slots, ${this.free} free`);
    this.active += n;
  }

  /** Resolves once at least one slot is free (without taking it). */
  async waitFree(): Promise<void> {
    if (this.active < this.size) return;
    await this.acquire();
    this.release();
  }

  async acquire(): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }

  /** Resolves when nothing holds the semaphore, or after `ms`; true if it emptied. */
  async idle(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (this.active > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.active === 0;
  }
}
