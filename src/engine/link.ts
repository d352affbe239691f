/**
 * What senders and receivers share (AMQP 1.0 §2.6): the options and ATTACH fields of a link, the
 * ATTACH/DETACH lifecycle, handles, delivery-count and link-credit, and the failure path.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import type { AttachFields, DetachFields, FlowFields } from "../frames/performatives.js";
import type { SourceFields, TargetFields } from "../codec/definitions/messaging.js";
import type { AMQPValue } from "../codec/values.js";
import { deferred, ignoreRejection, type Deferred } from "../util/deferred.js";
import { localCloseError, remoteDetachError, type ErrorFields } from "./remote-errors.js";

/** Sender settle modes (attach `snd-settle-mode`). */
export const SenderSettleMode = { Unsettled: 0, Settled: 1, Mixed: 2 } as const;
export type SenderSettleMode = (typeof SenderSettleMode)[keyof typeof SenderSettleMode];

/**
 * The ATTACH field `rcv-settle-mode` (AMQP 1.0 section 2.8.3): `First`, the receiver settles alone;
 * `Second`, the sender settles after the receiver's outcome. Named after the wire field, so that
 * `ReceiverSettleMode` stays the one name of uamqp's modes (ReceiveAndDelete/PeekLock, client).
 */
export const RcvSettleMode = { First: 0, Second: 1 } as const;
export type RcvSettleMode = (typeof RcvSettleMode)[keyof typeof RcvSettleMode];

/** The target field of an attach: a target terminus or a coordinator, tagged by `type`. */
export type AttachTarget = NonNullable<AttachFields["target"]>;

/** Options of a link attach (both roles). */
export interface LinkOptions {
  /** Link name; unique per connection direction. @defaultValue a random name */
  name?: string;
  source?: SourceFields | undefined;
  target?: TargetFields | undefined;
  /** @defaultValue Mixed (the default of AMQP 1.0 §2.7.3 when the ATTACH leaves it out) */
  sndSettleMode?: SenderSettleMode;
  /** @defaultValue First */
  rcvSettleMode?: RcvSettleMode;
  /** Largest message accepted on this link (bytes); 0 or undefined = no limit. */
  maxMessageSize?: number | bigint;
  properties?: Record<string, AMQPValue>;
  offeredCapabilities?: string[];
  desiredCapabilities?: string[];
  /** Senders: at most this many unsettled deliveries in flight. @defaultValue unbounded (credit) */
  maxInFlight?: number;
  /** Senders: at most this many bytes of unsettled deliveries in flight. @defaultValue unbounded */
  maxInFlightBytes?: number;
}

/** Options of `AmqpSession.acceptLink`: our endpoint answering a peer's ATTACH. */
export interface AcceptLinkOptions {
  /** Our source terminus (the node we bind when we send; undefined refuses a receiving peer). */
  source?: SourceFields | undefined;
  /** Our target terminus (the node we bind when we receive; undefined refuses a sending peer). */
  target?: TargetFields | undefined;
  /** Receivers: automatic credit, issued once attached. @defaultValue 0 (manual credit) */
  autoCredit?: number;
  /** @defaultValue what the peer asked for, else Mixed */
  sndSettleMode?: SenderSettleMode;
  /** @defaultValue what the peer asked for, else First */
  rcvSettleMode?: RcvSettleMode;
  maxMessageSize?: number | bigint;
  properties?: LinkOptions["properties"];
  offeredCapabilities?: string[];
}

let nameCounter = 0;

/** A link name unique in this process (`sender-…` or `receiver-…`, from the pid, a counter and the time). */
export function generatedLinkName(role: boolean): string {
  return `${role ? "receiver" : "sender"}-${process.pid}-${++nameCounter}-${Date.now().toString(36)}`;
}

/**
 * The ATTACH fields of a link (`role` true = receiver) on our handle `handle`. A sender announces
 * initial-delivery-count 0; a max-message-size of 0 means no limit and is left out.
 */
export function attachFields(
  name: string,
  handle: number,
  role: boolean,
  options: LinkOptions,
): AttachFields {
  const a: AttachFields = { name, handle, role };
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

/**
 * The link options of our answer to the peer's ATTACH `remote`: its link name, and the settle modes
 * of `options`, else the ones the peer asked for, else the defaults of AMQP 1.0 §2.7.3. The termini
 * are set by the caller (they are not taken from the peer).
 */
export function acceptedLinkOptions(remote: AttachFields, options: AcceptLinkOptions): LinkOptions {
  return {
    name: remote.name,
    sndSettleMode:
      options.sndSettleMode ??
      (remote.sndSettleMode as SenderSettleMode | undefined) ??
      SenderSettleMode.Mixed,
    rcvSettleMode:
      options.rcvSettleMode ?? (remote.rcvSettleMode as RcvSettleMode | undefined) ?? RcvSettleMode.First,
    ...(options.maxMessageSize !== undefined ? { maxMessageSize: options.maxMessageSize } : {}),
    ...(options.properties !== undefined ? { properties: options.properties } : {}),
    ...(options.offeredCapabilities !== undefined
      ? { offeredCapabilities: options.offeredCapabilities }
      : {}),
  };
}

/** How long a terminus-less ATTACH waits for the DETACH that would mean refusal. */
const REFUSAL_GRACE_MS = 100;

/** How long `detach()` waits for the peer's DETACH. */
const DETACH_TIMEOUT_MS = 5000;

/** Lifecycle of a link endpoint. */
export type LinkState = "attaching" | "attached" | "detaching" | "detached";

/**
 * What every link calls on its session (`AmqpSession` implements it, with the additions of
 * `SenderLinkSession` and `ReceiverLinkSession`). Declared on the link's side so that the links
 * never import the session: the session makes its links, a link knows its session only by this.
 */
export interface LinkSession {
  /** Our channel number of the session (for log lines). */
  readonly channel: number;
  /** @internal Writes our DETACH for `link`. */
  writeDetach(link: Link, closed: boolean, error: ErrorFields | undefined): void;
  /** @internal Removes a detached link from the session's tables. */
  forgetLink(link: Link): void;
  /** @internal Writes a FLOW with the session's fields and `link`'s. */
  writeFlow(link?: Link, drain?: boolean): void;
}

/**
 * A link endpoint. Its state changes only through its own methods: the session calls the
 * internal handlers with the peer's frames, the application calls `attached()`, `detach()` and
 * the methods of `SenderLink` / `ReceiverLink`; everything else is read-only from outside.
 */
export abstract class Link<S extends LinkSession = LinkSession> {
  /** The session the link belongs to. */
  readonly session: S;
  readonly name: string;
  /** Our handle for this link. */
  readonly handle: number;
  abstract readonly role: "sender" | "receiver";
  /** What we sent in ATTACH. */
  readonly local: AttachFields;
  /** Called when the peer detaches (after pending operations were failed). */
  onDetach: ((error: AMQPError | undefined, closed: boolean) => void) | undefined;

  #remoteHandle: number | undefined;
  #state: LinkState = "attaching";
  #remote: AttachFields | undefined;
  #error: AMQPError | undefined;
  #remoteTerminusMissing = false;
  #refusalTimer: NodeJS.Timeout | undefined;
  #attached: Deferred<AttachFields> = deferred();
  #detached: Deferred<void> | undefined;
  #detachSent = false;

  /** Links are made by their session (`attachSender`, `attachReceiver`, `acceptLink`). */
  constructor(session: S, local: AttachFields) {
    this.session = session;
    this.handle = local.handle;
    this.local = local;
    this.name = local.name;
    ignoreRejection(this.#attached.promise);
  }

  /** The peer's handle, once its ATTACH arrived. */
  get remoteHandle(): number | undefined {
    return this.#remoteHandle;
  }

  get state(): LinkState {
    return this.#state;
  }

  /** What the peer sent in ATTACH. */
  get remote(): AttachFields | undefined {
    return this.#remote;
  }

  /** The error that ended the link, if any. */
  get error(): AMQPError | undefined {
    return this.#error;
  }

  /** The peer's ATTACH had a null source (receiver) or target (sender). */
  get remoteTerminusMissing(): boolean {
    return this.#remoteTerminusMissing;
  }

  /** The link's delivery-count (AMQP 1.0 section 2.6.7), kept by the sender or receiver. */
  abstract get deliveryCount(): number;

  /** The link's credit (AMQP 1.0 section 2.6.7), kept by the sender or receiver. */
  abstract get linkCredit(): number;

  /** Resolves with the peer's ATTACH; rejects if the link is refused or fails first. */
  attached(): Promise<AttachFields> {
    return this.#attached.promise;
  }

  get isAttached(): boolean {
    return this.#state === "attached";
  }

  /**
   * @internal The peer's ATTACH arrived. `initiating` is true when it opens the link (we accept it)
   * rather than answering our own ATTACH: only an answer can be a refusal.
   */
  handleRemoteAttach(attach: AttachFields, initiating = false): void {
    this.#remote = attach;
    this.#remoteHandle = attach.handle;
    // A peer refusing a link attaches with a null terminus and detaches right after (AMQP 1.0 §2.6.3):
    // the attach promise settles when that DETACH arrives.
    // Some peers (rhea) attach with no terminus without refusing: the link counts as attached
    // when a FLOW for it arrives or no DETACH follows within REFUSAL_GRACE_MS.
    // A peer opening a link without a terminus (a sender without a source) refuses nothing: the
    // accepted link stands at once, so its credit is not held back by the grace.
    const missing = this.role === "sender" ? attach.target === undefined : attach.source === undefined;
    if (missing && !initiating) {
      this.#remoteTerminusMissing = true;
      this.#refusalTimer = setTimeout(() => {
        this.confirmAttach();
      }, REFUSAL_GRACE_MS);
      this.#refusalTimer.unref();
      return;
    }
    this.confirmAttach();
  }

  /** @internal The attach stands (also called on the first FLOW after a terminus-less attach). */
  confirmAttach(): void {
    if (this.#refusalTimer) clearTimeout(this.#refusalTimer);
    this.#refusalTimer = undefined;
    const remote = this.#remote;
    if (this.#state !== "attaching" || !remote) return;
    this.#state = "attached";
    this.onRemoteAttach(remote);
    this.#attached.resolve(remote);
  }

  /** @internal Role-specific handling of the remote ATTACH. */
  protected abstract onRemoteAttach(attach: AttachFields): void;

  /** @internal A FLOW for this link. */
  abstract handleFlow(flow: FlowFields): void;

  /**
   * Detaches the link (closes it when `closed`, the default). Resolves when the peer answered, or
   * at once if the session is gone.
   */
  detach(options: { closed?: boolean; error?: ErrorFields } = {}): Promise<void> {
    if (this.#state === "detached") return Promise.resolve();
    const closed = options.closed ?? true;
    if (!this.#detached) {
      this.#detached = deferred();
      ignoreRejection(this.#detached.promise);
    }
    if (!this.#detachSent) {
      this.#detachSent = true;
      this.#state = "detaching";
      this.fail(localCloseError("link", this.name), false);
      this.session.writeDetach(this, closed, options.error);
      // Never wait forever for a silent peer.
      const timer = setTimeout(() => {
        this.#state = "detached";
        this.session.forgetLink(this);
        this.#detached?.resolve();
      }, DETACH_TIMEOUT_MS);
      timer.unref();
      void this.#detached.promise.then(() => {
        clearTimeout(timer);
      });
    }
    return this.#detached.promise;
  }

  /**
   * @internal The peer broke a rule of this link (e.g. a message over max-message-size): detaches
   * with `error` and reports it through `onDetach`, as if the peer had detached with it.
   */
  detachWithError(error: ErrorFields): void {
    if (this.#state === "detaching" || this.#state === "detached") return;
    const err = remoteDetachError(error, true);
    this.#error ??= err;
    this.fail(err, false);
    void this.detach({ closed: true, error });
    this.onDetach?.(err, true);
  }

  /** @internal The peer's DETACH arrived. */
  handleRemoteDetach(detach: DetachFields): void {
    const err = detach.error ? remoteDetachError(detach.error, detach.closed === true) : undefined;
    const wasDetaching = this.#detachSent;
    if (!wasDetaching) {
      this.#detachSent = true;
      this.session.writeDetach(this, detach.closed === true, undefined);
    }
    this.#state = "detached";
    const failure = err ?? remoteDetachError(undefined, detach.closed === true);
    if (!wasDetaching || err) this.#error ??= err;
    this.fail(failure, true);
    this.#detached?.resolve();
    this.session.forgetLink(this);
    if (!wasDetaching) this.onDetach?.(err, detach.closed === true);
  }

  /**
   * @internal Fails pending operations (and the attach promise) with `error`; when `final`, the
   * link is dead (session or connection gone).
   */
  fail(error: AMQPError, final: boolean): void {
    if (this.#refusalTimer) clearTimeout(this.#refusalTimer);
    this.#refusalTimer = undefined;
    this.#attached.reject(error);
    this.failPending(error);
    if (final) {
      this.#state = "detached";
      this.#error ??= error;
      this.#detached?.resolve();
    }
  }

  /** @internal Session or connection ended under the link. */
  terminate(error: AMQPError): void {
    const wasAlive = this.#state !== "detached";
    this.fail(error, true);
    if (wasAlive && !this.#detachSent) this.onDetach?.(error, false);
  }

  protected abstract failPending(error: AMQPError): void;
}
