/**
 * Failed authentication per client address, counted in one-minute windows: past the limit, further
 * attempts from that address are refused (429) before any key or token is looked up, so guessing
 * keys costs the guesser, not the database. Like the rate limit, counts are kept per instance, in
 * memory (see README, "Guarantees"); they are only a brake, never what a guarantee rests on.
 */
export class FailedAuthThrottle {
  readonly #windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly failuresPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfterSeconds(address: string): number {
    if (this.failuresPerMinute === 0) return 0;
    const window = this.#windows.get(address);
    if (!window || this.now() - window.start >= 60_000 || window.failures < this.failuresPerMinute) return 0;
    return Math.max(1, Math.ceil((window.start + 60_000 - this.now()) / 1000));
  }

  recordFailure(address: string): void {
    if (this.failuresPerMinute === 0) return;
    const now = this.now();
    const window = this.#windows.get(address);
    if (window && now - window.start < 60_000) {
      window.failures++;
      return;
    }
    // Bounded memory: windows older than a minute carry no information.
    if (this.#windows.size >= 100_000) for (const [key, old] of this.#windows) if (now - old.start >= 60_000) this.#windows.delete(key);
    this.#windows.set(address, { start: now, failures: 1 });
  }
}
