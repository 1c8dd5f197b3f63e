/** At most `limit` holders at once; the rest wait in order. (How many health checks run at once.) */
export class Slots {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  acquire(): Promise<void> {
    if (this.#running < this.#limit) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    // The slot passes straight to the next waiter, so the count never overshoots.
    if (next) next();
    else this.#running--;
  }
}
