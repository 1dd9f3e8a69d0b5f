// A retry budget (as in Envoy and Finagle): retries may add at most `ratio` of the successful
// requests, plus a floor of `minPerSecond`, so when many analyzers fail at once the retries do not
// multiply the load on the ones left. Counted in analyzer requests (batches), not messages: a
// killed analyzer fails at most WORKERS requests at once, whatever the batch sizes.
// A token bucket: each success deposits `ratio`, time deposits `minPerSecond`, a retry takes 1.

export type RetryBudgetOptions = { ratio: number; minPerSecond: number; now?: () => number };

export class RetryBudget {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly capacity: number;
  #balance: number;
  #last: number;
  #now: () => number;

  constructor({ ratio, minPerSecond, now = () => performance.now() }: RetryBudgetOptions) {
    if (!(ratio >= 0) || !Number.isFinite(ratio))
      throw new RangeError(`ratio must be a finite number >= 0, got ${ratio}`);
    if (!(minPerSecond >= 0) || !Number.isFinite(minPerSecond))
      throw new RangeError(`minPerSecond must be a finite number >= 0, got ${minPerSecond}`);
    this.ratio = ratio;
    this.minPerSecond = minPerSecond;
    // Enough for the burst one dead analyzer causes; the rate is what the deposits set.
    this.capacity = Math.max(100, minPerSecond);
    this.#now = now;
    this.#last = now();
    this.#balance = this.capacity;
  }

  /** A request succeeded. */
  deposit(): void {
    this.#balance = Math.min(this.capacity, this.#balance + this.ratio);
  }

  /** May a failed request be retried? Takes a token if so. */
  tryWithdraw(): boolean {
    this.#refill();
    // The epsilon forgives float sums: five deposits of 0.2 pay for one retry.
    if (this.#balance >= 1 - 1e-9) {
      this.#balance -= 1;
      return true;
    }
    return false;
  }

  #refill(): void {
    const now = this.#now();
    this.#balance = Math.min(this.capacity, this.#balance + ((now - this.#last) / 1000) * this.minPerSecond);
    this.#last = now;
  }
}
