/**
 * One queue: a FIFO of encoded messages, the consumers competing for them (round robin among those
 * with credit), PeekLock locking until the consumer settles, redelivery at the head, dead-lettering,
 * time-to-live expiry, and back-pressure towards producers when the queue is full.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import { SenderSettleMode } from "../engine/link.js";
import type { ReceiverLink } from "../engine/receiver-link.js";
import { lockLostState, MessageLocks, type MessageLock } from "./message-lock.js";
import type { QueueConsumer } from "./queue-consumer.js";
import { incrementDeliveryCount, type StoredMessage } from "./stored-message.js";

export type { QueueConsumer } from "./queue-consumer.js";

/** What a queue needs from its broker. */
export interface QueueHost {
  readonly maxDeliveryCount: number;
  readonly maxQueueDepth: number;
  readonly deadLetterOnExpiry: boolean;
  /** How long a consumer may hold an unsettled message (ms); 0 = until it settles or detaches. */
  readonly lockDuration: number;
  /** The dead-letter queue of `queue`, or undefined to drop dead letters (a dead-letter queue's own). */
  deadLetterQueueOf(queue: Queue): Queue | undefined;
  /** A consumer settled a delivery. */
  onOutcome(queue: Queue, consumer: QueueConsumer, state: DeliveryState | undefined): void;
}

/** Why a message leaves a queue for its dead-letter queue. */
type DeadLetterReason = "rejected" | "undeliverable" | "max-delivery-count" | "expired";

export class Queue {
  readonly name: string;
  /** A dynamic node: deleted when the link that created it detaches. */
  readonly temporary: boolean;
  deleted = false;
  readonly consumers: QueueConsumer[] = [];
  /** Links sending to this queue (their outstanding credit counts against the room left). */
  readonly producers = new Set<{ readonly link: ReceiverLink }>();
  /** Called when room frees up in a full queue (producers waiting for credit). */
  readonly spaceListeners = new Set<() => void>();
  /** Messages dead-lettered, by reason (for tests and stats). */
  readonly deadLettered: Record<DeadLetterReason, number> = {
    rejected: 0,
    undeliverable: 0,
    "max-delivery-count": 0,
    expired: 0,
  };

  readonly #host: QueueHost;
  #main: StoredMessage[] = [];
  #head = 0;
  /** Messages back from a consumer, in arrival order; always older than everything in `#main`. */
  #redeliver: StoredMessage[] = [];
  #locked = 0;
  readonly #locks = new MessageLocks();
  #nextSeq = 1;
  #rr = 0;
  #dispatching = false;
  #again = false;
  #expiryTimer: NodeJS.Timeout | undefined;
  #expiryAt = Infinity;

  constructor(host: QueueHost, name: string, temporary = false) {
    this.#host = host;
    this.name = name;
    this.temporary = temporary;
  }

  /** Messages waiting for a consumer. */
  get readyCount(): number {
    return this.#main.length - this.#head + this.#redeliver.length;
  }

  /** Messages delivered and not yet settled. */
  get lockedCount(): number {
    return this.#locked;
  }

  /** Ready plus locked messages. */
  get depth(): number {
    return this.readyCount + this.#locked;
  }

  /** Room left before the queue is full (never negative). */
  get room(): number {
    return Math.max(0, this.#host.maxQueueDepth - this.depth);
  }

  /** Appends a message and hands it to a consumer if one has credit. */
  enqueue(m: StoredMessage): void {
    if (this.deleted) return;
    m.seq = this.#nextSeq++;
    this.#main.push(m);
    this.#watchExpiry(m.expiresAt);
    this.dispatch();
  }

  addConsumer(c: QueueConsumer): void {
    this.consumers.push(c);
    this.dispatch();
  }

  removeConsumer(c: QueueConsumer): void {
    const i = this.consumers.indexOf(c);
    if (i >= 0) this.consumers.splice(i, 1);
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
    const cs = this.consumers;
    while (cs.length > 0 && this.readyCount > 0) {
      let picked: QueueConsumer | undefined;
      for (let i = 0; i < cs.length; i++) {
        const c = cs[(this.#rr + i) % cs.length]!;
        const l = c.link;
        if (l.isAttached && l.linkCredit > l.queued) {
          picked = c;
          this.#rr = (this.#rr + i + 1) % cs.length;
          break;
        }
      }
      if (!picked) return;
      const m = this.#take();
      if (!m) return;
      this.#deliver(picked, m);
    }
  }

  /** The next ready message that has not expired. */
  #take(): StoredMessage | undefined {
    const now = Date.now();
    for (;;) {
      let m: StoredMessage | undefined;
      if (this.#redeliver.length > 0) {
        m = this.#redeliver.shift();
      } else if (this.#head < this.#main.length) {
        m = this.#main[this.#head];
        this.#main[this.#head++] = undefined as unknown as StoredMessage;
        if (this.#head > 1024 && this.#head * 2 > this.#main.length) {
          this.#main = this.#main.slice(this.#head);
          this.#head = 0;
        }
      }
      if (!m) return undefined;
      if (m.expiresAt <= now) {
        this.#expire(m);
        continue;
      }
      return m;
    }
  }

  #deliver(c: QueueConsumer, m: StoredMessage): void {
    const link = c.link;
    this.#locked++;
    if (link.local.sndSettleMode === SenderSettleMode.Settled) {
      link.send(m.payload, { messageFormat: m.messageFormat, settled: true }).then(
        () => {
          this.#locked--;
          if (!this.deleted) this.#freed();
        },
        () => {
          this.#locked--;
          if (!this.deleted) this.requeue(m, false);
        },
      );
      return;
    }
    const lock = this.#locks.take(m, c, this.#host.lockDuration, (l) => {
      // The consumer kept it too long: redelivered (a failed attempt), its outcome will find no lock.
      this.#locked--;
      if (!this.deleted) this.requeue(l.message, true);
    });
    link.send(m.payload, { messageFormat: m.messageFormat, tag: lock.token }).then(
      (state) => {
        this.#applyOutcome(lock, state);
      },
      () => {
        // Link or connection gone before the consumer settled: back to the head of the queue.
        if (!this.#locks.release(lock)) return;
        this.#locked--;
        if (!this.deleted) this.requeue(m, true);
      },
    );
  }

  /**
   * Receiver-settle-mode second: a consumer sent an outcome for the delivery with lock `token`.
   * Applies it while the lock is held and returns the state the delivery is settled with: the
   * outcome itself, or `rejected` with `com.microsoft:message-lock-lost` when the lock is gone.
   */
  confirmOutcome(token: Uint8Array | undefined, state: DeliveryState): DeliveryState {
    const lock = this.#locks.find(token);
    if (!lock || !this.#applyOutcome(lock, state)) return lockLostState();
    return state;
  }

  /** Applies a consumer's outcome to a locked message; false when the lock is gone (lost). */
  #applyOutcome(lock: MessageLock, state: DeliveryState | undefined): boolean {
    if (!this.#locks.release(lock)) return false;
    this.#locked--;
    if (this.deleted) return true;
    this.#host.onOutcome(this, lock.consumer, state);
    this.#settled(lock.message, state);
    return true;
  }

  #settled(m: StoredMessage, state: DeliveryState | undefined): void {
    switch (state?.type) {
      case undefined:
      case "accepted":
        this.#freed();
        return;
      case "rejected":
        this.#deadLetter(m, "rejected");
        return;
      case "modified":
        if (state.undeliverableHere === true) {
          if (state.deliveryFailed === true) incrementDeliveryCount(m);
          this.#deadLetter(m, "undeliverable");
        } else {
          this.requeue(m, state.deliveryFailed === true);
        }
        return;
      default:
        // released (and states a queue does not act on): back to the head, count unchanged.
        this.requeue(m, false);
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
      if (m.deliveryCount >= this.#host.maxDeliveryCount) {
        this.#deadLetter(m, "max-delivery-count");
        return;
      }
    }
    const r = this.#redeliver;
    let i = r.length;
    while (i > 0 && r[i - 1]!.seq > m.seq) i--;
    r.splice(i, 0, m);
    this.#watchExpiry(m.expiresAt);
    this.dispatch();
  }

  #deadLetter(m: StoredMessage, reason: DeadLetterReason): void {
    this.deadLettered[reason]++;
    this.#freed();
    m.expiresAt = Infinity;
    this.#host.deadLetterQueueOf(this)?.enqueue(m);
  }

  #expire(m: StoredMessage): void {
    if (this.#host.deadLetterOnExpiry) {
      this.#deadLetter(m, "expired");
    } else {
      this.deadLettered.expired++;
      this.#freed();
    }
  }

  /** A message left the queue: wake producers waiting for room. */
  #freed(): void {
    if (this.spaceListeners.size === 0) return;
    for (const f of [...this.spaceListeners]) f();
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
    this.#redeliver = this.#redeliver.filter(keep);
    this.#main = this.#main.slice(this.#head).filter(keep);
    this.#head = 0;
    this.#watchExpiry(next);
  }

  /** Drops every message and stops the timer; the queue accepts nothing more. */
  delete(): void {
    this.deleted = true;
    this.#main = [];
    this.#head = 0;
    this.#redeliver = [];
    this.#locked = 0;
    this.#locks.clear();
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.spaceListeners.clear();
    this.producers.clear();
  }
}
