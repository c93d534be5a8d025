/** Bounded concurrency: at most `size` holders; waiters are served first come, first served. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.active;
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
