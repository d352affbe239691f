/**
 * How many connections each source address holds: the broker's per-source connection limit
 * (`limits.maxConnectionsPerSource`). One instance per broker; the broker takes a slot when it
 * accepts a connection and gives it back when the connection is gone.
 */
export class SourceCounts {
  readonly #counts = new Map<string, number>();

  /** Counts one more connection from `source`, unless it holds `max` already (then false). */
  take(source: string, max: number): boolean {
    const n = this.#counts.get(source) ?? 0;
    if (n >= max) return false;
    this.#counts.set(source, n + 1);
    return true;
  }

  /** A connection from `source` is gone. */
  release(source: string): void {
    const n = this.#counts.get(source) ?? 0;
    // Sources without connections are forgotten, so the table holds only addresses connected now.
    if (n <= 1) this.#counts.delete(source);
    else this.#counts.set(source, n - 1);
  }
}
