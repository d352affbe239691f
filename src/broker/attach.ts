/**
 * Answers a peer's ATTACH: binds the link to a queue (named, dynamic, or the anonymous relay), to a
 * request node (`$management`, `$cbs`), to an event hub or one of its partitions, or refuses it
 * (attach with a null terminus, then detach with the error), applying the address hooks, the CBS
 * guard, the rights of the `authorization` rules, the per-session and per-connection link limits and
 * the queue limit.
 */
import type { SourceFields, TargetFields } from "../codec/definitions/messaging.js";
import type { AttachFields } from "../frames/performatives.js";
import { RcvSettleMode } from "../engine/link.js";
import type { ReceiverLink } from "../engine/receiver-link.js";
import type { SenderLink } from "../engine/sender-link.js";
import type { AmqpSession } from "../engine/session.js";
import { addressText } from "./address.js";
import type { ReaderPlan } from "./eventhubs/hub-registry.js";
import { LinkRecord } from "./link-record.js";
import type { AddressHooks, BrokerErrorFields } from "./options.js";
import type { MessageSink } from "./message-sink.js";
import { Producer, type ProducerOwner, type ProducerTarget } from "./producer.js";
import { Queue, type DeliveryPolicy, type QueueConsumer } from "./queue.js";
import { isRequestNode } from "./registry.js";

/** A consumer attached to a request node: where that node's responses go. */
export interface ReplyLink {
  readonly node: string;
  readonly session: AmqpSession;
  readonly linkName: string;
  /** The consumer's own (target) address, which requests name as reply-to. */
  readonly targetAddress: string | undefined;
  /** Private queue feeding the link (credit honoured like any consumer). */
  readonly queue: Queue;
}

/** What attaching needs from the connection. */
export interface AttachOwner extends ProducerOwner {
  /** Keeps the record until the link is gone. */
  track(record: LinkRecord): void;
  /** Links of `session` (without one: of the whole connection) still attached. */
  linkCount(session?: AmqpSession): number;
  /** Every link of the connection still attached. */
  readonly links: readonly LinkRecord[];
  addReplyLink(reply: ReplyLink): void;
  removeReplyLink(reply: ReplyLink): void;
}

function refuse(session: AmqpSession, attach: AttachFields, error: BrokerErrorFields): void {
  const link = session.acceptLink(attach, {});
  void link.detach({ closed: true, error });
}

function targetFields(t: AttachFields["target"]): TargetFields | undefined {
  if (t?.type !== "target") return undefined;
  const { type: _type, ...fields } = t;
  return fields;
}

/** Handles one ATTACH from the peer. */
export function handleAttach(owner: AttachOwner, attach: AttachFields, session: AmqpSession): void {
  const ctx = owner.ctx;
  const peerIsSender = !attach.role;
  const raw = addressText(peerIsSender ? targetFields(attach.target)?.address : attach.source?.address);
  ctx.events.emit({
    type: "attach",
    connectionId: owner.id,
    role: peerIsSender ? "sender" : "receiver",
    address: raw === undefined ? undefined : ctx.resolveAddress(raw),
    linkName: attach.name,
  });
  // A link name identifies one link between two containers: attaching it again steals it.
  const ourRole = peerIsSender ? "receiver" : "sender";
  for (const r of owner.links) {
    if (r.link.name === attach.name && r.link.role === ourRole) {
      r.close({
        condition: "amqp:link:stolen",
        description: `the link '${attach.name}' was attached again on this connection`,
      });
    }
  }
  const max = ctx.settings.maxLinksPerSession;
  if (owner.linkCount(session) >= max) {
    refuse(session, attach, {
      condition: "amqp:resource-limit-exceeded",
      description: `at most ${max} links may be attached per session`,
    });
    return;
  }
  const maxPerConnection = ctx.settings.maxLinksPerConnection;
  if (owner.linkCount() >= maxPerConnection) {
    refuse(session, attach, {
      condition: "amqp:resource-limit-exceeded",
      description: `at most ${maxPerConnection} links may be attached per connection`,
    });
    return;
  }
  if (peerIsSender) attachProducer(owner, attach, session);
  else attachConsumer(owner, attach, session);
}

/** What a named address binds a link to: a queue, an event hub's sink or reader, or a request node. */
interface Bound {
  readonly address: string;
  readonly hooks: AddressHooks | undefined;
  readonly queue?: Queue;
  readonly sink?: MessageSink;
  readonly reader?: ReaderPlan;
}

/**
 * Resolves a named address for a link, or the error refusing it: a producer needs the `send` right
 * on it, a consumer `listen` (checked before a queue is created on first use).
 */
function bind(
  owner: AttachOwner,
  raw: string,
  attach: AttachFields,
  session: AmqpSession,
): Bound | { error: BrokerErrorFields } {
  const ctx = owner.ctx;
  const address = ctx.resolveAddress(raw);
  const hooks = ctx.hooksFor(address);
  if (hooks?.refuseAttach) return { error: hooks.refuseAttach };
  if (isRequestNode(address)) return { address, hooks };
  // A peer receiver (role true) listens, a peer sender sends.
  const denied = owner.authorize(attach.role ? "listen" : "send", address, "attach");
  if (denied) return { error: denied };
  // Event hub addresses are partition logs, not queues (src/broker/eventhubs/).
  const hub = ctx.eventHubs.bind(address, attach, session.connection.remote?.properties);
  if (hub) return "error" in hub ? hub : { address, hooks, ...hub };
  const queue = ctx.queueFor(address);
  if ("error" in queue) return queue;
  return { address, hooks, queue };
}

function attachProducer(owner: AttachOwner, attach: AttachFields, session: AmqpSession): void {
  const ctx = owner.ctx;
  if (attach.target !== undefined && attach.target.type !== "target") {
    refuse(session, attach, {
      condition: "amqp:not-implemented",
      description: "transactions are not supported by this broker",
    });
    return;
  }
  const target = targetFields(attach.target);
  if (!target) {
    refuse(session, attach, { condition: "amqp:invalid-field", description: "the link has no target" });
    return;
  }
  // Messages from producers are settled at once (receiver-settle-mode first), whatever mode they ask
  // for, as Azure Service Bus and RabbitMQ do: Python uamqp asks for `second` but never settles a
  // delivery the receiver left unsettled, so it would wait forever. Our own ATTACH sets the mode.
  const accept = (t: TargetFields): ReceiverLink =>
    session.acceptLink(attach, {
      source: attach.source,
      target: t,
      maxMessageSize: ctx.settings.maxMessageSize,
      rcvSettleMode: RcvSettleMode.First,
    }) as ReceiverLink;
  if (target.dynamic === true) {
    const q = ctx.createTemporaryQueue();
    if ("error" in q) {
      refuse(session, attach, q.error);
      return;
    }
    const record = startProducer(
      owner,
      accept({ ...target, address: q.name }),
      { kind: "queue", queue: q },
      q.name,
    );
    record.whenGone(() => ctx.deleteQueue(q.name));
    return;
  }
  const raw = addressText(target.address);
  if (raw === undefined) {
    startProducer(owner, accept(target), { kind: "relay" }, undefined);
    return;
  }
  const b = bind(owner, raw, attach, session);
  if ("error" in b) {
    refuse(session, attach, b.error);
    return;
  }
  const link = accept(target);
  if (b.hooks?.detachAfterAttach) {
    void link.detach({ closed: true, error: b.hooks.detachAfterAttach });
    return;
  }
  const pt: ProducerTarget = b.queue
    ? { kind: "queue", queue: b.queue }
    : b.sink
      ? { kind: "sink", sink: b.sink }
      : { kind: "node", node: b.address };
  startProducer(owner, link, pt, b.address);
}

function startProducer(
  owner: AttachOwner,
  link: ReceiverLink,
  target: ProducerTarget,
  address: string | undefined,
): LinkRecord {
  const p = new Producer(owner, link, target, address);
  const record = new LinkRecord(link, address);
  record.whenGone(() => {
    p.stop();
  });
  owner.track(record);
  p.start();
  return record;
}

function attachConsumer(owner: AttachOwner, attach: AttachFields, session: AmqpSession): void {
  const ctx = owner.ctx;
  const source = attach.source;
  if (!source) {
    refuse(session, attach, { condition: "amqp:invalid-field", description: "the link has no source" });
    return;
  }
  const target = targetFields(attach.target);
  // Consumers get the receiver-settle-mode they ask for: with `second` their outcome is applied to
  // the queue, then confirmed with a settled DISPOSITION carrying the applied state.
  const rcvSettleMode =
    attach.rcvSettleMode === RcvSettleMode.Second ? RcvSettleMode.Second : RcvSettleMode.First;
  const accept = (s: SourceFields, offeredCapabilities?: string[]): SenderLink =>
    session.acceptLink(attach, {
      source: s,
      target,
      rcvSettleMode,
      ...(offeredCapabilities ? { offeredCapabilities } : {}),
    }) as SenderLink;
  if (source.dynamic === true) {
    const q = ctx.createTemporaryQueue();
    if ("error" in q) {
      refuse(session, attach, q.error);
      return;
    }
    const record = startConsumer(owner, accept({ ...source, address: q.name }), q, q.name);
    record.whenGone(() => ctx.deleteQueue(q.name));
    return;
  }
  const raw = addressText(source.address);
  if (raw === undefined) {
    refuse(session, attach, { condition: "amqp:invalid-field", description: "the source has no address" });
    return;
  }
  const b = bind(owner, raw, attach, session);
  if ("error" in b) {
    refuse(session, attach, b.error);
    return;
  }
  if (b.hooks?.detachAfterAttach) {
    void accept(source).detach({ closed: true, error: b.hooks.detachAfterAttach });
    return;
  }
  if (b.reader) {
    // An event hub's reader answers with its own source (the position filter) and capabilities.
    const link = accept(b.reader.source, b.reader.offeredCapabilities);
    owner.track(b.reader.start(link, b.address));
    return;
  }
  if (b.queue) {
    const queue = b.queue;
    const address = b.address;
    // Hook point: Service Bus receivers get their session, ATTACH answer and delivery policy
    // (src/broker/servicebus/namespace.ts); other consumers are started as they are.
    ctx.serviceBus.attachConsumer(attach, queue, {
      accept: (answer) =>
        session.acceptLink(attach, {
          source: answer.filter ? { ...source, filter: { ...source.filter, ...answer.filter } } : source,
          target,
          rcvSettleMode,
          ...(answer.properties ? { properties: answer.properties } : {}),
        }) as SenderLink,
      refuse: (error) => {
        refuse(session, attach, error);
      },
      answerable: () => session.state === "mapped",
      start: (link, policy) => startConsumer(owner, link, queue, address, policy),
    });
    return;
  }
  const link = accept(source);
  // A request node: responses reach this link through a private queue.
  const reply: ReplyLink = {
    node: b.address,
    session,
    linkName: attach.name,
    targetAddress: addressText(target?.address),
    // Its locks do not expire: a response redelivered to the same link would only repeat itself.
    queue: new Queue(ctx.queueHost, `${b.address}/reply/${attach.name}`, true, { lockDuration: 0 }),
  };
  owner.addReplyLink(reply);
  const record = startConsumer(owner, link, reply.queue, b.address);
  record.whenGone(() => {
    owner.removeReplyLink(reply);
    reply.queue.delete();
  });
}

function startConsumer(
  owner: AttachOwner,
  link: SenderLink,
  queue: Queue,
  address: string,
  policy?: DeliveryPolicy,
): LinkRecord {
  const consumer: QueueConsumer = { link, connectionId: owner.id, ...(policy ? { policy } : {}) };
  const record = new LinkRecord(link, address);
  record.whenGone(() => {
    queue.removeConsumer(consumer);
    link.onCredit = undefined;
    link.onReceiverOutcome = undefined;
  });
  owner.track(record);
  link.onCredit = () => {
    queue.creditArrived(consumer);
  };
  link.onReceiverOutcome = (delivery, state) => queue.confirmDelivery(delivery.context, state);
  queue.addConsumer(consumer);
  return record;
}
