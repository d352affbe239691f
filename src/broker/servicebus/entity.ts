/**
 * One Service Bus entity (a queue, a topic subscription, a topic, or a dead-letter queue) on top of
 * the broker queue holding its active messages: its settings, its deferred and scheduled messages,
 * the locks of deferred messages received by sequence number, its sessions, and the metadata the
 * broker stamps on what Service Bus clients receive and peek.
 */
import { randomUUID } from "node:crypto";
import type { DeliveryState } from "../../codec/definitions/messaging.js";
import type { AMQPValue } from "../../codec/values.js";
import type { MessageLock } from "../message-lock.js";
import type { Queue, QueueConsumer } from "../queue.js";
import {
  incrementDeliveryCount,
  setEnqueuedAt,
  setSequenceNumber,
  type StoredMessage,
} from "../stored-message.js";
import { newLockToken } from "./lock-token.js";
import { readFacts, stampMessage } from "./sections.js";
import { SessionTable } from "./sessions.js";

/** An entity's settings, every default filled in. */
export interface EntitySettings {
  /** Lock duration of Service Bus receivers, and of sessions (ms). */
  readonly lockDuration: number;
  readonly maxDeliveryCount: number;
  /** TTL of messages that carry none (ms; 0 = none). */
  readonly defaultMessageTimeToLive: number;
  readonly requiresSession: boolean;
  /** Declared in the options: every receiver gets Service Bus semantics. */
  readonly declared: boolean;
}

/** `x-opt-message-state`, as Service Bus numbers it. */
export const MessageState = { active: 0, deferred: 1, scheduled: 2 } as const;
export type MessageState = (typeof MessageState)[keyof typeof MessageState];

/** What the emulation remembers about a stored message (kept beside it, by identity). */
interface Facts {
  readonly groupId: string | undefined;
  /** The message-id the broker gives a message sent without one (stable across deliveries). */
  readonly messageId: string | undefined;
  /** `x-opt-scheduled-enqueue-time` (ms) while it is still to come. */
  scheduledAt: number | undefined;
  /** A Service Bus client received it: its dead-lettering carries a reason. */
  seenByServiceBus: boolean;
}

const facts = new WeakMap<StoredMessage, Facts>();

/** The facts of a message, read once. */
export function factsOf(m: StoredMessage): Facts {
  let f = facts.get(m);
  if (!f) {
    const r = m.messageFormat === 0 ? readFacts(m.payload) : undefined;
    f = {
      groupId: r?.groupId,
      messageId: r === undefined || r.hasMessageId ? undefined : randomUUID().replace(/-/g, ""),
      scheduledAt: r?.scheduledEnqueueTime,
      seenByServiceBus: false,
    };
    facts.set(m, f);
  }
  return f;
}

/** Gives `copy` (a topic's message in one subscription) the facts of `original`. */
export function copyFacts(original: StoredMessage, copy: StoredMessage): void {
  const f = factsOf(original);
  facts.set(copy, { ...f });
}

/** A deferred message received by sequence number in PeekLock mode: locked by the management node. */
interface DeferredLock {
  readonly token: Buffer;
  readonly message: StoredMessage;
  lockedUntil: number;
  timer: NodeJS.Timeout | undefined;
}

/** Why a management settlement failed. */
export type SettleResult = "settled" | "lock-lost";

/** A settlement through the management node (update-disposition). */
export interface ManagementSettlement {
  readonly status: "completed" | "abandoned" | "defered" | "suspended";
  readonly deadLetterReason?: string | undefined;
  readonly deadLetterDescription?: string | undefined;
  readonly propertiesToModify?: ReadonlyMap<string, AMQPValue> | undefined;
}

/** The AMQP outcome a management settlement stands for (what a Service Bus receiver link sends). */
export function settlementState(s: ManagementSettlement): DeliveryState {
  const props: Record<string, AMQPValue> = {};
  for (const [k, v] of s.propertiesToModify ?? []) props[k] = v;
  switch (s.status) {
    case "completed":
      return { type: "accepted" };
    case "abandoned":
      return { type: "modified", undeliverableHere: false, messageAnnotations: props };
    case "defered":
      return { type: "modified", undeliverableHere: true, messageAnnotations: props };
    case "suspended":
      return {
        type: "rejected",
        error: {
          condition: DEAD_LETTER_CONDITION,
          info: {
            ...props,
            ...(s.deadLetterReason !== undefined ? { DeadLetterReason: s.deadLetterReason } : {}),
            ...(s.deadLetterDescription !== undefined
              ? { DeadLetterErrorDescription: s.deadLetterDescription }
              : {}),
          },
        },
      };
  }
}

/** The rejected condition a Service Bus receiver dead-letters a message with. */
export const DEAD_LETTER_CONDITION = "com.microsoft:dead-letter";

/** What each entity needs from the namespace. */
export interface EntityHost {
  /** Applies a dead-letter edit and moves the message (taken out of `entity`) to its dead-letter queue. */
  deadLetter(entity: ServiceBusEntity, m: StoredMessage, reason: string, description: string): void;
  /** Applies `properties` to a message (properties-to-modify of abandon / defer). */
  modify(m: StoredMessage, properties: Readonly<Record<string, AMQPValue>> | undefined): void;
}

export class ServiceBusEntity {
  readonly queue: Queue;
  readonly settings: EntitySettings;
  readonly sessions: SessionTable;
  readonly #host: EntityHost;
  readonly #deferred = new Map<number, StoredMessage>();
  /** Scheduled messages by sequence number, with their time (ms). */
  readonly #scheduled = new Map<number, { readonly message: StoredMessage; readonly at: number }>();
  #scheduleTimer: NodeJS.Timeout | undefined;
  #scheduleAt = Infinity;
  readonly #locks = new Map<string, DeferredLock>();

  constructor(host: EntityHost, queue: Queue, settings: EntitySettings) {
    this.#host = host;
    this.queue = queue;
    this.settings = settings;
    this.sessions = new SessionTable(settings.lockDuration);
  }

  get name(): string {
    return this.queue.name;
  }

  // ---- stamping -------------------------------------------------------------------------------------

  /** The message as a Service Bus client sees it (see docs/azure-emulator.md). */
  stamp(m: StoredMessage, state: MessageState, lockedUntil?: number): Buffer {
    const f = factsOf(m);
    const seq = BigInt(m.seq);
    const annotations = new Map<string, AMQPValue>([
      ["x-opt-sequence-number", seq],
      ["x-opt-enqueue-sequence-number", seq],
      ["x-opt-enqueued-time", new Date(m.enqueuedAt)],
      ["x-opt-message-state", state],
    ]);
    if (lockedUntil !== undefined && Number.isFinite(lockedUntil)) {
      annotations.set("x-opt-locked-until", new Date(lockedUntil));
    }
    if (m.messageFormat !== 0) return m.payload;
    return stampMessage(m.payload, {
      deliveryCount: m.deliveryCount,
      annotations,
      ...(f.messageId !== undefined ? { messageId: f.messageId } : {}),
    });
  }

  // ---- scheduled messages ---------------------------------------------------------------------------

  /** Holds `m` until `at` (ms), then enqueues it; returns its sequence number. */
  schedule(m: StoredMessage, at: number): number {
    factsOf(m).scheduledAt = at;
    if (m.seq === 0) setSequenceNumber(m, this.queue.reserveSequenceNumber());
    this.#scheduled.set(m.seq, { message: m, at });
    this.queue.retain(m);
    this.#armSchedule();
    return m.seq;
  }

  /** One timer, for the earliest scheduled message. */
  #armSchedule(): void {
    let next = Infinity;
    for (const s of this.#scheduled.values()) next = Math.min(next, s.at);
    if (next === this.#scheduleAt) return;
    if (this.#scheduleTimer) clearTimeout(this.#scheduleTimer);
    this.#scheduleTimer = undefined;
    this.#scheduleAt = next;
    if (next === Infinity) return;
    this.#scheduleTimer = setTimeout(
      () => {
        this.#scheduleTimer = undefined;
        this.#scheduleAt = Infinity;
        this.#enqueueDue();
      },
      Math.max(0, next - Date.now()),
    );
    this.#scheduleTimer.unref();
  }

  /** Enqueues the messages whose time has come, by time then sequence number. */
  #enqueueDue(): void {
    const now = Date.now();
    const due = [...this.#scheduled.values()]
      .filter((s) => s.at <= now)
      .sort((a, b) => a.at - b.at || a.message.seq - b.message.seq);
    for (const { message } of due) {
      this.#scheduled.delete(message.seq);
      factsOf(message).scheduledAt = undefined;
      setEnqueuedAt(message, now);
      this.queue.release(message);
      this.queue.enqueue(message);
    }
    this.#armSchedule();
  }

  /** Schedules a message sent to the management node, at its `x-opt-scheduled-enqueue-time`. */
  scheduleEncoded(m: StoredMessage): number {
    return this.schedule(m, factsOf(m).scheduledAt ?? Date.now());
  }

  /** Cancels a scheduled message; false when there is none with that sequence number. */
  cancelScheduled(seq: number): boolean {
    const s = this.#scheduled.get(seq);
    if (!s) return false;
    this.#scheduled.delete(seq);
    this.queue.release(s.message);
    this.#armSchedule();
    return true;
  }

  // ---- deferred messages ----------------------------------------------------------------------------

  /** Keeps a message (taken out of the queue) until it is received by sequence number. */
  defer(m: StoredMessage): void {
    this.#deferred.set(m.seq, m);
    this.queue.retain(m);
  }

  /**
   * Receives deferred messages by sequence number: with `lock`, each is locked (its lock token in
   * delivery-tag order is returned); without, it is removed. Undefined when one of them is not a
   * deferred message of this entity (nothing is received then).
   */
  receiveDeferred(
    seqs: readonly number[],
    lock: boolean,
    sessionId: string | undefined,
  ): { message: StoredMessage; token: Buffer | undefined; lockedUntil: number | undefined }[] | undefined {
    const found: StoredMessage[] = [];
    for (const seq of seqs) {
      const m = this.#deferred.get(seq);
      if (!m) return undefined;
      if (sessionId !== undefined && factsOf(m).groupId !== sessionId) return undefined;
      found.push(m);
    }
    return found.map((m) => {
      this.#deferred.delete(m.seq);
      factsOf(m).seenByServiceBus = true;
      if (!lock) {
        this.queue.release(m);
        return { message: m, token: undefined, lockedUntil: undefined };
      }
      const l = this.#lockDeferred(m);
      return { message: m, token: l.token, lockedUntil: l.lockedUntil };
    });
  }

  #lockDeferred(m: StoredMessage): DeferredLock {
    const l: DeferredLock = { token: newLockToken(), message: m, lockedUntil: 0, timer: undefined };
    this.#locks.set(l.token.toString("hex"), l);
    this.#armDeferred(l);
    return l;
  }

  #armDeferred(l: DeferredLock): void {
    if (l.timer) clearTimeout(l.timer);
    const d = this.settings.lockDuration;
    l.lockedUntil = Date.now() + d;
    l.timer = setTimeout(() => {
      // The lock expired: the message is deferred again, one delivery attempt more.
      l.timer = undefined;
      if (this.#locks.delete(l.token.toString("hex"))) this.#backToDeferred(l.message, true);
    }, d);
    l.timer.unref();
  }

  #backToDeferred(m: StoredMessage, failed: boolean): void {
    if (failed) {
      incrementDeliveryCount(m);
      if (m.deliveryCount >= this.queue.maxDeliveryCount) {
        this.#host.deadLetter(
          this,
          m,
          "MaxDeliveryCountExceeded",
          `Message could not be consumed after ${this.queue.maxDeliveryCount} delivery attempts.`,
        );
        return;
      }
    }
    this.#deferred.set(m.seq, m);
  }

  // ---- locks by token (renew-lock, update-disposition) ----------------------------------------------

  #queueLock(token: Buffer): MessageLock<QueueConsumer> | undefined {
    return this.queue.findLock(token);
  }

  /** Renews the lock under `token` (delivery-tag order); its new expiry, undefined when it is lost. */
  renewLock(token: Buffer): number | undefined {
    const d = this.#locks.get(token.toString("hex"));
    if (d) {
      this.#armDeferred(d);
      return d.lockedUntil;
    }
    const l = this.#queueLock(token);
    if (!l) return undefined;
    // A plain AMQP consumer's lock is renewed by the queue's own lock duration.
    const policy = l.consumer.policy;
    return this.queue.renewLock(
      l,
      policy ? policy.lockDuration || this.settings.lockDuration : this.queue.lockDuration,
    );
  }

  /** Settles the message locked under `token` (delivery-tag order) as `s` says. */
  settle(token: Buffer, s: ManagementSettlement): SettleResult {
    const key = token.toString("hex");
    const d = this.#locks.get(key);
    if (d) {
      this.#locks.delete(key);
      if (d.timer) clearTimeout(d.timer);
      const m = d.message;
      switch (s.status) {
        case "completed":
          this.queue.release(m);
          break;
        case "abandoned":
          this.#host.modify(m, propsOf(s.propertiesToModify));
          this.#backToDeferred(m, true);
          break;
        case "defered":
          this.#host.modify(m, propsOf(s.propertiesToModify));
          this.#backToDeferred(m, false);
          break;
        case "suspended":
          this.#host.modify(m, propsOf(s.propertiesToModify));
          this.#host.deadLetter(this, m, s.deadLetterReason ?? "", s.deadLetterDescription ?? "");
          break;
      }
      return "settled";
    }
    if (!this.#queueLock(token)) return "lock-lost";
    const confirm = this.queue.confirmOutcome(token, settlementState(s));
    return confirm.type === "rejected" && confirm.error?.condition === "com.microsoft:message-lock-lost"
      ? "lock-lost"
      : "settled";
  }

  // ---- peek -------------------------------------------------------------------------------------------

  /**
   * Up to `count` messages from sequence number `from` on, in order, without locking them: active
   * (ready or locked), deferred and scheduled ones; only those of `sessionId` when given.
   */
  peek(from: number, count: number, sessionId: string | undefined): Buffer[] {
    const all: { m: StoredMessage; state: MessageState; lockedUntil?: number }[] = [];
    const { ready, locked } = this.queue.messages();
    for (const m of ready) all.push({ m, state: MessageState.active });
    for (const l of locked)
      all.push({ m: l.message, state: MessageState.active, lockedUntil: l.lockedUntil });
    for (const m of this.#deferred.values()) all.push({ m, state: MessageState.deferred });
    for (const l of this.#locks.values()) {
      all.push({ m: l.message, state: MessageState.deferred, lockedUntil: l.lockedUntil });
    }
    for (const s of this.#scheduled.values()) all.push({ m: s.message, state: MessageState.scheduled });
    return all
      .filter((e) => e.m.seq >= from && (sessionId === undefined || factsOf(e.m).groupId === sessionId))
      .sort((a, b) => a.m.seq - b.m.seq)
      .slice(0, count)
      .map((e) => this.stamp(e.m, e.state, e.lockedUntil));
  }

  /** Sessions that have messages, in the order of their first message (for acceptNextSession). */
  sessionsWithMessages(): string[] {
    const ids: string[] = [];
    const seen = new Set<string>();
    for (const m of this.queue.messages().ready) {
      const id = factsOf(m).groupId;
      if (id !== undefined && !seen.has(id)) {
        seen.add(id);
        ids.push(id);
      }
    }
    return ids;
  }

  /** Drops every timer and lock (the queue was deleted). */
  close(): void {
    if (this.#scheduleTimer) clearTimeout(this.#scheduleTimer);
    this.#scheduleTimer = undefined;
    this.#scheduled.clear();
    for (const l of this.#locks.values()) if (l.timer) clearTimeout(l.timer);
    this.#locks.clear();
    this.#deferred.clear();
    this.sessions.clear();
  }
}

function propsOf(
  map: ReadonlyMap<string, AMQPValue> | undefined,
): Readonly<Record<string, AMQPValue>> | undefined {
  if (!map || map.size === 0) return undefined;
  return Object.fromEntries(map);
}
