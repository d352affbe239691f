/**
 * The per-message bookkeeping of a `SendClient` (docs/clients.md, "SendClient"): where each pending
 * message is, the bounds and the calls waiting for room or completions, the `msgTimeout` sweep.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { ClientTimeout } from "../errors/exceptions.js";
import { PendingLimitExceeded, type PendingLimit } from "../errors/message-errors.js";
import type { Message } from "../message/message.js";
import { MessageState } from "../message/message-state.js";
import { MessageSendResult } from "../message/send-result.js";
import { abortError, waitUntilSettled, type Settle } from "../policy/wait.js";
import { Fifo } from "../util/fifo.js";
import { tickNow } from "../util/tick-clock.js";

/** The bounds of a `SendClient`'s pending messages: its fields of these names. @internal */
export type PendingBounds = Readonly<Record<"msgTimeout" | "maxPendingMessages" | "maxPendingBytes", number>>;

/**
 * A call waiting for messages to complete: for `messages` (a few, by identity), or without them
 * for every message queued up to `upTo` (a sequence number; Infinity: until nothing is pending).
 */
interface Waiter extends Settle {
  readonly messages: Set<Message> | undefined;
  readonly upTo: number;
  /** How many of the messages waited for by `upTo` are still pending. */
  left: number;
}

/**
 * One pending message. The pipeline holds it from {@link PendingMessages.nextReady} to its outcome
 * and the message holds it while pending (`Message.sendRecord`), so neither needs a lookup table.
 * Only `PendingMessages` changes it.
 * @internal
 */
export interface PendingMessage {
  /** The pending messages it belongs to (a message is pending in one client at a time). */
  readonly owner: PendingMessages;
  readonly message: Message;
  /** Its encoded size, measured when it was queued. */
  readonly size: number;
  /** Its place in the queue order. */
  readonly seq: number;
  inFlight: boolean;
  /** It was in flight on a link that went away: it is sent again after the recovery. */
  lost: boolean;
  /** The timer of its retry backoff. */
  backoff: NodeJS.Timeout | undefined;
  done: boolean;
}

/** A call waiting for room for `messages` messages of `bytes` bytes. */
interface RoomWaiter extends Settle {
  readonly messages: number;
  readonly bytes: number;
}

/** Sweeps for expired queued messages at most this often. */
const MIN_SWEEP_MS = 20;

const isPending = (p: PendingMessage): boolean => !p.done;

/** The pending messages of one `SendClient`. @internal */
export class PendingMessages {
  readonly #msgTimeout: number;
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  /** Called when messages may be sent now (a backoff elapsed, the sweep ended transfers in flight). */
  readonly #wake: () => void;
  /** Why the client cannot send (undefined: it can): the waits reject with it. */
  readonly #stopped: () => AMQPError | undefined;
  /**
   * Every pending entry in queue order; ended ones (`done`) stay until they reach the head or
   * outnumber the pending ones. Not a `Map`: one filled and emptied at the message rate keeps
   * rehashing.
   */
  readonly #entries = new Fifo<PendingMessage>();
  /** Pending entries (not `done`) in `#entries`. */
  #count = 0;
  #bytes = 0;
  #seq = 0;
  #inFlight = 0;
  #lost = 0;
  /** Calls waiting for room, served in order. */
  readonly #roomWaiters: RoomWaiter[] = [];
  /** Entries ready to be transferred (stale ones are skipped when taken). */
  readonly #ready = new Fifo<PendingMessage>();
  readonly #waiters = new Set<Waiter>();
  #sweep: NodeJS.Timeout | undefined;

  constructor(bounds: PendingBounds, wake: () => void, stopped: () => AMQPError | undefined) {
    this.#msgTimeout = bounds.msgTimeout;
    this.#maxMessages = bounds.maxPendingMessages;
    this.#maxBytes = bounds.maxPendingBytes;
    this.#wake = wake;
    this.#stopped = stopped;
  }

  /** How many messages are pending. */
  get size(): number {
    return this.#count;
  }

  /** The encoded bytes of the pending messages (as measured when each was queued). */
  get bytes(): number {
    return this.#bytes;
  }

  /** How many messages are in flight (transferred, outcome pending). */
  get inFlightCount(): number {
    return this.#inFlight;
  }

  /** The pending messages, in queue order. */
  list(): Message[] {
    // One pass: `sendAllMessages` takes this snapshot of every message it sends.
    const out: Message[] = [];
    const entries = this.#entries;
    for (let i = 0; i < entries.length; i++) {
      const p = entries.at(i)!;
      if (isPending(p)) out.push(p.message);
    }
    return out;
  }

  #entryOf(m: Message): PendingMessage | undefined {
    const p = m.sendRecord as PendingMessage | undefined;
    return p !== undefined && p.owner === this && !p.done ? p : undefined;
  }

  /** The sequence number of the last message queued (see {@link PendingMessages.waitForQueued}). */
  get lastQueued(): number {
    return this.#seq;
  }

  /**
   * Queues the messages not pending yet (`WaitingToBeSent`, their deadline counted from now); all
   * or nothing.
   * @throws {PendingLimitExceeded} when they would take the pending messages beyond a bound;
   *   `EncodeError` for a message that cannot be encoded (its size is measured here).
   */
  add(messages: Message[]): void {
    if (messages.length === 1) {
      const m = messages[0]!;
      if (this.#entryOf(m)) return;
      // Kept for its transfer if that follows at once (the caller drops the measure after it).
      const size = m.measureToWrite();
      this.#refuseBeyondBounds(1, size);
      this.#queue(m, size, tickNow());
    } else {
      const added = new Map<Message, number>();
      let bytes = 0;
      for (const m of messages) {
        if (this.#entryOf(m) || added.has(m)) continue;
        const size = m.encodedSize;
        added.set(m, size);
        bytes += size;
      }
      if (added.size === 0) return;
      this.#refuseBeyondBounds(added.size, bytes);
      const now = tickNow();
      for (const [m, size] of added) this.#queue(m, size, now);
    }
    this.#armSweep();
  }

  #queue(m: Message, size: number, now: number): void {
    const p: PendingMessage = {
      owner: this,
      message: m,
      size,
      seq: ++this.#seq,
      inFlight: false,
      lost: false,
      backoff: undefined,
      done: false,
    };
    m.queuedForSend(now, p);
    this.#entries.push(p);
    this.#count++;
    this.#bytes += size;
    this.#ready.push(p);
  }

  /** @throws {PendingLimitExceeded} when `messages` messages of `bytes` bytes do not fit. */
  #refuseBeyondBounds(messages: number, bytes: number): void {
    const limit = this.#exceeds(this.#count, this.#bytes, messages, bytes);
    if (limit === undefined) return;
    const text =
      limit === "maxPendingBytes"
        ? `cannot queue ${bytes} byte(s) with ${this.#bytes} pending: maxPendingBytes is ${this.#maxBytes}`
        : `cannot queue ${messages} message(s) with ${this.#count} pending: maxPendingMessages is ${this.#maxMessages}` +
          (messages > this.#maxMessages ? " (more than can ever be pending: queue them in parts)" : "");
    throw new PendingLimitExceeded(text, { limit, messages, bytes });
  }

  /**
   * The bound that `messages` messages of `bytes` bytes would go beyond, with `count` messages of
   * `pendingBytes` bytes pending. The byte bound lets anything into an empty queue, so that a
   * message larger than it can still be sent.
   */
  #exceeds(count: number, pendingBytes: number, messages: number, bytes: number): PendingLimit | undefined {
    if (count + messages > this.#maxMessages) return "maxPendingMessages";
    if (count > 0 && pendingBytes + bytes > this.#maxBytes) return "maxPendingBytes";
    return undefined;
  }

  /** Whether `messages` messages of `bytes` bytes fit now, and no call waits for room before them. */
  hasRoom(messages: number, bytes: number): boolean {
    return this.#roomWaiters.length === 0 && !this.#exceeds(this.#count, this.#bytes, messages, bytes);
  }

  /**
   * Resolves once `messages` messages of `bytes` bytes fit, after the calls that waited before it.
   * Rejects with the `stopped()` error, the error of {@link endAll}, or an `AMQPAbortError`.
   */
  waitForRoom(messages: number, bytes: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    if (this.hasRoom(messages, bytes)) return Promise.resolve();
    const error = this.#stopped();
    if (error) return Promise.reject(error);
    return waitUntilSettled(signal, (settle) => {
      const w: RoomWaiter = { messages, bytes, ...settle };
      this.#roomWaiters.push(w);
      return () => {
        const i = this.#roomWaiters.indexOf(w);
        if (i >= 0) this.#roomWaiters.splice(i, 1);
        this.#serveRoom();
      };
    });
  }

  /** Resolves the calls waiting for room, in order, while each fits after those before it. */
  #serveRoom(): void {
    const waiters = this.#roomWaiters;
    if (waiters.length === 0) return;
    let count = this.#count;
    let bytes = this.#bytes;
    let served = 0;
    for (const w of waiters) {
      if (this.#exceeds(count, bytes, w.messages, w.bytes) !== undefined) break;
      count += w.messages;
      bytes += w.bytes;
      served++;
    }
    for (const w of waiters.splice(0, served)) w.resolve();
  }

  /** The next message ready to be transferred (skipping stale entries), or undefined. */
  nextReady(): PendingMessage | undefined {
    for (let p = this.#ready.shift(); p !== undefined; p = this.#ready.shift()) {
      if (!p.done && !p.backoff && !p.inFlight && p.message.state === MessageState.WaitingToBeSent) return p;
    }
    return undefined;
  }

  /** `p` (from {@link PendingMessages.nextReady}) is being transferred: `WaitingForSendAck` until its outcome. */
  markInFlight(p: PendingMessage): void {
    p.message.sentAwaitingOutcome();
    p.inFlight = true;
    this.#inFlight++;
  }

  /** The outcome of `p`'s transfer arrived: false when it ended meanwhile (the outcome is ignored). */
  landed(p: PendingMessage): boolean {
    if (p.done) return false;
    this.#ground(p);
    return p.message.state === MessageState.WaitingForSendAck;
  }

  #ground(p: PendingMessage): void {
    if (!p.inFlight) return;
    p.inFlight = false;
    this.#inFlight--;
  }

  /** `p` failed and is tried again (`retries` counted when `countRetry`), now or after `backoffMs`. */
  retry(p: PendingMessage, countRetry: boolean, backoffMs: number): void {
    p.message.sendAgain(countRetry);
    if (backoffMs <= 0) {
      this.#ready.push(p);
      return;
    }
    p.backoff = setTimeout(() => {
      p.backoff = undefined;
      this.#ready.push(p);
      this.#wake();
    }, backoffMs);
  }

  /** `p` was in flight on a link that went away: sent again after the recovery (now, when `ready`). */
  markLost(p: PendingMessage, ready: boolean): void {
    p.message.sendAgain(false);
    if (!p.lost) {
      p.lost = true;
      this.#lost++;
    }
    if (ready) this.#ready.push(p);
  }

  /** After a recovery: readies every message waiting to be sent; returns how many were lost in flight. */
  relinked(): number {
    const resent = this.#lost;
    this.#lost = 0;
    this.#ready.clear();
    const entries = this.#entries;
    for (let i = 0; i < entries.length; i++) {
      const p = entries.at(i)!;
      if (p.done) continue;
      p.lost = false;
      if (p.message.state === MessageState.WaitingToBeSent && !p.backoff && !p.inFlight) this.#ready.push(p);
    }
    return resent;
  }

  /** Ends `m`, if it is pending, as {@link PendingMessages.end} does. */
  complete(m: Message, result: MessageSendResult, error: AMQPError | undefined): void {
    const p = this.#entryOf(m);
    if (p !== undefined) this.end(p, result, error);
  }

  /** Ends `p` with `result` (its `onSendComplete` runs) and releases the calls waiting for it. */
  end(p: PendingMessage, result: MessageSendResult, error: AMQPError | undefined): void {
    if (p.done) return;
    const m = p.message;
    p.done = true;
    this.#count--;
    this.#dropEnded();
    this.#bytes -= p.size;
    this.#ground(p);
    if (p.lost) this.#lost--;
    if (p.backoff) clearTimeout(p.backoff);
    try {
      m.completeSend(result, error);
    } catch {
      // An application's onSendComplete that throws must not stop the pipeline.
    }
    if (this.#waiters.size > 0) this.#release(m, p.seq);
    if (this.#roomWaiters.length > 0) this.#serveRoom();
  }

  /**
   * Drops the ended entries at the head, and all of them when they outnumber the pending ones (one
   * message held long while many after it completed).
   */
  #dropEnded(): void {
    const entries = this.#entries;
    while (entries.length > 0 && entries.at(0)!.done) entries.shift();
    const ended = entries.length - this.#count;
    if (ended > 1024 && ended > this.#count) entries.retain(isPending);
  }

  /** Releases the calls that waited for `m` (sequence number `seq`, just completed) and no other. */
  #release(m: Message, seq: number): void {
    for (const w of this.#waiters) {
      let done: boolean;
      if (w.messages) done = w.messages.delete(m) && w.messages.size === 0;
      else if (w.upTo === Infinity) done = this.#count === 0;
      else done = seq <= w.upTo && --w.left === 0;
      if (done) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }

  /**
   * Resolves when every pending message of `messages` completed (undefined: when nothing is
   * pending). Rejects with the `stopped()` error, or an `AMQPAbortError`.
   */
  waitFor(messages: Message[] | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (messages === undefined) return this.#wait(undefined, Infinity, this.#count, signal);
    const waited = new Set(messages.filter((m) => this.#entryOf(m) !== undefined));
    return this.#wait(waited, 0, waited.size, signal);
  }

  /**
   * Resolves when every message pending when {@link PendingMessages.lastQueued} was `upTo`
   * completed. Rejects as {@link PendingMessages.waitFor} does.
   */
  waitForQueued(upTo: number, signal: AbortSignal | undefined): Promise<void> {
    // The pending ones less those queued after `upTo`, counted from the back.
    let left = this.#count;
    const entries = this.#entries;
    for (let i = entries.length - 1; i >= 0; i--) {
      const p = entries.at(i)!;
      if (p.seq <= upTo) break;
      if (!p.done) left--;
    }
    return this.#wait(undefined, upTo, left, signal);
  }

  #wait(messages: Set<Message> | undefined, upTo: number, left: number, signal?: AbortSignal): Promise<void> {
    if (left === 0) return Promise.resolve();
    const error = this.#stopped();
    if (error) return Promise.reject(error);
    return waitUntilSettled(signal, (settle) => {
      const w: Waiter = { messages, upTo, left, ...settle };
      this.#waiters.add(w);
      return () => this.#waiters.delete(w);
    });
  }

  /** Rejects every waiting call with `error` and ends every pending message with `result`. */
  endAll(error: AMQPError, result: MessageSendResult): void {
    for (const w of this.#waiters) w.reject(error);
    this.#waiters.clear();
    for (const w of this.#roomWaiters.splice(0)) w.reject(error);
    for (const p of this.#entries.toArray()) if (!p.done) this.end(p, result, error);
    if (this.#sweep) clearTimeout(this.#sweep);
    this.#sweep = undefined;
    this.#ready.clear();
  }

  /**
   * Fails every pending message whose `msgTimeout` passed, wherever it is (an outcome that comes
   * later is ignored). One timer per client, not per transfer: entries are in deadline order, so the
   * sweep is armed for the first and stops at the first that has not expired.
   */
  #armSweep(): void {
    const msgTimeout = this.#msgTimeout;
    if (msgTimeout <= 0 || this.#sweep) return;
    // After #dropEnded the head entry, if any, is pending: the oldest.
    const first = this.#entries.at(0);
    if (first === undefined) return;
    const delay = Math.max(MIN_SWEEP_MS, first.message.idleTime + msgTimeout - Date.now());
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      const now = Date.now();
      const expired: PendingMessage[] = [];
      const entries = this.#entries;
      for (let i = 0; i < entries.length; i++) {
        const p = entries.at(i)!;
        if (p.done) continue;
        if (now - p.message.idleTime < msgTimeout) break;
        expired.push(p);
      }
      for (const p of expired) {
        this.end(p, MessageSendResult.Timeout, new ClientTimeout("Message send timed out."));
      }
      this.#armSweep();
      // Expired transfers leave room in flight.
      if (expired.length > 0) this.#wake();
    }, delay);
    this.#sweep.unref();
  }
}
