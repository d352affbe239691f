/**
 * A session: BEGIN/END, the incoming and outgoing windows, transfer-ids and delivery-ids with
 * serial wrap-around, handle allocation, routing frames to links, transfers split to the peer's
 * max-frame-size, and dispositions coalesced into ranges once per tick.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import type { SourceFields, TargetFields } from "../codec/definitions/messaging.js";
import {
  Attach,
  Begin,
  Detach,
  Disposition,
  End,
  Flow,
  type AttachFields,
  type BeginFields,
  type DetachFields,
  type DispositionFields,
  type EndFields,
  type FlowFields,
  type TransferFields,
} from "../frames/performatives.js";
import {
  beginFrame,
  endFrame,
  writeTransferPerformative,
  type TransferHead,
} from "../frames/frame-writer.js";
import { deferred, ignoreRejection, type Deferred } from "../util/deferred.js";
import { serialAdd, serialDiff } from "../util/serial.js";
import type { AmqpConnection } from "./connection.js";
import type { DeliveryState, IncomingDelivery, OutgoingDelivery } from "./delivery.js";
import { ReceiverSettleMode, SenderSettleMode, type Link, type LinkOptions } from "./link.js";
import { ReceiverLink } from "./receiver-link.js";
import { localCloseError, remoteEndError, type ErrorFields } from "./remote-errors.js";
import { SenderLink } from "./sender-link.js";

/** Session options. */
export interface SessionOptions {
  /** Transfer frames we accept before the window must be reopened. @defaultValue 65536 */
  incomingWindow?: number;
  /** @defaultValue 65536 */
  outgoingWindow?: number;
  /** Highest handle the peer may use. @defaultValue 4294967295 */
  handleMax?: number;
}

/** Receives links the peer attaches that we did not open (accepting side). */
export type RemoteAttachHandler = (attach: AttachFields, session: AmqpSession) => void;

interface PendingDisposition {
  role: boolean;
  first: number;
  last: number;
  settled: boolean;
  state: DeliveryState | undefined;
}

const TRANSFER_HEAD: TransferHead = {
  handle: 0,
  deliveryId: undefined,
  deliveryTag: undefined,
  messageFormat: undefined,
  settled: false,
  more: false,
};

let nameCounter = 0;

export class AmqpSession {
  readonly connection: AmqpConnection;
  readonly channel: number;
  remoteChannel: number | undefined;
  state: "beginning" | "mapped" | "ending" | "ended" = "beginning";
  error: AMQPError | undefined;
  readonly incomingWindowSize: number;
  readonly outgoingWindowSize: number;
  readonly handleMax: number;
  /** Next transfer-id we send. */
  nextOutgoingId = 0;
  /** Next transfer-id we expect. */
  nextIncomingId = 0;
  incomingWindow: number;
  remoteIncomingWindow = 0;
  remoteOutgoingWindow = 0;
  /** Next delivery-id we assign. */
  nextDeliveryId = 0;
  remote: BeginFields | undefined;
  /** Links the peer attaches without a local counterpart. */
  onRemoteAttach: RemoteAttachHandler | undefined;
  /** Called when the peer answers the ATTACH of one of our links (uamqp's `on_attach`). */
  onLinkAttached: ((link: Link, attach: AttachFields) => void) | undefined;
  /** Called when the session ends (by the peer or because the connection died). */
  onEnd: ((error: AMQPError | undefined) => void) | undefined;

  readonly #links: (Link | undefined)[] = [];
  readonly #byRemoteHandle = new Map<number, Link>();
  readonly #byName = new Map<string, Link>();
  readonly #outgoing = new Map<number, OutgoingDelivery>();
  readonly #incoming = new Map<number, IncomingDelivery>();
  #dispositions: PendingDisposition[] = [];
  /** Senders with queued deliveries blocked by window or back-pressure. */
  readonly #waiting = new Set<SenderLink>();
  #begun: Deferred<BeginFields> = deferred();
  #ended: Deferred<void> | undefined;
  #endSent = false;

  constructor(connection: AmqpConnection, channel: number, options: SessionOptions = {}) {
    this.connection = connection;
    this.channel = channel;
    this.incomingWindowSize = options.incomingWindow ?? 65536;
    this.outgoingWindowSize = options.outgoingWindow ?? 65536;
    this.handleMax = options.handleMax ?? 0xffffffff;
    this.incomingWindow = this.incomingWindowSize;
    ignoreRejection(this.#begun.promise);
  }

  /** Resolves with the peer's BEGIN. */
  begun(): Promise<BeginFields> {
    return this.#begun.promise;
  }

  /** @internal Sends BEGIN (also used to answer a peer's BEGIN, with `remoteChannel`). */
  writeBegin(): void {
    const begin: BeginFields = {
      nextOutgoingId: this.nextOutgoingId,
      incomingWindow: this.incomingWindow,
      outgoingWindow: this.outgoingWindowSize,
      handleMax: this.handleMax,
    };
    if (this.remoteChannel !== undefined) begin.remoteChannel = this.remoteChannel;
    this.connection.writeFrame(this.channel, Begin, begin);
  }

  /** @internal */
  handleBegin(begin: BeginFields): void {
    this.remote = begin;
    this.nextIncomingId = begin.nextOutgoingId;
    this.remoteIncomingWindow = begin.incomingWindow;
    this.remoteOutgoingWindow = begin.outgoingWindow;
    if (this.state === "beginning") this.state = "mapped";
    this.#begun.resolve(begin);
    for (const l of this.#waiting) this.transmit(l);
  }

  // ---- links --------------------------------------------------------------------------------

  #allocHandle(): number {
    const max = Math.min(this.handleMax, this.remote?.handleMax ?? 0xffffffff);
    for (let h = 0; h <= max; h++) if (this.#links[h] === undefined) return h;
    throw localCloseError("no free link handle in this session");
  }

  #attachFields(role: boolean, options: LinkOptions): AttachFields {
    const name =
      options.name ??
      `${role ? "receiver" : "sender"}-${process.pid}-${++nameCounter}-${Date.now().toString(36)}`;
    const a: AttachFields = { name, handle: this.#allocHandle(), role };
    if (options.sndSettleMode !== undefined) a.sndSettleMode = options.sndSettleMode;
    if (options.rcvSettleMode !== undefined) a.rcvSettleMode = options.rcvSettleMode;
    if (options.source !== undefined) a.source = options.source;
    if (options.target !== undefined) a.target = { type: "target", ...options.target };
    if (options.maxMessageSize !== undefined && options.maxMessageSize !== 0)
      a.maxMessageSize = BigInt(options.maxMessageSize);
    if (options.properties !== undefined) a.properties = options.properties;
    if (options.offeredCapabilities !== undefined) a.offeredCapabilities = options.offeredCapabilities;
    if (options.desiredCapabilities !== undefined) a.desiredCapabilities = options.desiredCapabilities;
    if (!role) a.initialDeliveryCount = 0;
    return a;
  }

  /** Attaches a sending link (ATTACH goes out at once; await `link.attached()`). */
  attachSender(options: LinkOptions = {}): SenderLink {
    const link = new SenderLink(this, -1 >>> 0, this.#attachFields(false, options));
    if (options.maxInFlight !== undefined) link.maxInFlight = options.maxInFlight;
    if (options.maxInFlightBytes !== undefined) link.maxInFlightBytes = options.maxInFlightBytes;
    return this.#register(link);
  }

  /** Attaches a receiving link; `credit` > 0 sets automatic credit, issued once attached. */
  attachReceiver(options: LinkOptions & { autoCredit?: number } = {}): ReceiverLink {
    const link = new ReceiverLink(this, -1 >>> 0, this.#attachFields(true, options));
    link.autoCredit = options.autoCredit ?? 0;
    return this.#register(link);
  }

  /**
   * Accepting side: answers a peer's ATTACH with our own endpoint. Pass `source`/`target` as the
   * node we bind (undefined refuses the link; then detach it with an error).
   */
  acceptLink(
    remote: AttachFields,
    options: {
      source?: SourceFields | undefined;
      target?: TargetFields | undefined;
      autoCredit?: number;
      sndSettleMode?: SenderSettleMode;
      rcvSettleMode?: ReceiverSettleMode;
      maxMessageSize?: number | bigint;
      properties?: LinkOptions["properties"];
      offeredCapabilities?: string[];
    },
  ): SenderLink | ReceiverLink {
    const weAreReceiver = !remote.role;
    const fields = this.#attachFields(weAreReceiver, {
      name: remote.name,
      sndSettleMode:
        options.sndSettleMode ??
        (remote.sndSettleMode as SenderSettleMode | undefined) ??
        SenderSettleMode.Mixed,
      rcvSettleMode:
        options.rcvSettleMode ??
        (remote.rcvSettleMode as ReceiverSettleMode | undefined) ??
        ReceiverSettleMode.First,
      ...(options.maxMessageSize !== undefined ? { maxMessageSize: options.maxMessageSize } : {}),
      ...(options.properties !== undefined ? { properties: options.properties } : {}),
      ...(options.offeredCapabilities !== undefined
        ? { offeredCapabilities: options.offeredCapabilities }
        : {}),
    });
    if (options.source !== undefined) fields.source = options.source;
    if (options.target !== undefined) fields.target = { type: "target", ...options.target };
    const link = weAreReceiver
      ? new ReceiverLink(this, -1 >>> 0, fields)
      : new SenderLink(this, -1 >>> 0, fields);
    if (link instanceof ReceiverLink) link.autoCredit = options.autoCredit ?? 0;
    this.#register(link);
    link.handleRemoteAttach(remote);
    this.#byRemoteHandle.set(remote.handle, link);
    return link;
  }

  #register<L extends Link>(link: L): L {
    (link as { handle: number }).handle = link.local.handle;
    this.#links[link.handle] = link;
    this.#byName.set(`${link.role}:${link.name}`, link);
    this.connection.writeFrame(this.channel, Attach, link.local);
    return link;
  }

  /** @internal */
  forgetLink(link: Link): void {
    if (this.#links[link.handle] === link) this.#links[link.handle] = undefined;
    if (link.remoteHandle !== undefined && this.#byRemoteHandle.get(link.remoteHandle) === link) {
      this.#byRemoteHandle.delete(link.remoteHandle);
    }
    this.#byName.delete(`${link.role}:${link.name}`);
    if (link instanceof SenderLink) this.#waiting.delete(link);
  }

  /** @internal */
  writeDetach(link: Link, closed: boolean, error: ErrorFields | undefined): void {
    // Settlements decided before the detach go out before it.
    this.flushDispositions();
    const f: DetachFields = { handle: link.handle };
    if (closed) f.closed = true;
    if (error) f.error = toErrorComposite(error);
    this.connection.writeFrame(this.channel, Detach, f);
  }

  /** @internal Writes a FLOW (link flow when `link` is given). */
  writeFlow(link?: Link, drain = false): void {
    if (this.connection.isClosing) return;
    const f: FlowFields = {
      nextIncomingId: this.nextIncomingId,
      incomingWindow: this.incomingWindow,
      nextOutgoingId: this.nextOutgoingId,
      outgoingWindow: this.outgoingWindowSize,
    };
    if (this.remote === undefined) delete f.nextIncomingId;
    if (link) {
      f.handle = link.handle;
      f.deliveryCount = link.deliveryCount;
      f.linkCredit = link.linkCredit;
      if (link instanceof SenderLink) f.available = link.queued;
      if (drain) f.drain = true;
    }
    this.connection.writeFrame(this.channel, Flow, f);
  }

  // ---- frames from the peer ------------------------------------------------------------------

  /** @internal */
  handleAttach(attach: AttachFields): void {
    if (attach.handle > this.handleMax) {
      this.violation(
        "amqp:connection:framing-error",
        `attach handle ${attach.handle} exceeds handle-max ${this.handleMax}`,
      );
      return;
    }
    if (this.#byRemoteHandle.has(attach.handle)) {
      this.endWithError("amqp:session:handle-in-use", `handle ${attach.handle} is already in use`);
      return;
    }
    // Our role is the opposite of the peer's.
    const ours = this.#byName.get(`${attach.role ? "sender" : "receiver"}:${attach.name}`);
    if (ours && ours.remoteHandle === undefined) {
      this.#byRemoteHandle.set(attach.handle, ours);
      this.onLinkAttached?.(ours, attach);
      ours.handleRemoteAttach(attach);
      return;
    }
    if (this.onRemoteAttach) {
      this.onRemoteAttach(attach, this);
      return;
    }
    // Nobody accepts links here: refuse (attach with null terminus, then detach with an error).
    const link = this.acceptLink(attach, {});
    void link.detach({
      closed: true,
      error: { condition: "amqp:not-found", description: "no node accepts links here" },
    });
  }

  /** @internal */
  handleDetach(detach: DetachFields): void {
    const link = this.#byRemoteHandle.get(detach.handle);
    if (!link) {
      this.endWithError("amqp:session:unattached-handle", `detach for unattached handle ${detach.handle}`);
      return;
    }
    link.handleRemoteDetach(detach);
  }

  /** @internal */
  handleFlow(flow: FlowFields): void {
    this.remoteIncomingWindow =
      flow.nextIncomingId === undefined
        ? flow.incomingWindow
        : serialDiff(this.nextOutgoingId, serialAdd(flow.nextIncomingId, flow.incomingWindow));
    this.remoteOutgoingWindow = flow.outgoingWindow;
    if (flow.handle !== undefined) {
      const link = this.#byRemoteHandle.get(flow.handle);
      if (!link) {
        this.endWithError("amqp:session:unattached-handle", `flow for unattached handle ${flow.handle}`);
        return;
      }
      if (link.state === "attaching") link.confirmAttach();
      link.handleFlow(flow);
    } else if (flow.echo === true) {
      this.writeFlow();
    }
    for (const l of this.#waiting) this.transmit(l);
  }

  /** @internal */
  handleTransfer(t: TransferFields, payload: Buffer): void {
    const link = this.#byRemoteHandle.get(t.handle);
    this.nextIncomingId = serialAdd(this.nextIncomingId, 1);
    this.incomingWindow--;
    if (!link || !(link instanceof ReceiverLink)) {
      this.endWithError("amqp:session:unattached-handle", `transfer for unattached handle ${t.handle}`);
      return;
    }
    if (this.incomingWindow < 0) {
      this.endWithError("amqp:session:window-violation", "transfer beyond the incoming window");
      return;
    }
    link.handleTransfer(t, payload);
    if (this.incomingWindow * 2 < this.incomingWindowSize) {
      this.incomingWindow = this.incomingWindowSize;
      this.writeFlow();
    }
  }

  /** @internal */
  handleDisposition(d: DispositionFields): void {
    const last = d.last ?? d.first;
    const span = serialDiff(d.first, last);
    if (span < 0 || span > 1_000_000) {
      this.violation("amqp:invalid-field", `disposition range ${d.first}..${last} is invalid`);
      return;
    }
    if (d.role) {
      // From a receiver: about deliveries we sent.
      for (let i = 0, id = d.first; i <= span; i++, id = serialAdd(id, 1)) {
        const od = this.#outgoing.get(id);
        if (!od) continue;
        if (d.settled === true) {
          this.#outgoing.delete(id);
          od.link.settledByPeer(od, d.state);
        } else if (d.state !== undefined && d.state.type !== "received") {
          // Receiver settle mode second: the receiver reached an outcome, we settle first.
          this.#outgoing.delete(id);
          this.#queueDisposition(false, id, true, d.state);
          od.link.settledByPeer(od, d.state);
        }
      }
    } else {
      // From a sender: it settled (or updated) deliveries we received.
      for (let i = 0, id = d.first; i <= span; i++, id = serialAdd(id, 1)) {
        const inc = this.#incoming.get(id);
        if (!inc) continue;
        if (d.state !== undefined) inc.remoteState = d.state;
        if (d.settled === true) {
          this.#incoming.delete(id);
          if (!inc.settled) {
            inc.settled = true;
            inc.link.unsettled--;
          }
        }
      }
    }
  }

  /** @internal */
  handleEnd(end: EndFields): void {
    const err = end.error ? remoteEndError(end.error) : undefined;
    if (!this.#endSent) {
      this.#endSent = true;
      this.connection.writeFrame(this.channel, End, {});
    }
    this.#finish(err ?? remoteEndError(undefined), err);
  }

  // ---- sending ------------------------------------------------------------------------------

  /**
   * @internal Writes as many queued deliveries of `link` as credit, the peer's incoming window and
   * transport back-pressure allow.
   */
  transmit(link: SenderLink): void {
    const conn = this.connection;
    if (this.state !== "mapped" || !link.isAttached || !conn.canSendTransfers) {
      if (link.queued > 0) this.#waiting.add(link);
      return;
    }
    const out = conn.output;
    const w = out.writer;
    const maxFrame = conn.remoteMaxFrameSize;
    const head = TRANSFER_HEAD;
    let d: OutgoingDelivery | undefined;
    while ((d = link.peek()) !== undefined) {
      if (this.remoteIncomingWindow <= 0 || out.blocked) {
        this.#waiting.add(link);
        out.frameWritten();
        return;
      }
      const first = d.offset === 0;
      if (first) {
        d.deliveryId = this.nextDeliveryId;
        this.nextDeliveryId = serialAdd(this.nextDeliveryId, 1);
        d.tag ??= tagFor(d.deliveryId);
        if (!d.settled) this.#outgoing.set(d.deliveryId, d);
      }
      head.handle = link.handle;
      head.deliveryId = first ? d.deliveryId : undefined;
      head.deliveryTag = first ? d.tag : undefined;
      head.messageFormat = first ? d.messageFormat : undefined;
      head.settled = d.settled;
      const at = beginFrame(w, 0, this.channel);
      head.more = false;
      writeTransferPerformative(w, head);
      const room = maxFrame - (w.pos - at);
      const left = d.payload.length - d.offset;
      if (left > room) {
        // Rewrite the performative with more=true (its size is unchanged but for one boolean).
        w.pos = at + 8;
        head.more = true;
        writeTransferPerformative(w, head);
      }
      const n = Math.min(left, maxFrame - (w.pos - at));
      const chunk = d.payload.subarray(d.offset, d.offset + n);
      if (n >= 16384) {
        w.patchU32(at, w.pos - at + n);
        out.appendView(chunk);
      } else {
        w.bytes(chunk);
        endFrame(w, at);
      }
      conn.traceOut(0x14, this.channel, head, n);
      d.offset += n;
      this.nextOutgoingId = serialAdd(this.nextOutgoingId, 1);
      this.remoteIncomingWindow--;
      out.frameWritten();
      if (d.offset >= d.payload.length) {
        link.transmitted(d);
      }
    }
    this.#waiting.delete(link);
  }

  /** @internal Resumes senders after the transport drained. */
  resume(): void {
    for (const l of this.#waiting) this.transmit(l);
  }

  /** @internal Fails the unsettled deliveries of a sender link. */
  failUnsettled(link: SenderLink, error: AMQPError): void {
    for (const [id, d] of this.#outgoing) {
      if (d.link !== link) continue;
      this.#outgoing.delete(id);
      if (!d.done) {
        d.done = true;
        d.cleanup?.();
        d.reject(error);
      }
    }
  }

  // ---- receiving side settlement -------------------------------------------------------------

  /** @internal */
  trackIncoming(d: IncomingDelivery): void {
    this.#incoming.set(d.deliveryId, d);
  }

  /** @internal */
  deliveryAborted(deliveryId: number): void {
    this.#incoming.delete(deliveryId);
  }

  /** @internal */
  settleIncoming(d: IncomingDelivery, state: DeliveryState | undefined, settled: boolean): void {
    if (settled) this.#incoming.delete(d.deliveryId);
    this.#queueDisposition(true, d.deliveryId, settled, state);
  }

  #queueDisposition(role: boolean, id: number, settled: boolean, state: DeliveryState | undefined): void {
    const list = this.#dispositions;
    const last = list[list.length - 1];
    if (
      last !== undefined &&
      last.role === role &&
      last.settled === settled &&
      serialAdd(last.last, 1) === id &&
      sameSimpleState(last.state, state)
    ) {
      last.last = id;
    } else {
      list.push({ role, first: id, last: id, settled, state });
      if (list.length === 1) this.connection.needsDispositionFlush(this);
    }
  }

  /** @internal Writes the queued dispositions (called once per tick before the flush). */
  flushDispositions(): void {
    const list = this.#dispositions;
    if (list.length === 0) return;
    this.#dispositions = [];
    for (const p of list) {
      const f: DispositionFields = { role: p.role, first: p.first };
      if (p.last !== p.first) f.last = p.last;
      if (p.settled) f.settled = true;
      if (p.state !== undefined) f.state = p.state;
      this.connection.writeFrame(this.channel, Disposition, f);
    }
  }

  // ---- ending ----------------------------------------------------------------------------------

  /** Ends the session: detaches nothing explicitly, fails pending work, waits for the peer's END. */
  end(error?: ErrorFields): Promise<void> {
    if (this.state === "ended") return Promise.resolve();
    if (!this.#ended) {
      this.#ended = deferred();
      ignoreRejection(this.#ended.promise);
    }
    if (!this.#endSent) {
      this.#endSent = true;
      this.state = "ending";
      this.flushDispositions();
      this.connection.writeFrame(this.channel, End, error ? { error: toErrorComposite(error) } : {});
      const e = localCloseError("session");
      for (const l of this.#links) l?.terminate(e);
    }
    return this.#ended.promise;
  }

  /** @internal Ends the session because the peer broke a session rule. */
  endWithError(condition: string, description: string): void {
    void this.end({ condition, description });
  }

  /** @internal A connection-level protocol violation found while handling a session frame. */
  violation(condition: string, description: string): void {
    this.connection.closeWithError(condition, description);
  }

  /** @internal The connection is gone, or the peer ended the session. */
  terminate(error: AMQPError): void {
    this.#finish(error, error);
  }

  #finish(linkError: AMQPError, sessionError: AMQPError | undefined): void {
    if (this.state === "ended") return;
    this.state = "ended";
    this.error = sessionError;
    this.#begun.reject(linkError);
    for (const l of this.#links) l?.terminate(linkError);
    this.#links.length = 0;
    this.#byRemoteHandle.clear();
    this.#byName.clear();
    this.#waiting.clear();
    this.#incoming.clear();
    this.#dispositions = [];
    this.#ended?.resolve();
    this.connection.forgetSession(this);
    this.onEnd?.(sessionError);
  }
}

function sameSimpleState(a: DeliveryState | undefined, b: DeliveryState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.type === b.type && (a.type === "accepted" || a.type === "released");
}

/** A 4-byte delivery tag from the delivery id (unique among a link's unsettled deliveries). */
function tagFor(id: number): Uint8Array {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(id, 0);
  return b;
}

function toErrorComposite(e: ErrorFields): {
  condition: string;
  description?: string;
  info?: Record<string, never>;
} {
  const out: { condition: string; description?: string; info?: Record<string, never> } = {
    condition: e.condition,
  };
  if (e.description !== undefined) out.description = e.description;
  if (e.info !== undefined) out.info = e.info as Record<string, never>;
  return out;
}
