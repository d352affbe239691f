/**
 * The per-message bookkeeping of a `SendClient`: every pending message in queue order, the ones
 * ready to be transferred, in flight, waiting out a retry backoff, or lost with a link; the calls
 * waiting for messages to complete; and the sweep that times out queued messages past `msgTimeout`.
 * The client decides what happens to a message (the pipeline, the outcomes); this records it.
 * @internal
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { ClientTimeout } from "../errors/exceptions.js";
import type { Message } from "../message/message.js";
import { MessageState } from "../message/message-state.js";
import { MessageSendResult } from "../message/send-result.js";
import { abortError } from "../policy/wait.js";

/** A call waiting for messages to complete. */
interface Waiter {
  /** The messages waited for; undefined = until nothing is pending. */
  readonly remaining: Set<Message> | undefined;
  resolve(): void;
  reject(error: Error): void;
}

/** Sweeps for expired queued messages at most this often. */
const MIN_SWEEP_MS = 20;

/** The pending messages of one `SendClient`. @internal */
export class PendingMessages {
  /** Per-message deadline in ms from queueing (0 = none). */
  readonly #msgTimeout: number;
  /** Called when a message's retry backoff elapsed (it is ready again). */
  readonly #onRetryDue: () => void;
  /** Every pending message (WaitingToBeSent / WaitingForSendAck), in queue order. */
  readonly #all = new Set<Message>();
  #ready: (Message | undefined)[] = [];
  #readyHead = 0;
  readonly #inFlight = new Set<Message>();
  readonly #delayed = new Map<Message, NodeJS.Timeout>();
  /** Messages that were in flight on a lost link (sent again after recovery). */
  readonly #lost = new Set<Message>();
  readonly #waiters = new Set<Waiter>();
  #sweep: NodeJS.Timeout | undefined;

  constructor(msgTimeout: number, onRetryDue: () => void) {
    this.#msgTimeout = msgTimeout;
    this.#onRetryDue = onRetryDue;
  }

  /** How many messages are pending. */
  get size(): number {
    return this.#all.size;
  }

  /** How many messages are in flight (transferred, outcome pending). */
  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** The pending messages, in queue order. */
  list(): Message[] {
    return [...this.#all];
  }

  /** Whether `m` is pending. */
  has(m: Message): boolean {
    return this.#all.has(m);
  }

  /** Queues messages not pending yet: `WaitingToBeSent`, their deadline counted from now. */
  add(messages: Message[]): void {
    const now = Date.now();
    for (const m of messages) {
      if (this.#all.has(m)) continue;
      m.queuedForSend(now);
      this.#all.add(m);
      this.#ready.push(m);
    }
    this.#armSweep();
  }

  /** The next message ready to be transferred (skipping stale entries), or undefined. */
  nextReady(): Message | undefined {
    const ready = this.#ready;
    let next: Message | undefined;
    while (next === undefined && this.#readyHead < ready.length) {
      const m = ready[this.#readyHead];
      ready[this.#readyHead++] = undefined;
      if (!m || !this.#all.has(m) || m.state !== MessageState.WaitingToBeSent) continue;
      if (this.#delayed.has(m) || this.#inFlight.has(m)) continue;
      next = m;
    }
    if (this.#readyHead === ready.length) {
      this.#ready = [];
      this.#readyHead = 0;
    } else if (this.#readyHead > 4096 && this.#readyHead * 2 > ready.length) {
      this.#ready = ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    return next;
  }

  /** `m` is being transferred: `WaitingForSendAck` until its outcome. */
  markInFlight(m: Message): void {
    m.sentAwaitingOutcome();
    this.#inFlight.add(m);
  }

  /** The outcome of `m`'s transfer arrived. */
  landed(m: Message): void {
    this.#inFlight.delete(m);
  }

  /**
   * `m` failed and is tried again (`retries` counted when `countRetry`): `WaitingToBeSent`, at the
   * back of the ready queue at once, or after `backoffMs`.
   */
  retry(m: Message, countRetry: boolean, backoffMs: number): void {
    m.sendAgain(countRetry);
    if (backoffMs <= 0) {
      this.#ready.push(m);
      return;
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(m);
      this.#ready.push(m);
      this.#onRetryDue();
    }, backoffMs);
    this.#delayed.set(m, timer);
  }

  /**
   * `m` was in flight on a link that went away: `WaitingToBeSent`, sent again after the recovery
   * (at once, when `ready`: the link it was lost on is already back).
   */
  markLost(m: Message, ready: boolean): void {
    m.sendAgain(false);
    this.#lost.add(m);
    if (ready) this.#ready.push(m);
  }

  /**
   * After a recovery: queues again, in queue order, every message waiting to be sent. Returns how
   * many were lost in flight (and are now sent again).
   */
  relinked(): number {
    const resent = this.#lost.size;
    this.#lost.clear();
    this.#ready = [];
    this.#readyHead = 0;
    for (const m of this.#all) {
      if (m.state === MessageState.WaitingToBeSent && !this.#delayed.has(m) && !this.#inFlight.has(m)) {
        this.#ready.push(m);
      }
    }
    return resent;
  }

  /** Ends `m` with `result` (its `onSendComplete` runs) and releases the calls waiting for it. */
  complete(m: Message, result: MessageSendResult, error: AMQPError | undefined): void {
    if (!this.#all.delete(m)) return;
    this.#inFlight.delete(m);
    this.#lost.delete(m);
    const timer = this.#delayed.get(m);
    if (timer) {
      clearTimeout(timer);
      this.#delayed.delete(m);
    }
    try {
      m.completeSend(result, error);
    } catch {
      // An application's onSendComplete that throws must not stop the pipeline.
    }
    for (const w of this.#waiters) {
      const done = w.remaining ? (w.remaining.delete(m), w.remaining.size === 0) : this.#all.size === 0;
      if (done) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }

  /**
   * Resolves when every message of `messages` that is pending completed (undefined: when nothing is
   * pending). Rejects with `stopped()` when it returns an error (the client cannot send), or with an
   * `AMQPAbortError` when `signal` aborts.
   */
  waitFor(
    messages: Message[] | undefined,
    signal: AbortSignal | undefined,
    stopped: () => AMQPError | undefined,
  ): Promise<void> {
    const remaining = messages ? new Set(messages.filter((m) => this.#all.has(m))) : undefined;
    if ((remaining ? remaining.size : this.#all.size) === 0) return Promise.resolve();
    const error = stopped();
    if (error) return Promise.reject(error);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(w);
        reject(abortError(signal!));
      };
      const w: Waiter = {
        remaining,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      if (signal?.aborted === true) {
        onAbort();
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(w);
    });
  }

  /** Rejects every waiting call with `error` and ends every pending message with `result`. */
  endAll(error: AMQPError, result: MessageSendResult): void {
    for (const w of this.#waiters) w.reject(error);
    this.#waiters.clear();
    for (const m of [...this.#all]) this.complete(m, result, error);
    if (this.#sweep) clearTimeout(this.#sweep);
    this.#sweep = undefined;
    this.#ready = [];
    this.#readyHead = 0;
  }

  /** Fails queued messages whose deadline passed while they could not be transferred. */
  #armSweep(): void {
    const msgTimeout = this.#msgTimeout;
    if (msgTimeout <= 0 || this.#sweep || this.#all.size === 0) return;
    let earliest = Infinity;
    for (const m of this.#all) {
      if (m.state === MessageState.WaitingToBeSent && m.idleTime < earliest) earliest = m.idleTime;
    }
    if (earliest === Infinity) return;
    const delay = Math.max(MIN_SWEEP_MS, earliest + msgTimeout - Date.now());
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      const now = Date.now();
      for (const m of [...this.#all]) {
        if (
          m.state === MessageState.WaitingToBeSent &&
          !this.#inFlight.has(m) &&
          now - m.idleTime >= msgTimeout
        ) {
          this.complete(m, MessageSendResult.Timeout, new ClientTimeout("Message send timed out."));
        }
      }
      this.#armSweep();
    }, delay);
    this.#sweep.unref();
  }
}
