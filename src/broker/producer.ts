/**
 * A producer: a receiving link of the broker. Messages go to its queue, to the queue named by each
 * message's `properties.to` (anonymous relay), to an event hub, or to a request node (`$management`,
 * `$cbs`). Credit is the engine's automatic credit (`producerCredit` at most), capped by what the
 * queue and the broker have room for: messages (`maxQueueDepth`, shared with the queue's other
 * producers) and bytes (`maxQueueBytes`, `maxTotalBytes`, at the size this producer's messages have
 * had). A full queue or broker gets no new credit until drained to its low-water mark (back-pressure);
 * a message already in flight then is rejected with `amqp:resource-limit-exceeded`.
 */
import type { DeliveryState, IncomingDelivery } from "../engine/delivery.js";
import type { LinkSession } from "../engine/link.js";
import type { ReceiverLink } from "../engine/receiver-link.js";
import { addressText } from "./address.js";
import { MESSAGE_OVERHEAD_BYTES } from "./byte-budget.js";
import type { BrokerContext } from "./context.js";
import { readDataSections, readProperties, scanSections } from "./message-scan.js";
import type { BrokerErrorFields, BrokerRight, DeliveryHook } from "./options.js";
import type { Queue, QueueProducer } from "./queue.js";
import { isRequestNode } from "./registry.js";
import { BATCH_FORMAT, type MessageSink } from "./message-sink.js";
import { storeMessage } from "./stored-message.js";
import { tickNow } from "../util/tick-clock.js";

/** Where a producer's messages go. */
export type ProducerTarget =
  | { readonly kind: "queue"; readonly queue: Queue }
  | { readonly kind: "sink"; readonly sink: MessageSink }
  | { readonly kind: "relay" }
  | { readonly kind: "node"; readonly node: string };

/** What a producer needs from its connection. */
export interface ProducerOwner {
  readonly id: number;
  readonly ctx: BrokerContext;
  /**
   * Whether this connection may use `right` on `address` (a guarded address needs a CBS token, the
   * `authorization` rules must grant the right); when not, the error refusing it (counted).
   */
  authorize(right: BrokerRight, address: string, what: "attach" | "message"): BrokerErrorFields | undefined;
  /**
   * Handles a request to `$management` / `$cbs` and routes the response; `session` is the session
   * of the request's link (the connection's `AmqpSession`, as the link knows it).
   */
  handleNodeRequest(node: string, payload: Buffer, session: LinkSession): void;
}

function hookState(h: DeliveryHook): DeliveryState {
  switch (h.outcome) {
    case "reject":
      return {
        type: "rejected",
        error: {
          condition: h.condition ?? "amqp:internal-error",
          ...(h.description !== undefined ? { description: h.description } : {}),
        },
      };
    case "release":
      return { type: "released" };
    case "modify":
      return {
        type: "modified",
        ...(h.deliveryFailed !== undefined ? { deliveryFailed: h.deliveryFailed } : {}),
        ...(h.undeliverableHere !== undefined ? { undeliverableHere: h.undeliverableHere } : {}),
      };
  }
}

function rejected(condition: string, description: string): DeliveryState {
  return { type: "rejected", error: { condition, description } };
}

function overLimit(description: string): DeliveryState {
  return rejected("amqp:resource-limit-exceeded", description);
}

/** The outcome of every message stored (one object for all: the engine only reads it). */
const ACCEPTED: DeliveryState = Object.freeze({ type: "accepted" });

export class Producer implements QueueProducer {
  readonly link: ReceiverLink;
  readonly target: ProducerTarget;
  /** The address the producer attached to (undefined for the anonymous relay). */
  readonly address: string | undefined;
  readonly #owner: ProducerOwner;
  readonly #window: number;
  /**
   * The bytes one of its messages counts (encoded size plus overhead), as its messages have been:
   * up at once to a larger one, down slowly (an eighth of the way per message) to smaller ones.
   * Undefined before the first: then the largest message allowed is assumed.
   */
  #messageBytes: number | undefined;
  readonly #onSpace = (): void => {
    this.link.topUpCredit();
  };

  constructor(owner: ProducerOwner, link: ReceiverLink, target: ProducerTarget, address: string | undefined) {
    this.#owner = owner;
    this.link = link;
    this.target = target;
    this.address = address;
    this.#window = owner.ctx.settings.producerCredit;
  }

  /**
   * Starts receiving: installs the delivery handler and the credit allowance, and grants the first
   * credit (the link took the client's initial delivery-count from its ATTACH).
   */
  start(): void {
    const link = this.link;
    // The broker never takes credit back, so a delivery without credit is the client's fault.
    link.enforceCredit();
    link.onDelivery = (d) => {
      this.#onDelivery(d);
    };
    // Requests to a node are not stored: their credit is not held back (managing the broker, e.g.
    // deleting a queue, must stay possible while it is full).
    if (this.target.kind !== "node") link.setCreditAllowance(() => this.#allowance());
    if (this.target.kind === "queue") this.target.queue.producers.add(this);
    link.setAutoCredit(this.#window);
    link.topUpCredit();
  }

  /** The bytes its outstanding credit may bring: 0 before its first message (its size unknown). */
  get creditBytes(): number {
    return Math.max(0, this.link.linkCredit) * (this.#messageBytes ?? 0);
  }

  /** Room freed up in the queue it waited for: its credit is topped up as far as the room allows. */
  roomFreed(): void {
    this.link.topUpCredit();
  }

  /** Stops listening for room in the queue and the broker. */
  stop(): void {
    if (this.target.kind === "queue") {
      this.target.queue.producers.delete(this);
      this.target.queue.stopWaiting(this);
    }
    this.#owner.ctx.memory.cancelWhenRoom(this.#onSpace);
  }

  /**
   * The credit this producer may have outstanding now: for a queue, within the messages left before
   * `maxQueueDepth` and the bytes left in the queue (less what the credit of its other producers may
   * bring) and in the broker; for the relay and event hubs, within the broker's bytes (the relay's
   * destinations are checked per message). None while the queue or the broker is full. Held back
   * below its window by the queue, the producer waits for room in it (asked again when some frees).
   */
  #allowance(): number {
    const memory = this.#owner.ctx.memory;
    if (memory.full) {
      memory.whenRoom(this.#onSpace);
      return 0;
    }
    if (this.target.kind !== "queue") return this.#fitting(memory.room);
    const q = this.target.queue;
    let others = 0;
    let othersBytes = 0;
    for (const p of q.producers) {
      if (p === this) continue;
      others += Math.max(0, p.link.linkCredit);
      othersBytes += p.creditBytes;
    }
    const allowed = Math.min(
      q.room - others,
      this.#fitting(Math.min(q.bytes.room - othersBytes, memory.room)),
    );
    // Waits for messages to leave (and for the other producers' credit to turn into messages that
    // leave) only when that can bring it more credit: as the engine grants it (half a window at a
    // time, or from none), up to what it would get from an empty queue. Not, for instance, a
    // producer that has sent nothing yet and holds the credit messages of the largest size allowed
    // would get: no room that frees up changes that, and there may be thousands of them.
    const most = Math.min(this.#window, this.#mostAllowed(q));
    const credit = Math.max(0, this.link.linkCredit);
    if (allowed < most && most > credit && (most * 2 >= this.#window || credit === 0)) q.waitForRoom(this);
    return allowed;
  }

  /** The allowance with `q` empty and no other producer holding credit. */
  #mostAllowed(q: Queue): number {
    const memory = this.#owner.ctx.memory;
    return Math.min(q.room + q.depth, this.#fitting(Math.min(q.bytes.limit, memory.room + q.bytes.used)));
  }

  /**
   * Messages of this producer's size that take `room` bytes, the last one possibly past it (so that
   * a queue fills up to its limit and turns full, rather than stopping just short of it).
   */
  #fitting(room: number): number {
    if (room <= 0) return 0;
    const size = this.#messageBytes ?? this.#owner.ctx.settings.maxMessageSize + MESSAGE_OVERHEAD_BYTES;
    return Math.ceil(room / size);
  }

  /** Learns the size of the producer's messages from one that arrived. */
  #measure(d: IncomingDelivery): void {
    const n = d.payload.length + MESSAGE_OVERHEAD_BYTES;
    const m = this.#messageBytes;
    this.#messageBytes = m === undefined || n >= m ? n : m - (m - n) / 8;
  }

  #onDelivery(d: IncomingDelivery): void {
    const owner = this.#owner;
    const ctx = owner.ctx;
    this.#measure(d);
    let target = this.target;
    let address = this.address;
    if (target.kind === "relay") {
      const routed = this.#route(d);
      if ("state" in routed) {
        if (ctx.events.observed) ctx.events.emit(this.#messageEvent(d, routed.address));
        this.#settle(d, routed.state);
        return;
      }
      target = routed.target;
      address = routed.address;
    }
    if (ctx.events.observed) ctx.events.emit(this.#messageEvent(d, address));
    const hooks = address === undefined ? undefined : ctx.hooksFor(address);
    if (hooks?.neverSettle === true) return;
    if (hooks?.onDelivery) {
      this.#settle(d, hookState(hooks.onDelivery));
      return;
    }
    if (target.kind === "node") {
      this.#settle(d, { type: "accepted" });
      owner.handleNodeRequest(target.node, d.payload, this.link.session);
      return;
    }
    const memory = ctx.memory;
    if (target.kind === "sink") {
      this.#settle(
        d,
        memory.full ? overLimit(this.#brokerFull()) : target.sink.accept(d.payload, d.messageFormat),
      );
      return;
    }
    if (target.kind === "queue") {
      const q = target.queue;
      if (q.deleted) {
        this.#settle(d, rejected("amqp:not-found", `the queue '${q.name}' was deleted`));
      } else if (q.room <= 0) {
        this.#settle(d, overLimit(`the queue '${q.name}' is full`));
      } else if (q.bytes.full) {
        this.#settle(
          d,
          overLimit(
            `the queue '${q.name}' is full: it holds its limit of ${q.bytes.limit} bytes (limits.maxQueueBytes)`,
          ),
        );
      } else if (memory.full) {
        this.#settle(d, overLimit(this.#brokerFull()));
      } else {
        this.#store(q, d);
        this.#settle(d, ACCEPTED);
      }
    }
  }

  #brokerFull(): string {
    const limit = this.#owner.ctx.memory.limit;
    return `the broker is full: it holds its limit of ${limit} bytes of messages (limits.maxTotalBytes)`;
  }

  /** Anonymous relay: the queue (or node) named by the message's `to`, or the outcome refusing it. */
  #route(
    d: IncomingDelivery,
  ): { target: ProducerTarget; address: string } | { state: DeliveryState; address: string | undefined } {
    const ctx = this.#owner.ctx;
    const map = d.messageFormat === 0 ? scanSections(d.payload) : undefined;
    const to = map ? addressText(readProperties(d.payload, map)?.to) : undefined;
    if (to === undefined) {
      return { state: rejected("amqp:not-found", "the message has no 'to' address"), address: undefined };
    }
    const address = ctx.resolveAddress(to);
    if (isRequestNode(address)) return { target: { kind: "node", node: address }, address };
    // The link stays attached: only this message is refused.
    const denied = this.#owner.authorize("send", address, "message");
    if (denied) return { state: { type: "rejected", error: denied }, address };
    const sink = ctx.eventHubs.sinkFor(address);
    if (sink) return { target: { kind: "sink", sink }, address };
    const queue = ctx.queueFor(address);
    if ("error" in queue) {
      const e = queue.error;
      return { state: rejected(e.condition, e.description ?? e.condition), address };
    }
    return { target: { kind: "queue", queue }, address };
  }

  #store(q: Queue, d: IncomingDelivery): void {
    const now = tickNow();
    if (d.messageFormat === BATCH_FORMAT && this.#owner.ctx.settings.splitBatches) {
      const map = scanSections(d.payload);
      const inner = map ? readDataSections(d.payload, map) : undefined;
      if (inner) {
        for (const bytes of inner) q.enqueue(storeMessage(Buffer.from(bytes), 0, now));
        return;
      }
    }
    q.enqueue(storeMessage(d.payload, d.messageFormat, now));
  }

  #settle(d: IncomingDelivery, state: DeliveryState): void {
    if (!d.settled) this.link.settle(d, state);
  }

  #messageEvent(
    d: IncomingDelivery,
    address: string | undefined,
  ): {
    type: "message";
    connectionId: number;
    address: string | undefined;
    payload: Buffer;
    messageFormat: number;
    settled: boolean;
  } {
    return {
      type: "message",
      connectionId: this.#owner.id,
      address,
      payload: d.payload,
      messageFormat: d.messageFormat,
      settled: d.remoteSettled,
    };
  }
}
