/**
 * A session: BEGIN/END, the incoming and outgoing windows, transfer-ids and delivery-ids with
 * serial wrap-around, routing frames to links, the unsettled deliveries of both directions, and
 * the peer's dispositions. Its parts live beside it: window fields and options in
 * `session-window.ts`, link handles and ATTACH pairing in `session-link-table.ts` (ATTACH fields in
 * `link-attach-fields.ts`), TRANSFER frames split to the peer's max-frame-size in
 * `transfer-writer.ts`, and dispositions coalesced into ranges once per tick in `disposition-ranges.ts`.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import {
  Begin,
  Detach,
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
import { deferred, ignoreRejection, type Deferred } from "../util/deferred.js";
import { serialAdd, serialDiff } from "../util/serial.js";
import type { AmqpConnection } from "./connection.js";
import type { DeliveryState, IncomingDelivery, OutgoingDelivery } from "./delivery.js";
import { queueDisposition, writeDispositions, type PendingDisposition } from "./disposition-ranges.js";
import type { AcceptLinkOptions } from "./link-attach-fields.js";
import type { Link, LinkOptions } from "./link.js";
import { ReceiverLink } from "./receiver-link.js";
import { errorComposite, localCloseError, remoteEndError, type ErrorFields } from "./remote-errors.js";
import { SenderLink } from "./sender-link.js";
import { SessionLinkTable } from "./session-link-table.js";
import {
  beginFields,
  DEFAULT_WINDOW_SIZE,
  MAX_HANDLE_MAX,
  remoteIncomingWindowAfter,
  sessionFlowFields,
  type SessionOptions,
} from "./session-window.js";
import { writeTransfers } from "./transfer-writer.js";

export type { SessionOptions } from "./session-window.js";

/** Receives links the peer attaches that we did not open (accepting side). */
export type RemoteAttachHandler = (attach: AttachFields, session: AmqpSession) => void;

/** A session endpoint on one channel of an `AmqpConnection` (both the connecting and accepting side). */
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

  readonly #links = new SessionLinkTable(this);
  /** The table's map by the peer's handle, read directly to route FLOW and TRANSFER frames. */
  readonly #byRemoteHandle: ReadonlyMap<number, Link> = this.#links.byRemoteHandle;
  /** Unsettled deliveries we sent, by delivery-id. */
  readonly #outgoing = new Map<number, OutgoingDelivery>();
  /** Unsettled deliveries we received (until settled on both sides), by delivery-id. */
  readonly #incoming = new Map<number, IncomingDelivery>();
  /** Our dispositions waiting for the end of the tick. */
  #dispositions: PendingDisposition[] = [];
  /** Senders with queued deliveries blocked by window or back-pressure. */
  readonly #waiting = new Set<SenderLink>();
  #begun: Deferred<BeginFields> = deferred();
  #ended: Deferred<void> | undefined;
  #endSent = false;

  constructor(connection: AmqpConnection, channel: number, options: SessionOptions = {}) {
    this.connection = connection;
    this.channel = channel;
    this.incomingWindowSize = options.incomingWindow ?? DEFAULT_WINDOW_SIZE;
    this.outgoingWindowSize = options.outgoingWindow ?? DEFAULT_WINDOW_SIZE;
    this.handleMax = options.handleMax ?? MAX_HANDLE_MAX;
    this.incomingWindow = this.incomingWindowSize;
    ignoreRejection(this.#begun.promise);
  }

  /** Resolves with the peer's BEGIN. */
  begun(): Promise<BeginFields> {
    return this.#begun.promise;
  }

  /** @internal Sends BEGIN (also used to answer a peer's BEGIN, with `remoteChannel`). */
  writeBegin(): void {
    this.connection.writeFrame(this.channel, Begin, beginFields(this));
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

  /** Attaches a sending link (ATTACH goes out at once; await `link.attached()`). */
  attachSender(options: LinkOptions = {}): SenderLink {
    return this.#links.attachSender(options);
  }

  /** Attaches a receiving link; `credit` > 0 sets automatic credit, issued once attached. */
  attachReceiver(options: LinkOptions & { autoCredit?: number } = {}): ReceiverLink {
    return this.#links.attachReceiver(options);
  }

  /**
   * Accepting side: answers a peer's ATTACH with our own endpoint. Pass `source`/`target` as the
   * node we bind (undefined refuses the link; then detach it with an error).
   */
  acceptLink(remote: AttachFields, options: AcceptLinkOptions): SenderLink | ReceiverLink {
    return this.#links.accept(remote, options);
  }

  /** @internal */
  forgetLink(link: Link): void {
    this.#links.forget(link);
    if (link instanceof SenderLink) this.#waiting.delete(link);
  }

  /** @internal */
  writeDetach(link: Link, closed: boolean, error: ErrorFields | undefined): void {
    // Settlements decided before the detach go out before it.
    this.flushDispositions();
    const f: DetachFields = { handle: link.handle };
    if (closed) f.closed = true;
    if (error) f.error = errorComposite(error);
    this.connection.writeFrame(this.channel, Detach, f);
  }

  /** @internal Writes a FLOW (link flow when `link` is given). */
  writeFlow(link?: Link, drain = false): void {
    if (this.connection.isClosing) return;
    const f = sessionFlowFields(this);
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
    this.#links.handleAttach(attach);
  }

  /** @internal */
  handleDetach(detach: DetachFields): void {
    this.#links.handleDetach(detach);
  }

  /** @internal */
  handleFlow(flow: FlowFields): void {
    this.remoteIncomingWindow = remoteIncomingWindowAfter(flow, this.nextOutgoingId);
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
          // Receiver settle mode second: the receiver reached an outcome, we settle first (with
          // the state our link decides, by default the receiver's).
          this.#outgoing.delete(id);
          const state = od.link.onReceiverOutcome?.(od, d.state) ?? d.state;
          if (queueDisposition(this.#dispositions, false, id, true, state)) {
            this.connection.needsDispositionFlush(this);
          }
          od.link.settledByPeer(od, state);
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
          inc.link.settledBySender(inc, d.state);
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
    writeTransfers(this, link, this.#outgoing, this.#waiting);
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
    if (queueDisposition(this.#dispositions, true, d.deliveryId, settled, state)) {
      this.connection.needsDispositionFlush(this);
    }
  }

  /** @internal Writes the queued dispositions (called once per tick before the flush). */
  flushDispositions(): void {
    const list = this.#dispositions;
    if (list.length === 0) return;
    this.#dispositions = [];
    writeDispositions(this.connection, this.channel, list);
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
      this.connection.writeFrame(this.channel, End, error ? { error: errorComposite(error) } : {});
      const e = localCloseError("session");
      this.#links.terminateAll(e);
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
    this.#links.terminateAll(linkError);
    this.#links.clear();
    this.#waiting.clear();
    this.#incoming.clear();
    this.#dispositions = [];
    this.#ended?.resolve();
    this.connection.forgetSession(this);
    this.onEnd?.(sessionError);
  }
}
