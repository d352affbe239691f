/**
 * A session (AMQP 1.0 §2.5), and the single owner of its state, on either side. The file reads in
 * the order a session works:
 * - BEGIN, and the window accounting (AMQP 1.0 §2.5.6): transfer-ids, our incoming window and the
 *   peer's, announced in BEGIN and FLOW;
 * - the link table (AMQP 1.0 §2.6.2): handles, our links by handle, by the peer's handle and by
 *   name, pairing the peer's ATTACH with ours, links the peer attaches, DETACH;
 * - FLOW, TRANSFER and DISPOSITION from the peer;
 * - sending: delivery-ids, and the TRANSFER frames of a sender's queued deliveries, split to the
 *   peer's max-frame-size and paused by credit, the peer's window or transport back-pressure;
 * - receiving: the unsettled deliveries, and our dispositions, coalesced into ranges once per tick;
 * - END.
 *
 * The session's links call its methods; nothing else changes its state.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import {
  beginFrame,
  endFrame,
  writeTransferPerformative,
  type TransferHead,
} from "../frames/frame-writer.js";
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
} from "../frames/performatives.js";
import type { InboundTransfer } from "../frames/transfer-decoder.js";
import { deferred, ignoreRejection, type Deferred } from "../util/deferred.js";
import { serialAdd, serialDiff } from "../util/serial.js";
import type { AmqpConnection } from "./connection.js";
import type { DeliveryState, IncomingDelivery, OutgoingDelivery } from "./delivery.js";
import { DeliveryTable } from "./delivery-table.js";
import type { FrameOutput } from "./frame-output.js";
import {
  acceptedLinkOptions,
  attachFields,
  generatedLinkName,
  type AcceptLinkOptions,
  type Link,
  type LinkOptions,
} from "./link.js";
import { ReceiverLink } from "./receiver-link.js";
import {
  errorComposite,
  localCloseError,
  protocolError,
  remoteEndError,
  type ErrorFields,
} from "./remote-errors.js";
import { SenderLink } from "./sender-link.js";

/** Session options. */
export interface SessionOptions {
  /** Transfer frames we accept before the window must be reopened. @defaultValue 65536 */
  incomingWindow?: number;
  /** @defaultValue 65536 */
  outgoingWindow?: number;
  /** Highest handle the peer may use. @defaultValue 4294967295 */
  handleMax?: number;
  /**
   * @internal The first delivery-id this session assigns. Any value is valid (delivery-ids are
   * serial numbers, AMQP 1.0 §2.6.12); tests start near 2^32 to cross the wrap-around.
   * @defaultValue 0
   */
  initialDeliveryId?: number;
}

/** Default incoming and outgoing window, in transfer frames. */
export const DEFAULT_WINDOW_SIZE = 65536;

/** The largest handle-max (the default of AMQP 1.0 §2.7.2 when a BEGIN leaves it out). */
export const MAX_HANDLE_MAX = 0xffffffff;

/** Receives links the peer attaches that we did not open (accepting side). */
export type RemoteAttachHandler = (attach: AttachFields, session: AmqpSession) => void;

/** Lifecycle of a session endpoint. */
export type SessionState = "beginning" | "mapped" | "ending" | "ended";

/** The TRANSFER performative template, rewritten for every frame (no allocation per frame). */
const TRANSFER_HEAD: TransferHead = {
  handle: 0,
  deliveryId: undefined,
  deliveryTag: undefined,
  messageFormat: undefined,
  settled: false,
  more: false,
};

/** A DISPOSITION waiting for the end of the tick: delivery-ids `first`..`last` (serial numbers). */
interface PendingDisposition {
  /** true = we are the receiver of these deliveries. */
  role: boolean;
  first: number;
  last: number;
  settled: boolean;
  state: DeliveryState | undefined;
}

/** A session endpoint on one channel of an `AmqpConnection` (both the connecting and accepting side). */
export class AmqpSession {
  readonly connection: AmqpConnection;
  readonly channel: number;
  readonly incomingWindowSize: number;
  readonly outgoingWindowSize: number;
  readonly handleMax: number;
  /** Links the peer attaches without a local counterpart. */
  onRemoteAttach: RemoteAttachHandler | undefined;
  /** Called when the peer answers the ATTACH of one of our links (uamqp's `on_attach`). */
  onLinkAttached: ((link: Link, attach: AttachFields) => void) | undefined;
  /** Called when the session ends (by the peer or because the connection died). */
  onEnd: ((error: AMQPError | undefined) => void) | undefined;

  #remoteChannel: number | undefined;
  #state: SessionState = "beginning";
  #error: AMQPError | undefined;
  #remote: BeginFields | undefined;
  /** Next transfer-id we send. */
  #nextOutgoingId = 0;
  /** Next transfer-id we expect. */
  #nextIncomingId = 0;
  /** Transfers we still accept before reopening the window. */
  #incomingWindow: number;
  /** Transfers the peer still accepts from us. */
  #remoteIncomingWindow = 0;
  /** Next delivery-id we assign. */
  #nextDeliveryId: number;
  /** The delivery-id the peer's next delivery must carry, once its first delivery set the sequence. */
  #nextIncomingDeliveryId: number | undefined;
  /** Our links by our handle; a free handle is undefined. */
  readonly #linksByHandle: (Link | undefined)[] = [];
  /** Links by the peer's handle (set once its ATTACH arrived): FLOW and TRANSFER are routed with it. */
  readonly #linksByRemoteHandle = new Map<number, Link>();
  /** Our links by `role:name`, to pair the peer's ATTACH with ours. */
  readonly #linksByName = new Map<string, Link>();
  /** Unsettled deliveries we sent, by delivery-id. */
  readonly #outgoing = new DeliveryTable<OutgoingDelivery>();
  /** Unsettled deliveries we received (until settled on both sides), by delivery-id. */
  readonly #incoming = new DeliveryTable<IncomingDelivery>();
  /** Our dispositions waiting for the end of the tick. */
  #dispositions: PendingDisposition[] = [];
  /** Senders with queued deliveries blocked by window or back-pressure. */
  readonly #waiting = new Set<SenderLink>();
  readonly #begun: Deferred<BeginFields> = deferred();
  #ended: Deferred<void> | undefined;
  #endSent = false;

  /**
   * Sessions are made by their connection: `AmqpConnection.createSession`, or when the
   * peer begins one on its channel `remoteChannel`.
   */
  constructor(
    connection: AmqpConnection,
    channel: number,
    options: SessionOptions = {},
    remoteChannel: number | undefined,
  ) {
    this.connection = connection;
    this.channel = channel;
    this.#remoteChannel = remoteChannel;
    this.incomingWindowSize = options.incomingWindow ?? DEFAULT_WINDOW_SIZE;
    this.outgoingWindowSize = options.outgoingWindow ?? DEFAULT_WINDOW_SIZE;
    this.handleMax = options.handleMax ?? MAX_HANDLE_MAX;
    this.#incomingWindow = this.incomingWindowSize;
    this.#nextDeliveryId = (options.initialDeliveryId ?? 0) >>> 0;
    ignoreRejection(this.#begun.promise);
  }

  /** Resolves with the peer's BEGIN. */
  begun(): Promise<BeginFields> {
    return this.#begun.promise;
  }

  /** The peer's channel for this session, once its BEGIN arrived (or when it began the session). */
  get remoteChannel(): number | undefined {
    return this.#remoteChannel;
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The error that ended the session, if any. */
  get error(): AMQPError | undefined {
    return this.#error;
  }

  /** The peer's BEGIN. */
  get remote(): BeginFields | undefined {
    return this.#remote;
  }

  // ---- BEGIN and windows (AMQP 1.0 §2.5.6) -----------------------------------------------------------

  /** @internal Sends BEGIN (also used to answer a peer's BEGIN, with its channel as `remote-channel`). */
  writeBegin(): void {
    const begin: BeginFields = {
      nextOutgoingId: this.#nextOutgoingId,
      incomingWindow: this.#incomingWindow,
      outgoingWindow: this.outgoingWindowSize,
      handleMax: this.handleMax,
    };
    if (this.#remoteChannel !== undefined) begin.remoteChannel = this.#remoteChannel;
    this.connection.writeFrame(this.channel, Begin, begin);
  }

  /** @internal The peer's BEGIN, on its channel `remoteChannel` (answering ours, or beginning this session). */
  handleBegin(remoteChannel: number, begin: BeginFields): void {
    this.#remoteChannel = remoteChannel;
    this.#remote = begin;
    this.#nextIncomingId = begin.nextOutgoingId;
    this.#remoteIncomingWindow = begin.incomingWindow;
    if (this.#state === "beginning") this.#state = "mapped";
    this.#begun.resolve(begin);
    for (const l of this.#waiting) this.transmit(l);
  }

  /** @internal Writes a FLOW: the session's fields, and a link's when `link` is given. */
  writeFlow(link?: Link, drain = false): void {
    if (this.connection.isClosing) return;
    // next-incoming-id only once the peer's BEGIN set it.
    const f: FlowFields =
      this.#remote === undefined
        ? {
            incomingWindow: this.#incomingWindow,
            nextOutgoingId: this.#nextOutgoingId,
            outgoingWindow: this.outgoingWindowSize,
          }
        : {
            nextIncomingId: this.#nextIncomingId,
            incomingWindow: this.#incomingWindow,
            nextOutgoingId: this.#nextOutgoingId,
            outgoingWindow: this.outgoingWindowSize,
          };
    if (link) {
      f.handle = link.handle;
      f.deliveryCount = link.deliveryCount;
      f.linkCredit = link.linkCredit;
      if (link instanceof SenderLink) f.available = link.queued;
      if (drain) f.drain = true;
    }
    this.connection.writeFrame(this.channel, Flow, f);
  }

  // ---- links (AMQP 1.0 §2.6) --------------------------------------------------------------------------

  /** Attaches a sending link (ATTACH goes out at once; await `link.attached()`). */
  attachSender(options: LinkOptions = {}): SenderLink {
    return this.#register(new SenderLink(this, this.#attachFields(false, options), options));
  }

  /** Attaches a receiving link; `autoCredit` > 0 sets automatic credit, issued once attached. */
  attachReceiver(options: LinkOptions & { autoCredit?: number } = {}): ReceiverLink {
    return this.#register(new ReceiverLink(this, this.#attachFields(true, options), options.autoCredit ?? 0));
  }

  /**
   * Accepting side: answers a peer's ATTACH with our own endpoint. Pass `source`/`target` as the
   * node we bind (undefined refuses the link; then detach it with an error).
   */
  acceptLink(remote: AttachFields, options: AcceptLinkOptions): SenderLink | ReceiverLink {
    const weAreReceiver = !remote.role;
    const fields = this.#attachFields(weAreReceiver, acceptedLinkOptions(remote, options));
    if (options.source !== undefined) fields.source = options.source;
    if (options.target !== undefined) fields.target = { type: "target", ...options.target };
    // A peer that sent link properties may merge ours into its own without a null check (azure-eventhub's
    // Python stack calls `dict.update` on them): answer with a map, empty when we have none.
    if (remote.properties !== undefined) fields.properties ??= {};
    const link = weAreReceiver
      ? new ReceiverLink(this, fields, options.autoCredit ?? 0)
      : new SenderLink(this, fields, {});
    this.#register(link);
    link.handleRemoteAttach(remote, true);
    this.#linksByRemoteHandle.set(remote.handle, link);
    return link;
  }

  /** The ATTACH of a new link (`role` true = receiver), on the lowest free handle. */
  #attachFields(role: boolean, options: LinkOptions): AttachFields {
    const name = options.name ?? generatedLinkName(role);
    return attachFields(name, this.#freeHandle(), role, options);
  }

  /**
   * The lowest free handle within our handle-max and the peer's.
   *
   * @throws AMQPConnectionError (`amqp:resource-limit-exceeded`) when every handle is taken
   */
  #freeHandle(): number {
    const max = Math.min(this.handleMax, this.#remote?.handleMax ?? MAX_HANDLE_MAX);
    for (let h = 0; h <= max; h++) if (this.#linksByHandle[h] === undefined) return h;
    throw protocolError(
      "amqp:resource-limit-exceeded",
      `no free link handle in this session (handle-max ${max})`,
    );
  }

  /** Files a new link under the handle of its ATTACH and sends the ATTACH. */
  #register<L extends Link>(link: L): L {
    this.#linksByHandle[link.handle] = link;
    this.#linksByName.set(`${link.role}:${link.name}`, link);
    this.connection.writeFrame(this.channel, Attach, link.local);
    return link;
  }

  /** @internal Removes a detached link from every table (its handles become free). */
  forgetLink(link: Link): void {
    if (this.#linksByHandle[link.handle] === link) this.#linksByHandle[link.handle] = undefined;
    const remote = link.remoteHandle;
    if (remote !== undefined && this.#linksByRemoteHandle.get(remote) === link) {
      this.#linksByRemoteHandle.delete(remote);
    }
    // A link attached again under the same name (the older one stolen) keeps its entry.
    const key = `${link.role}:${link.name}`;
    if (this.#linksByName.get(key) === link) this.#linksByName.delete(key);
    if (link instanceof SenderLink) this.#waiting.delete(link);
  }

  /**
   * @internal The peer's ATTACH: pairs it with our link of that name, else hands it to
   * `onRemoteAttach`, else refuses it. A handle above our handle-max or already in use is a
   * protocol error.
   */
  handleAttach(attach: AttachFields): void {
    if (attach.handle > this.handleMax) {
      this.violation(
        "amqp:connection:framing-error",
        `attach handle ${attach.handle} exceeds handle-max ${this.handleMax}`,
      );
      return;
    }
    if (this.#linksByRemoteHandle.has(attach.handle)) {
      this.endWithError("amqp:session:handle-in-use", `handle ${attach.handle} is already in use`);
      return;
    }
    // Our role is the opposite of the peer's.
    const ours = this.#linksByName.get(`${attach.role ? "sender" : "receiver"}:${attach.name}`);
    if (ours && ours.remoteHandle === undefined) {
      this.#linksByRemoteHandle.set(attach.handle, ours);
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

  /** @internal The peer's DETACH; one for a handle it never attached ends the session. */
  handleDetach(detach: DetachFields): void {
    const link = this.#linksByRemoteHandle.get(detach.handle);
    if (!link) {
      this.endWithError("amqp:session:unattached-handle", `detach for unattached handle ${detach.handle}`);
      return;
    }
    link.handleRemoteDetach(detach);
  }

  /** @internal Writes our DETACH for `link` (dispositions decided before it go out first). */
  writeDetach(link: Link, closed: boolean, error: ErrorFields | undefined): void {
    this.flushDispositions();
    const f: DetachFields = { handle: link.handle };
    if (closed) f.closed = true;
    if (error) f.error = errorComposite(error);
    this.connection.writeFrame(this.channel, Detach, f);
  }

  // ---- FLOW, TRANSFER and DISPOSITION from the peer ----------------------------------------------------

  /** @internal */
  handleFlow(flow: FlowFields): void {
    this.#remoteIncomingWindow = remoteIncomingWindowAfter(flow, this.#nextOutgoingId);
    if (flow.handle !== undefined) {
      const link = this.#linksByRemoteHandle.get(flow.handle);
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

  /** @internal A transfer for one of our receivers; returns true when a view of `frame` was kept. */
  handleTransfer(t: InboundTransfer, frame: Buffer, start: number, end: number): boolean {
    const link = this.#linksByRemoteHandle.get(t.handle);
    this.#nextIncomingId = serialAdd(this.#nextIncomingId, 1);
    this.#incomingWindow--;
    if (!link || !(link instanceof ReceiverLink)) {
      this.endWithError("amqp:session:unattached-handle", `transfer for unattached handle ${t.handle}`);
      return false;
    }
    if (this.#incomingWindow < 0) {
      this.endWithError("amqp:session:window-violation", "transfer beyond the incoming window");
      return false;
    }
    const kept = link.handleTransfer(t, frame, start, end);
    if (this.#incomingWindow * 2 < this.incomingWindowSize) {
      this.#incomingWindow = this.incomingWindowSize;
      this.writeFlow();
    }
    return kept;
  }

  /**
   * @internal A DISPOSITION from the peer: delivery-ids `first`..`last` in serial order (AMQP 1.0
   * section 2.7.6), so a range may wrap around 2^32 and be up to 2^31 ids long. The work is bounded
   * by the deliveries that exist: a range longer than the unsettled map is matched against the
   * map's keys instead of walked id by id, so a peer cannot make one frame cost a billion steps.
   */
  handleDisposition(d: DispositionFields): void {
    const last = d.last ?? d.first;
    const span = serialDiff(d.first, last);
    if (span < 0) {
      this.violation("amqp:invalid-field", `disposition range ${d.first}..${last} is invalid`);
      return;
    }
    const unsettled = d.role ? this.#outgoing : this.#incoming;
    if (span < unsettled.size) {
      for (let i = 0, id = d.first; i <= span; i++, id = serialAdd(id, 1)) this.#applyDisposition(id, d);
    } else {
      for (const id of idsInRange(unsettled.entries(), d.first, span)) this.#applyDisposition(id, d);
    }
  }

  /** Applies the peer's DISPOSITION `d` to delivery `id`, if it is still unsettled here. */
  #applyDisposition(id: number, d: DispositionFields): void {
    if (d.role) {
      // From a receiver: about a delivery we sent.
      const od = this.#outgoing.get(id);
      if (!od) return;
      if (d.settled === true) {
        this.#outgoing.delete(id);
        od.link.settledByPeer(od, d.state);
      } else if (d.state !== undefined && d.state.type !== "received") {
        // Receiver settle mode second: the receiver reached an outcome, we settle first (with
        // the state our link decides, by default the receiver's).
        this.#outgoing.delete(id);
        const state = od.link.onReceiverOutcome?.(od, d.state) ?? d.state;
        this.#queueDisposition(false, id, true, state);
        od.link.settledByPeer(od, state);
      }
    } else {
      // From a sender: it settled (or updated) a delivery we received.
      const inc = this.#incoming.get(id);
      if (!inc) return;
      if (d.state !== undefined) inc.remoteState = d.state;
      if (d.settled === true) {
        this.#incoming.delete(id);
        inc.link.settledBySender(inc, d.state);
      }
    }
  }

  // ---- sending ----------------------------------------------------------------------------------------

  /**
   * @internal Writes as many queued deliveries of `link` as credit, the peer's incoming window and
   * transport back-pressure allow: delivery-ids and default delivery tags assigned, deliveries split
   * to the peer's max-frame-size (large chunks appended without a copy). Unsettled deliveries are
   * filed by delivery-id; the link waits in `#waiting` while it has deliveries it could not write.
   */
  transmit(link: SenderLink): void {
    const conn = this.connection;
    if (this.#state !== "mapped" || !link.isAttached || !conn.canSendTransfers) {
      if (link.queued > 0) this.#waiting.add(link);
      return;
    }
    const out = conn.output;
    const w = out.writer;
    const maxFrame = conn.remoteMaxFrameSize;
    const full = conn.fullPerformatives;
    const head = TRANSFER_HEAD;
    let d: OutgoingDelivery | undefined;
    while ((d = link.peek()) !== undefined) {
      // A delivery of pieces goes on to its end under back-pressure (its large pieces are views:
      // the transport holds references, not copies); only the peer's window pauses it halfway.
      const pieces = d.offset > 0 && Array.isArray(d.payload) ? d.payload : undefined;
      if (this.#remoteIncomingWindow <= 0 || (out.blocked && pieces === undefined)) {
        // A delivery of pieces paused halfway keeps a copy of the bytes it has yet to write: they
        // are written in a later turn, and the caller may reuse the pieces' memory once it gave up
        // on the send.
        if (pieces !== undefined) {
          d.payload = restOf(pieces, d.offset, d.size);
          d.base = d.offset;
        }
        this.#waiting.add(link);
        out.frameWritten();
        return;
      }
      const first = d.offset === 0;
      // The delivery-id is taken once the first frame is complete (an encoding may fail).
      const id = first ? this.#nextDeliveryId : d.deliveryId;
      head.handle = link.handle;
      head.deliveryId = first ? id : undefined;
      head.deliveryTag = first ? (d.tag ?? tagOf(id)) : undefined;
      head.messageFormat = first ? d.messageFormat : undefined;
      head.settled = d.settled;
      const at = beginFrame(w, 0, this.channel);
      head.more = false;
      writeTransferPerformative(w, head, full);
      let n: number;
      const payload = d.payload;
      if (payload instanceof Uint8Array || Array.isArray(payload)) {
        const room = maxFrame - (w.pos - at);
        const left = d.size - d.offset;
        if (left > room) {
          // Rewrite the performative with more=true (its size is unchanged but for one boolean).
          w.pos = at + 8;
          head.more = true;
          writeTransferPerformative(w, head, full);
        }
        n = Math.min(left, maxFrame - (w.pos - at));
        // The frame's size first: a large chunk goes to the output as a view, after the frame head.
        w.patchU32(at, w.pos - at + n);
        if (payload instanceof Uint8Array) {
          const from = d.offset - d.base;
          // The whole payload in one frame (the common case) needs no view of its own.
          writeChunk(out, from === 0 && n === payload.length ? payload : payload.subarray(from, from + n));
        } else writePieces(out, payload, d.offset, n);
      } else if (!d.settled && d.size >= VIEW_BYTES && payload.pieces !== undefined) {
        // A large message as pieces: its big byte arrays are written as they are (next turn of the loop).
        w.pos = at;
        let pieces: Uint8Array[];
        try {
          pieces = payload.pieces(VIEW_BYTES);
        } catch (e) {
          link.unsendable(d, e);
          continue;
        }
        let size = 0;
        for (const p of pieces) size += p.length;
        d.payload = pieces;
        d.size = size;
        continue;
      } else {
        // Encoded straight into the frame, after the performative.
        const start = w.pos;
        try {
          payload.writeTo(w);
        } catch (e) {
          w.pos = at;
          link.unsendable(d, e);
          continue;
        }
        n = w.pos - start;
        d.size = n;
        if (w.pos - at > maxFrame) {
          // Larger than a frame: its bytes are kept and sent in frames (the next turn of the loop).
          d.payload = Buffer.from(w.buf.subarray(start, w.pos));
          w.pos = at;
          continue;
        }
        endFrame(w, at);
      }
      if (first) {
        d.deliveryId = id;
        this.#nextDeliveryId = serialAdd(id, 1);
        if (!d.settled) this.#outgoing.set(id, d);
      }
      conn.traceOut(0x14, this.channel, head, n);
      d.offset += n;
      this.#nextOutgoingId = serialAdd(this.#nextOutgoingId, 1);
      this.#remoteIncomingWindow--;
      out.frameWritten();
      if (d.offset >= d.size) {
        link.transmitted(d);
      }
    }
    this.#waiting.delete(link);
  }

  /** @internal Resumes senders after the transport drained. */
  resume(): void {
    for (const l of this.#waiting) this.transmit(l);
  }

  /** @internal Takes the unsettled deliveries of a sender link (they fail with the link). */
  takeUnsettled(link: SenderLink): OutgoingDelivery[] {
    const taken: OutgoingDelivery[] = [];
    for (const [id, d] of this.#outgoing.entries()) {
      if (d.link !== link) continue;
      this.#outgoing.delete(id);
      taken.push(d);
    }
    return taken;
  }

  // ---- receiving side settlement -----------------------------------------------------------------------

  /** @internal */
  trackIncoming(d: IncomingDelivery): void {
    this.#incoming.set(d.deliveryId, d);
  }

  /**
   * @internal The peer started a delivery on one of our receivers. Its delivery-ids come from one
   * sequence for the whole session (AMQP 1.0 §2.6.12, §2.7.5): the first may be any number, each
   * next one follows it. Out of sequence the DISPOSITIONs of both sides would name the wrong
   * deliveries, so the session ends with `amqp:invalid-field` and the transfer is dropped (false).
   */
  deliveryStarted(deliveryId: number): boolean {
    if (this.#endSent) return false;
    const expected = this.#nextIncomingDeliveryId;
    if (expected !== undefined && deliveryId !== expected) {
      this.endWithError(
        "amqp:invalid-field",
        `delivery-id ${deliveryId} is out of sequence (${expected} was expected)`,
      );
      return false;
    }
    this.#nextIncomingDeliveryId = serialAdd(deliveryId, 1);
    return true;
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

  /**
   * Queues the disposition of delivery `id` for the end of the tick, extending the last range when
   * `id` follows it with the same role, settled flag and simple outcome (AMQP 1.0 §2.7.6).
   */
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
      return;
    }
    list.push({ role, first: id, last: id, settled, state });
    if (list.length === 1) this.connection.needsDispositionFlush(this);
  }

  /** @internal Writes the queued dispositions, one DISPOSITION per range (once per tick, before the flush). */
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

  // ---- END ---------------------------------------------------------------------------------------------

  /** Ends the session: detaches nothing explicitly, fails pending work, waits for the peer's END. */
  end(error?: ErrorFields): Promise<void> {
    if (this.#state === "ended") return Promise.resolve();
    if (!this.#ended) {
      this.#ended = deferred();
      ignoreRejection(this.#ended.promise);
    }
    if (!this.#endSent) {
      this.#endSent = true;
      this.#state = "ending";
      this.flushDispositions();
      this.connection.writeFrame(this.channel, End, error ? { error: errorComposite(error) } : {});
      const e = localCloseError("session");
      for (const l of this.#linksByHandle) l?.terminate(e);
    }
    return this.#ended.promise;
  }

  /** @internal The peer's END: answered, and the session ends with a session-scope error. */
  handleEnd(end: EndFields): void {
    const err = end.error ? remoteEndError(end.error) : undefined;
    if (!this.#endSent) {
      this.#endSent = true;
      this.connection.writeFrame(this.channel, End, {});
    }
    this.#finish(err ?? remoteEndError(undefined), err);
  }

  /** @internal Ends the session because the peer broke a session rule. */
  endWithError(condition: string, description: string): void {
    void this.end({ condition, description });
  }

  /** @internal A connection-level protocol violation found while handling a session frame. */
  violation(condition: string, description: string): void {
    this.connection.closeWithError(condition, description);
  }

  /** @internal The connection is gone: the session ends with the connection's error. */
  terminate(error: AMQPError): void {
    this.#finish(error, error);
  }

  #finish(linkError: AMQPError, sessionError: AMQPError | undefined): void {
    if (this.#state === "ended") return;
    this.#state = "ended";
    this.#error = sessionError;
    this.#begun.reject(linkError);
    for (const l of this.#linksByHandle) l?.terminate(linkError);
    this.#linksByHandle.length = 0;
    this.#linksByRemoteHandle.clear();
    this.#linksByName.clear();
    this.#waiting.clear();
    this.#incoming.clear();
    this.#dispositions = [];
    this.#ended?.resolve();
    this.connection.forgetSession(this);
    this.onEnd?.(sessionError);
  }
}

/**
 * The peer's incoming window after its FLOW, counted from our next-outgoing-id: what it allows up to
 * next-incoming-id + incoming-window (the window itself when it has not seen our BEGIN yet).
 */
function remoteIncomingWindowAfter(flow: FlowFields, nextOutgoingId: number): number {
  return flow.nextIncomingId === undefined
    ? flow.incomingWindow
    : serialDiff(nextOutgoingId, serialAdd(flow.nextIncomingId, flow.incomingWindow));
}

/** Both absent, or the same outcome without fields (accepted or released): one range may carry both. */
function sameSimpleState(a: DeliveryState | undefined, b: DeliveryState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.type === b.type && (a.type === "accepted" || a.type === "released");
}

/**
 * The ids of `entries` within `first`..`first + span` (serial order, `0 <= span < 2^31`), sorted in
 * that order: collected before any is applied, so deliveries sent while applying them (a settlement
 * may free credit) are not mistaken for ones the range named.
 */
function idsInRange(entries: Iterable<readonly [number, unknown]>, first: number, span: number): number[] {
  const found: number[] = [];
  for (const [id] of entries) if ((id - first) >>> 0 <= span) found.push(id);
  return found.sort((a, b) => ((a - first) >>> 0) - ((b - first) >>> 0));
}

/** Payload chunks of at least this many bytes go to the output as views, smaller ones are copied. */
const VIEW_BYTES = 16384;

/** Writes payload bytes after a frame head whose size is already patched: copied, or as a view. */
function writeChunk(out: FrameOutput, chunk: Uint8Array): void {
  if (chunk.length >= VIEW_BYTES) out.appendView(chunk);
  else out.writer.bytes(chunk);
}

/** Writes `n` bytes of `pieces` (taken as one run of bytes) from `offset` on, as {@link writeChunk} does. */
function writePieces(out: FrameOutput, pieces: readonly Uint8Array[], offset: number, n: number): void {
  let skip = offset;
  for (const p of pieces) {
    if (n === 0) return;
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    const take = Math.min(p.length - skip, n);
    writeChunk(out, skip === 0 && take === p.length ? p : p.subarray(skip, skip + take));
    n -= take;
    skip = 0;
  }
}

/** A copy of the bytes of `pieces` (`size` in all) from `offset` on. */
function restOf(pieces: readonly Uint8Array[], offset: number, size: number): Buffer {
  const rest = Buffer.allocUnsafe(size - offset);
  let at = 0;
  let skip = offset;
  for (const p of pieces) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    rest.set(skip === 0 ? p : p.subarray(skip), at);
    at += p.length - skip;
    skip = 0;
  }
  return rest;
}

/** The bytes of the default delivery tag, rewritten for every delivery (copied into the frame at once). */
const DEFAULT_TAG = Buffer.alloc(4);

/** The 4-byte default delivery tag of delivery `id` (unique among a link's unsettled deliveries). */
function tagOf(id: number): Uint8Array {
  DEFAULT_TAG.writeUInt32BE(id, 0);
  return DEFAULT_TAG;
}
