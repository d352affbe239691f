/** Events kept for a subscriber that does not read; older ones are dropped beyond this. */
const MAX_QUEUED = 1000;

interface Subscriber<T> {
  queue: T[];
  wake: ((r: IteratorResult<T>) => void) | undefined;
  done: boolean;
}

/**
 * A multi-subscriber event stream: each subscriber gets the events pushed after it subscribed,
 * in order, as an async iterator; every subscription ends when the stream ends. A subscriber that
 * does not read keeps the last 1000 events.
 * @internal
 */
export class EventStream<T> {
  readonly #subs = new Set<Subscriber<T>>();
  #ended = false;

  get ended(): boolean {
    return this.#ended;
  }

  push(event: T): void {
    if (this.#ended) return;
    for (const s of this.#subs) {
      if (s.wake) {
        const w = s.wake;
        s.wake = undefined;
        w({ value: event, done: false });
      } else {
        s.queue.push(event);
        if (s.queue.length > MAX_QUEUED) s.queue.shift();
      }
    }
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const s of this.#subs) {
      s.done = true;
      if (s.wake) {
        const w = s.wake;
        s.wake = undefined;
        w({ value: undefined, done: true });
      }
    }
  }

  subscribe(): AsyncIterableIterator<T> {
    const sub: Subscriber<T> = { queue: [], wake: undefined, done: this.#ended };
    if (!this.#ended) this.#subs.add(sub);
    const finish = (): IteratorResult<T> => {
      sub.done = true;
      sub.queue = [];
      this.#subs.delete(sub);
      if (sub.wake) {
        const w = sub.wake;
        sub.wake = undefined;
        w({ value: undefined, done: true });
      }
      return { value: undefined, done: true };
    };
    const it: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        const head = sub.queue.shift();
        if (head !== undefined) return Promise.resolve({ value: head, done: false });
        if (sub.done) return Promise.resolve(finish());
        return new Promise((resolve) => {
          sub.wake = resolve;
        });
      },
      return: (): Promise<IteratorResult<T>> => Promise.resolve(finish()),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }
}
