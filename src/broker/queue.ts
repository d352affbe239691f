/**
 * One queue: a FIFO of encoded messages, the consumers competing for them (round robin among those
 * with credit, each holding at most `maxLockedPerConsumer` at a time), PeekLock locking until the
 * consumer settles or the lock expires, redelivery at the head, dead-lettering, time-to-live expiry,
 * the bytes it holds (counted against its limit and the broker's), and back-pressure towards
 * producers when the queue is full.
 *
 * The work per message is O(1) whatever the number of consumers and producers: consumers that may
 * take a message wait in a FIFO of their own (a consumer leaves it when it turns out to have no
 * credit, or to hold its maximum, and comes back with its next credit or settlement), producers held
 * back by the queue's limits are woken once per tick when room frees (not each on every message),
 * and a delivery is reported to a long-lived receipt (src/broker/delivery-receipt.ts).
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import { SenderSettleMode } from "../engine/link.js";
import type { ReceiverLink } from "../engine/receiver-link.js";
import type { SenderLink } from "../engine/sender-link.js";
import { Fifo } from "../util/fifo.js";
import { tickNow } from "../util/tick-clock.js";
import { ByteBudget } from "./byte-budget.js";
import { sendDelivery, type SentDeliveryReceipt } from "./delivery-receipt.js";
import { lockLostState, MessageLocks, type MessageLock } from "./message-lock.js";
import {
  incrementDeliveryCount,
  setExpiry,
  setSequenceNumber,
  type StoredMessage,
} from "./stored-message.js";

/** A consumer: a sending link of the broker bound to a queue. */
export interface QueueConsumer {
  readonly link: SenderLink;
  readonly connectionId: number;
  /** How its deliveries are made and settled when it is not a plain AMQP consumer. */
  readonly policy?: DeliveryPolicy | undefined;
}

/** A producer: a receiving link of the broker sending to a queue. */
export interface QueueProducer {
  readonly link: ReceiverLink;
  /** The bytes its outstanding credit may bring (credit × the size of its messages so far). */
  readonly creditBytes: number;
  /** Room freed up in the queue after the producer asked to wait for it ({@link Queue.waitForRoom}). */
  roomFreed(): void;
}

/** What becomes of a message a consumer settled. */
export type Disposition =
  | { readonly kind: "remove" }
  | { readonly kind: "requeue"; readonly failed: boolean }
  | { readonly kind: "dead-letter"; readonly reason: DeadLetterReason }
  /** The message left the queue for a place of the policy's own (e.g. deferred). */
  | { readonly kind: "taken" };

/**
 * Hook point of the Service Bus emulation (src/broker/servicebus/consumer.ts): a consumer with a
 * policy gets its own lock tokens, lock duration, message selection and delivered bytes, and its
 * outcomes mean what the policy says (docs/azure-emulator.md) instead of the table in docs/broker.md.
 */
export interface DeliveryPolicy {
  /** Lock duration of its PeekLock deliveries (ms; 0 = until settled). */
  readonly lockDuration: number;
  /** A new lock token (the delivery tag). */
  newLockToken(): Buffer;
  /** Whether the consumer takes this message (undefined: every message). */
  readonly accepts?: ((m: StoredMessage) => boolean) | undefined;
  /** The bytes delivered for `m`; `lockedUntil` is undefined for pre-settled deliveries. */
  payload(queue: Queue, m: StoredMessage, lockedUntil: number | undefined): Buffer;
  /** What an outcome does to `m`, and the state the delivery is confirmed with (settle mode second). */
  settle(
    queue: Queue,
    m: StoredMessage,
    state: DeliveryState | undefined,
  ): { readonly disposition: Disposition; readonly confirm: DeliveryState | undefined };
}

/** Per-queue settings that differ from the broker's (Service Bus entities, request nodes' replies). */
export interface QueueSettings {
  /** Deliveries of a message before it is dead-lettered. @defaultValue the host's */
  readonly maxDeliveryCount?: number | undefined;
  /** Lock duration of plain consumers' deliveries (ms; 0 = until settled). @defaultValue the host's */
  readonly lockDuration?: number | undefined;
}

/** What a queue needs from its broker. */
export interface QueueHost {
  readonly maxDeliveryCount: number;
  readonly maxQueueDepth: number;
  /** Bytes of messages per queue (`limits.maxQueueBytes`). */
  readonly maxQueueBytes: number;
  /** The broker's total (`limits.maxTotalBytes`): every queue's bytes count there too. */
  readonly memory: ByteBudget;
  readonly deadLetterOnExpiry: boolean;
  /** How long a consumer may hold an unsettled message (ms); 0 = until it settles or detaches. */
  readonly lockDuration: number;
  /** Messages one consumer holds at a time (unsettled, or waiting to be written), whatever its credit. */
  readonly maxLockedPerConsumer: number;
  /** The dead-letter queue of `queue`, or undefined to drop dead letters (a dead-letter queue's own). */
  deadLetterQueueOf(queue: Queue): Queue | undefined;
  /** A consumer settled a delivery. */
  onOutcome(queue: Queue, consumer: QueueConsumer, state: DeliveryState | undefined): void;
  /**
   * Called before a message is stored; true when it was taken elsewhere (a topic's subscriptions,
   * a scheduled message), so the queue does not store it.
   */
  onEnqueue?(queue: Queue, m: StoredMessage): boolean;
  /** Called before a message moves to the dead-letter queue (Service Bus stamps the reason). */
  onDeadLetter?(queue: Queue, m: StoredMessage, reason: DeadLetterReason): void;
}

/** Why a message leaves a queue for its dead-letter queue. */
export type DeadLetterReason = "rejected" | "undeliverable" | "max-delivery-count" | "expired";

const EMPTY = new Uint8Array(0);

/** What applying an outcome gives when the message's lock was gone (expired, or released before). */
const LOCK_LOST: unique symbol = Symbol("lock lost");

/** A consumer as its queue serves it: its place among the consumers that may take a message. */
class Subscriber implements QueueConsumer {
  readonly link: SenderLink;
  readonly connectionId: number;
  readonly policy: DeliveryPolicy | undefined;
  /** Its link sends pre-settled (sender settle mode settled, fixed when it attached). */
  readonly presettled: boolean;
  /** The consumer given to {@link Queue.addConsumer}. */
  readonly consumer: QueueConsumer;
  /** In the queue's FIFO of consumers that may take a message. */
  ready = false;
  /** Passed over because it held `maxLockedPerConsumer`: ready again when it settles one. */
  full = false;
  removed = false;
  /** Told how its pre-settled deliveries ended (set by the queue). */
  written!: SentDeliveryReceipt<StoredMessage>;

  constructor(consumer: QueueConsumer) {
    this.consumer = consumer;
    this.link = consumer.link;
    this.connectionId = consumer.connectionId;
    this.policy = consumer.policy;
    this.presettled = consumer.link.local.sndSettleMode === SenderSettleMode.Settled;
  }
}

export class Queue {
  readonly name: string;
  /** A dynamic node: deleted when the link that created it detaches. */
  readonly temporary: boolean;
  /**
   * The bytes of its messages (ready, locked, and those the Service Bus emulation keeps for it:
   * deferred, scheduled), against `maxQueueBytes` and, through it, the broker's total.
   */
  readonly bytes: ByteBudget;
  deleted = false;
  /** Links sending to this queue (their outstanding credit counts against the room left). */
  readonly producers = new Set<QueueProducer>();
  /** Messages dead-lettered, by reason (for tests and stats). */
  readonly deadLettered: Record<DeadLetterReason, number> = {
    rejected: 0,
    undeliverable: 0,
    "max-delivery-count": 0,
    expired: 0,
  };

  readonly #host: QueueHost;
  readonly #maxDeliveryCount: number;
  readonly #lockDuration: number;
  readonly #subscribers = new Map<QueueConsumer, Subscriber>();
  /**
   * Consumers that may take a message, in turn (round robin): each is taken from the front, served
   * one message and put back at the end; one found without credit, or holding its maximum, is left
   * out until its next credit ({@link Queue.creditArrived}) or settlement.
   */
  readonly #ready = new Fifo<Subscriber>();
  readonly #main = new Fifo<StoredMessage>();
  /** Messages back from a consumer, in arrival order; always older than everything in `#main`. */
  readonly #redeliver = new Fifo<StoredMessage>();
  #locked = 0;
  readonly #locks = new MessageLocks<Subscriber>((lock) => {
    // The consumer kept it too long: redelivered (a failed attempt), its outcome will find no lock.
    this.#locked--;
    if (!this.deleted) this.requeue(lock.message, true);
  });
  /** Told how PeekLock deliveries ended, with their lock. */
  readonly #lockReceipt: SentDeliveryReceipt<MessageLock<Subscriber>> = {
    settled: (lock, state) => {
      this.#applyOutcome(lock, state);
      this.#settledBy(lock.consumer);
    },
    failed: (lock) => {
      // Link or connection gone before the consumer settled: back to the head of the queue.
      if (!this.#locks.release(lock)) return;
      this.#locked--;
      if (!this.deleted) this.requeue(lock.message, true);
    },
  };
  /** Where the 8 bytes of a lock token are written to be sent as a delivery tag. */
  #tag = Buffer.allocUnsafe(8);
  /** The options of each send, filled in per delivery (the engine reads them during the call). */
  readonly #lockedSend: { messageFormat: number; tag: Uint8Array } = { messageFormat: 0, tag: EMPTY };
  readonly #presettledSend = { messageFormat: 0, settled: true };
  /** Producers held back by this queue's limits, woken once when room frees. */
  readonly #roomWaiters = new Set<QueueProducer>();
  #wakeScheduled = false;
  /** Which waiting producer is woken first next time (they take turns at the room). */
  #wakeTurn = 0;
  readonly #wake = (): void => {
    this.#wakeScheduled = false;
    const waiters = [...this.#roomWaiters];
    this.#roomWaiters.clear();
    const n = waiters.length;
    if (n === 0 || this.deleted) return;
    const first = this.#wakeTurn++ % n;
    for (let i = 0; i < n; i++) waiters[(first + i) % n]!.roomFreed();
  };
  #nextSeq = 1;
  #dispatching = false;
  #again = false;
  #expiryTimer: NodeJS.Timeout | undefined;
  #expiryAt = Infinity;

  constructor(host: QueueHost, name: string, temporary = false, settings: QueueSettings = {}) {
    this.#host = host;
    this.name = name;
    this.temporary = temporary;
    this.#maxDeliveryCount = settings.maxDeliveryCount ?? host.maxDeliveryCount;
    this.#lockDuration = settings.lockDuration ?? host.lockDuration;
    this.bytes = new ByteBudget(host.maxQueueBytes, host.memory);
  }

  /** Deliveries of a message before it is dead-lettered. */
  get maxDeliveryCount(): number {
    return this.#maxDeliveryCount;
  }

  /** Lock duration of plain consumers' deliveries (ms; 0 = until settled or detached). */
  get lockDuration(): number {
    return this.#lockDuration;
  }

  /** Consumers attached to the queue. */
  get consumerCount(): number {
    return this.#subscribers.size;
  }

  /** Messages waiting for a consumer. */
  get readyCount(): number {
    return this.#main.length + this.#redeliver.length;
  }

  /** Messages delivered and not yet settled. */
  get lockedCount(): number {
    return this.#locked;
  }

  /** Ready plus locked messages. */
  get depth(): number {
    return this.readyCount + this.#locked;
  }

  /** Messages that may still be stored before `maxQueueDepth` (never negative). */
  get room(): number {
    return Math.max(0, this.#host.maxQueueDepth - this.depth);
  }

  /**
   * Appends a message and hands it to a consumer if one has credit. It gets the next sequence
   * number unless it holds one reserved with {@link reserveSequenceNumber}.
   */
  enqueue(m: StoredMessage): void {
    if (this.deleted) return;
    if (this.#host.onEnqueue?.(this, m) === true) return;
    if (m.seq === 0) setSequenceNumber(m, this.#nextSeq++);
    this.bytes.add(m.byteCount);
    this.#main.push(m);
    this.#watchExpiry(m.expiresAt);
    this.dispatch();
  }

  /**
   * A message kept for this queue outside it (by the Service Bus emulation: deferred, scheduled)
   * counts against its byte limit until {@link Queue.release}d or dead-lettered.
   */
  retain(m: StoredMessage): void {
    if (!this.deleted) this.bytes.add(m.byteCount);
  }

  /** A message kept outside the queue (see {@link Queue.retain}) is gone. */
  release(m: StoredMessage): void {
    if (!this.deleted) this.#freed(m);
  }

  /** Takes the next sequence number for a message enqueued later (a scheduled message). */
  reserveSequenceNumber(): number {
    return this.#nextSeq++;
  }

  /** The messages held: ready ones (in delivery order) and locked ones (for peeking). */
  messages(): { readonly ready: StoredMessage[]; readonly locked: readonly MessageLock<QueueConsumer>[] } {
    return {
      ready: [...this.#redeliver.toArray(), ...this.#main.toArray()],
      locked: this.#locks.all(),
    };
  }

  /** The lock held under `token`, if any. */
  findLock(token: Uint8Array): MessageLock<QueueConsumer> | undefined {
    return this.#locks.find(token);
  }

  /** Extends a held lock by `durationMs` from now; its new expiry, or undefined when it is gone. */
  renewLock(lock: MessageLock<QueueConsumer>, durationMs: number): number | undefined {
    return this.#locks.renew(lock, durationMs);
  }

  addConsumer(c: QueueConsumer): void {
    if (this.#subscribers.has(c)) return;
    const s = new Subscriber(c);
    s.written = {
      settled: (m) => {
        this.#locked--;
        if (!this.deleted) this.#freed(m);
        this.#settledBy(s);
      },
      failed: (m) => {
        this.#locked--;
        if (!this.deleted) this.requeue(m, false);
      },
    };
    this.#subscribers.set(c, s);
    this.#makeReady(s);
    this.dispatch();
  }

  removeConsumer(c: QueueConsumer): void {
    const s = this.#subscribers.get(c);
    if (!s) return;
    this.#subscribers.delete(c);
    s.removed = true;
  }

  /** Consumer `c` got credit: it may take messages again. */
  creditArrived(c: QueueConsumer): void {
    const s = this.#subscribers.get(c);
    if (s) this.#makeReady(s);
    this.dispatch();
  }

  /**
   * Producer `p` was held back by this queue's limits: {@link QueueProducer.roomFreed} is called
   * once, at the end of the tick in which a message next leaves the queue.
   */
  waitForRoom(p: QueueProducer): void {
    if (!this.deleted) this.#roomWaiters.add(p);
  }

  /** Forgets a producer given to {@link Queue.waitForRoom}. */
  stopWaiting(p: QueueProducer): void {
    this.#roomWaiters.delete(p);
  }

  /** Delivers ready messages to consumers with credit, round robin, until either runs out. */
  dispatch(): void {
    if (this.#dispatching) {
      this.#again = true;
      return;
    }
    this.#dispatching = true;
    try {
      this.#again = false;
      do this.#dispatchOnce();
      while (this.#takeAgain());
    } finally {
      this.#dispatching = false;
    }
  }

  #takeAgain(): boolean {
    const again = this.#again;
    this.#again = false;
    return again;
  }

  #dispatchOnce(): void {
    /** Consumers in a row that took nothing (each with a policy that accepts only some messages). */
    let misses = 0;
    while (this.readyCount > 0) {
      const s = this.#ready.shift();
      if (s === undefined) return;
      if (!this.#mayTake(s)) continue;
      const accepts = s.policy?.accepts;
      const m = accepts ? this.#takeMatching(accepts) : this.#take();
      this.#ready.push(s);
      if (!m) {
        // Nothing this consumer takes: try the next one, until each ready one had its turn.
        if (accepts && ++misses < this.#ready.length) continue;
        return;
      }
      misses = 0;
      this.#deliver(s, m);
    }
  }

  /** Puts `s` at the end of the consumers that may take a message (unless it is there already). */
  #makeReady(s: Subscriber): void {
    if (s.ready || s.removed) return;
    s.ready = true;
    this.#ready.push(s);
  }

  /**
   * Whether `s` may take a message now: attached, with credit beyond what is waiting to be written,
   * and not holding as many messages as a consumer may (unsettled on its link, or waiting to be
   * written), whatever credit it granted. When not, it leaves the ready FIFO: it comes back with its
   * next credit, or (when full) its next settlement. A delivery whose lock expired still counts until
   * the consumer settles it (its outcome is discarded), so a stuck consumer gets nothing more.
   */
  #mayTake(s: Subscriber): boolean {
    const l = s.link;
    if (s.removed || !l.isAttached || l.linkCredit <= l.queued) {
      s.ready = false;
      return false;
    }
    if (l.unsettled + l.queued >= this.#host.maxLockedPerConsumer) {
      s.ready = false;
      s.full = true;
      return false;
    }
    return true;
  }

  /** `s` settled a delivery (or one was written pre-settled): serve it again if it was full. */
  #settledBy(s: Subscriber): void {
    if (!s.full) return;
    s.full = false;
    this.#makeReady(s);
    if (!this.deleted) this.dispatch();
  }

  /** The first ready message `accepts` takes (expired ones on the way are expired). */
  #takeMatching(accepts: (m: StoredMessage) => boolean): StoredMessage | undefined {
    const now = tickNow();
    return (
      this.#takeMatchingIn(this.#redeliver, accepts, now) ?? this.#takeMatchingIn(this.#main, accepts, now)
    );
  }

  /** Takes the first message of `messages` that `accepts` takes, expiring those on the way. */
  #takeMatchingIn(
    messages: Fifo<StoredMessage>,
    accepts: (m: StoredMessage) => boolean,
    now: number,
  ): StoredMessage | undefined {
    for (let i = 0; i < messages.length; i++) {
      const m = messages.at(i)!;
      if (m.expiresAt <= now) {
        messages.removeAt(i--);
        this.#expire(m);
      } else if (accepts(m)) {
        return messages.removeAt(i);
      }
    }
    return undefined;
  }

  /** The next ready message that has not expired. */
  #take(): StoredMessage | undefined {
    const now = tickNow();
    for (;;) {
      const m = this.#redeliver.length > 0 ? this.#redeliver.shift() : this.#main.shift();
      if (!m) return undefined;
      if (m.expiresAt <= now) {
        this.#expire(m);
        continue;
      }
      return m;
    }
  }

  #deliver(s: Subscriber, m: StoredMessage): void {
    const link = s.link;
    const policy = s.policy;
    this.#locked++;
    if (s.presettled) {
      const payload = policy ? policy.payload(this, m, undefined) : m.payload;
      const options = this.#presettledSend;
      options.messageFormat = m.messageFormat;
      sendDelivery(link, payload, options, s.written, m);
      return;
    }
    const lock = this.#locks.take(
      m,
      s,
      policy ? policy.lockDuration : this.#lockDuration,
      tickNow(),
      policy?.newLockToken(),
    );
    const payload = policy ? policy.payload(this, m, lock.lockedUntil) : m.payload;
    const options = this.#lockedSend;
    options.messageFormat = m.messageFormat;
    const tag = this.#locks.sendTag(lock, this.#tag);
    options.tag = tag;
    sendDelivery(link, payload, options, this.#lockReceipt, lock);
    // The engine copies the tag into the frame when it writes it; one it could not write yet keeps
    // the buffer, so the next tags go into another.
    if (tag === this.#tag && link.queued > 0) this.#tag = Buffer.allocUnsafe(8);
  }

  /**
   * Receiver-settle-mode second: a consumer sent an outcome for the delivery with lock `token`.
   * Applies it while the lock is held and returns the state the delivery is settled with: the
   * outcome itself, or `rejected` with `com.microsoft:message-lock-lost` when the lock is gone.
   */
  confirmOutcome(token: Uint8Array | undefined, state: DeliveryState): DeliveryState {
    return this.#confirm(this.#locks.find(token), state);
  }

  /**
   * Receiver-settle-mode second: a consumer sent an outcome for the delivery sent with `context`
   * (its lock); as {@link Queue.confirmOutcome}.
   */
  confirmDelivery(context: unknown, state: DeliveryState): DeliveryState {
    return this.#confirm(this.#locks.held(context), state);
  }

  #confirm(lock: MessageLock<Subscriber> | undefined, state: DeliveryState): DeliveryState {
    const confirm = lock ? this.#applyOutcome(lock, state) : LOCK_LOST;
    return confirm === LOCK_LOST ? lockLostState() : (confirm ?? state);
  }

  /**
   * Applies a consumer's outcome to a locked message; {@link LOCK_LOST} when the lock is gone, else
   * the state to confirm it with (undefined: the consumer's own).
   */
  #applyOutcome(
    lock: MessageLock<Subscriber>,
    state: DeliveryState | undefined,
  ): DeliveryState | undefined | typeof LOCK_LOST {
    if (!this.#locks.release(lock)) return LOCK_LOST;
    this.#locked--;
    if (this.deleted) return undefined;
    this.#host.onOutcome(this, lock.consumer, state);
    const policy = lock.consumer.policy;
    if (!policy) {
      if (state === undefined || state.type === "accepted") this.#freedBytes(lock.bytes);
      else this.#settled(lock.message, state);
      return undefined;
    }
    const { disposition, confirm } = policy.settle(this, lock.message, state);
    this.#dispose(lock.message, disposition);
    return confirm;
  }

  #settled(m: StoredMessage, state: DeliveryState | undefined): void {
    switch (state?.type) {
      case undefined:
      case "accepted":
        this.#freed(m);
        return;
      case "rejected":
        this.deadLetter(m, "rejected");
        return;
      case "modified":
        if (state.undeliverableHere === true) {
          if (state.deliveryFailed === true) incrementDeliveryCount(m);
          this.deadLetter(m, "undeliverable");
        } else {
          this.requeue(m, state.deliveryFailed === true);
        }
        return;
      default:
        // released (and states a queue does not act on): back to the head, count unchanged.
        this.requeue(m, false);
    }
  }

  #dispose(m: StoredMessage, d: Disposition): void {
    switch (d.kind) {
      case "remove":
      case "taken":
        this.#freed(m);
        return;
      case "requeue":
        this.requeue(m, d.failed);
        return;
      case "dead-letter":
        this.deadLetter(m, d.reason);
    }
  }

  /**
   * Puts a message back at the head of the queue (in arrival order among redelivered ones); with
   * `failed`, its delivery-count goes up first and it is dead-lettered at the maximum.
   */
  requeue(m: StoredMessage, failed: boolean): void {
    if (this.deleted) return;
    if (failed) {
      incrementDeliveryCount(m);
      if (m.deliveryCount >= this.#maxDeliveryCount) {
        this.deadLetter(m, "max-delivery-count");
        return;
      }
    }
    const r = this.#redeliver;
    let i = r.length;
    while (i > 0 && r.at(i - 1)!.seq > m.seq) i--;
    r.insertAt(i, m);
    this.#watchExpiry(m.expiresAt);
    this.dispatch();
  }

  /** Moves a message that left this queue to the dead-letter queue (it gets a sequence number there). */
  deadLetter(m: StoredMessage, reason: DeadLetterReason): void {
    this.deadLettered[reason]++;
    this.#freed(m);
    setExpiry(m, Infinity);
    const dlq = this.#host.deadLetterQueueOf(this);
    if (!dlq) return;
    this.#host.onDeadLetter?.(this, m, reason);
    setSequenceNumber(m, 0);
    dlq.enqueue(m);
  }

  #expire(m: StoredMessage): void {
    if (this.#host.deadLetterOnExpiry) {
      this.deadLetter(m, "expired");
    } else {
      this.deadLettered.expired++;
      this.#freed(m);
    }
  }

  /**
   * A message left the queue: its bytes are no longer counted; producers waiting for room are woken
   * at the end of the tick (once for all the messages that left in it).
   */
  #freed(m: StoredMessage): void {
    this.#freedBytes(m.byteCount);
  }

  /** A message of `byteCount` bytes left the queue (as `#freed`). */
  #freedBytes(byteCount: number): void {
    this.bytes.remove(byteCount);
    if (this.#roomWaiters.size === 0 || this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    queueMicrotask(this.#wake);
  }

  // ---- time-to-live ---------------------------------------------------------------------------

  #watchExpiry(at: number): void {
    if (at === Infinity || at >= this.#expiryAt || this.deleted) return;
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryAt = at;
    this.#expiryTimer = setTimeout(
      () => {
        this.#expiryTimer = undefined;
        this.#expiryAt = Infinity;
        this.sweepExpired();
      },
      Math.max(0, at - Date.now()),
    );
    this.#expiryTimer.unref();
  }

  /** Removes expired ready messages now (dead-lettered or dropped) and re-arms the timer. */
  sweepExpired(): void {
    const now = Date.now();
    let next = Infinity;
    const keep = (m: StoredMessage): boolean => {
      if (m.expiresAt <= now) {
        this.#expire(m);
        return false;
      }
      if (m.expiresAt < next) next = m.expiresAt;
      return true;
    };
    this.#redeliver.retain(keep);
    this.#main.retain(keep);
    this.#watchExpiry(next);
  }

  /** Drops every message and stops the timer; the queue accepts nothing more. */
  delete(): void {
    this.deleted = true;
    this.#main.clear();
    this.#redeliver.clear();
    this.#locked = 0;
    this.#locks.clear();
    for (const s of this.#subscribers.values()) s.removed = true;
    this.#subscribers.clear();
    this.#ready.clear();
    this.bytes.clear();
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#roomWaiters.clear();
    this.producers.clear();
  }
}
