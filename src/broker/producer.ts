/**
 * A producer: a receiving link of the broker. Messages go to its queue, to the queue named by each
 * message's `properties.to` (anonymous relay), or to a request node (`$management`, `$cbs`).
 * Credit is granted in windows and withheld while the queue is full (back-pressure).
 */
import type { DeliveryState, IncomingDelivery } from "../engine/delivery.js";
import type { LinkSession } from "../engine/link.js";
import type { ReceiverLink } from "../engine/receiver-link.js";
import { addressText } from "./address.js";
import type { BrokerContext } from "./context.js";
import { readDataSections, readProperties, scanSections } from "./message-scan.js";
import type { BrokerErrorFields, BrokerRight, DeliveryHook } from "./options.js";
import type { Queue } from "./queue.js";
import { isRequestNode } from "./registry.js";
import { BATCH_FORMAT, type MessageSink } from "./message-sink.js";
import { storeMessage } from "./stored-message.js";

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

export class Producer {
  readonly link: ReceiverLink;
  readonly target: ProducerTarget;
  /** The address the producer attached to (undefined for the anonymous relay). */
  readonly address: string | undefined;
  readonly #owner: ProducerOwner;
  readonly #window: number;
  readonly #onSpace = (): void => {
    this.topUp();
  };

  constructor(owner: ProducerOwner, link: ReceiverLink, target: ProducerTarget, address: string | undefined) {
    this.#owner = owner;
    this.link = link;
    this.target = target;
    this.address = address;
    this.#window = owner.ctx.settings.producerCredit;
  }

  /**
   * Starts receiving: installs the delivery handler and grants the first credit (the link took
   * the client's initial delivery-count from its ATTACH).
   */
  start(): void {
    const link = this.link;
    // The broker never takes credit back, so a delivery without credit is the client's fault.
    link.enforceCredit();
    link.onDelivery = (d) => {
      this.#onDelivery(d);
    };
    link.onSenderFlow = () => {
      this.topUp();
    };
    if (this.target.kind === "queue") {
      this.target.queue.producers.add(this);
      this.target.queue.spaceListeners.add(this.#onSpace);
      this.topUp();
    } else {
      link.setAutoCredit(this.#window);
      link.flow(this.#window);
    }
  }

  /** Stops listening for room in the queue. */
  stop(): void {
    if (this.target.kind === "queue") {
      this.target.queue.producers.delete(this);
      this.target.queue.spaceListeners.delete(this.#onSpace);
    }
  }

  /** Grants credit up to the window, within the room left in the queue (shared with its other producers). */
  topUp(): void {
    if (this.target.kind !== "queue") return;
    const link = this.link;
    if (link.state === "detached" || link.state === "detaching") return;
    const q = this.target.queue;
    let others = 0;
    for (const p of q.producers) if (p !== this) others += Math.max(0, p.link.linkCredit);
    const credit = Math.min(this.#window, Math.max(0, q.room - others));
    const current = Math.max(0, link.linkCredit);
    if (credit > current && (credit * 2 >= this.#window || current === 0) && current * 2 < this.#window) {
      link.flow(credit);
    }
  }

  #onDelivery(d: IncomingDelivery): void {
    const owner = this.#owner;
    const ctx = owner.ctx;
    let target = this.target;
    let address = this.address;
    if (target.kind === "relay") {
      const routed = this.#route(d);
      if ("state" in routed) {
        if (ctx.observed) ctx.emit(this.#messageEvent(d, routed.address));
        this.#settle(d, routed.state);
        return;
      }
      target = routed.target;
      address = routed.address;
    }
    if (ctx.observed) ctx.emit(this.#messageEvent(d, address));
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
    if (target.kind === "sink") {
      this.#settle(d, target.sink.accept(d.payload, d.messageFormat));
      return;
    }
    if (target.kind === "queue") {
      const q = target.queue;
      if (q.deleted) {
        this.#settle(d, rejected("amqp:not-found", `the queue '${q.name}' was deleted`));
      } else if (q.room <= 0) {
        this.#settle(d, rejected("amqp:resource-limit-exceeded", `the queue '${q.name}' is full`));
      } else {
        this.#store(q, d);
        this.#settle(d, { type: "accepted" });
      }
    }
    this.topUp();
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
    if (!queue)
      return { state: rejected("amqp:not-found", `the queue '${address}' does not exist`), address };
    return { target: { kind: "queue", queue }, address };
  }

  #store(q: Queue, d: IncomingDelivery): void {
    const now = Date.now();
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
