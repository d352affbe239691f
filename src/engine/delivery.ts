/**
 * Deliveries as the engine tracks them: records shared by a link and its session, each typed
 * against the small interface of its link that the session calls (not the link classes). The
 * engine moves payload bytes; message encoding belongs to the layers above, which may hand the
 * engine an {@link EncodablePayload} that the session encodes straight into its frame buffer.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import type { ByteWriter } from "../util/byte-writer.js";

export type { DeliveryState };

/**
 * A payload that is encoded when its first frame is written, straight into the frame buffer after
 * the TRANSFER performative (a message: no buffer of its own, no copy). One larger than a frame is
 * encoded once into bytes of its own, then sent in frames like any payload.
 */
export interface EncodablePayload {
  /** Appends the payload's encoding to `writer`. A throw fails the delivery with that error. */
  writeTo(writer: ByteWriter): void;
  /**
   * Optional, for large payloads: the encoding as pieces in order, those of at least `minView`
   * bytes being the payload's own memory, written to the transport as they are (no copy into the
   * frame buffer). Asked instead of `writeTo` for an unsettled delivery of at least that size, whose
   * bytes the peer has received before its outcome is told; a delivery whose frames must wait
   * halfway (the peer's window, back-pressure) is copied then. A throw fails the delivery.
   */
  pieces?(minView: number): Uint8Array[];
}

/**
 * Hears how the deliveries of a sender ended, each told with the `context` it was sent with: one
 * object serves every delivery of its owner, so a delivery costs no promise and no closure. Both
 * are called at most once per delivery, never synchronously from the call that sent it.
 */
export interface DeliveryReceipt {
  /** The peer settled the delivery with `state`; undefined: it was written pre-settled. */
  settled(context: unknown, state: DeliveryState | undefined): void;
  /**
   * The delivery failed: its link, session or connection went away, its `signal` aborted
   * (`AMQPAbortError`), or its payload could not be encoded (the encoder's error).
   */
  failed(context: unknown, error: unknown): void;
}

/** The link of a delivery we send, as its session settles it (`SenderLink` implements it). */
export interface OutgoingDeliveryLink {
  /**
   * Receiver settle mode second: the receiver sent an outcome without settling; returns the state
   * we settle with (undefined: the receiver's).
   */
  readonly onReceiverOutcome:
    ((delivery: OutgoingDelivery, state: DeliveryState) => DeliveryState | undefined) | undefined;
  /**
   * @internal The peer settled the delivery (or we settled it after the receiver's outcome) with
   * `state`. Internal like its implementation, so that both leave the published types together.
   */
  settledByPeer(delivery: OutgoingDelivery, state: DeliveryState | undefined): void;
}

/** The link of a delivery we receive, as its session settles it (`ReceiverLink` implements it). */
export interface IncomingDeliveryLink {
  /**
   * @internal The sender settled the delivery (a DISPOSITION with `settled`), with `state` if it
   * sent one. Internal like its implementation.
   */
  settledBySender(delivery: IncomingDelivery, state: DeliveryState | undefined): void;
}

/** A delivery being sent. */
export interface OutgoingDelivery {
  readonly link: OutgoingDeliveryLink;
  /**
   * The payload: bytes, or an {@link EncodablePayload} until its first frame is written (then its
   * bytes, when it did not fit in one frame, or its pieces).
   */
  payload: Uint8Array | Uint8Array[] | EncodablePayload;
  /** The payload's size in bytes: the sender's measure of an encodable payload until it is written. */
  size: number;
  readonly messageFormat: number;
  readonly settled: boolean;
  /** Delivery tag given by the sender; undefined: the 4 bytes of the delivery-id. */
  readonly tag: Uint8Array | undefined;
  /** Assigned by the session when the first frame is written; -1 before. */
  deliveryId: number;
  /** Bytes of the payload already written (multi-frame deliveries paused by the session window). */
  offset: number;
  /**
   * Where `payload` starts in the delivery's bytes: 0, or, for a delivery of pieces paused halfway,
   * `offset` at the pause (its payload is then a copy of the bytes not written yet).
   */
  base: number;
  done: boolean;
  /** Told how the delivery ended, with `context`. */
  readonly receipt: DeliveryReceipt;
  readonly context: unknown;
  cleanup: (() => void) | undefined;
}

/** A delivery received on a receiver link. */
export interface IncomingDelivery {
  readonly link: IncomingDeliveryLink;
  readonly deliveryId: number;
  readonly tag: Uint8Array;
  readonly messageFormat: number;
  /**
   * The message bytes. A view into the received frame (never reused by the engine, so it may be
   * kept), or one buffer joining the frames of a multi-frame delivery.
   */
  readonly payload: Buffer;
  /**
   * Where the payload lies: `payload` is `bytes[payloadStart, payloadEnd)`. A reader that decodes
   * the message from there (the client's receivers) needs no view of its own.
   */
  readonly bytes: Buffer;
  readonly payloadStart: number;
  readonly payloadEnd: number;
  /** The sender settled it already (pre-settled, "at most once"). */
  readonly remoteSettled: boolean;
  /** Settled on our side (locally, or because the sender pre-settled or settled it). */
  settled: boolean;
  /** The state the sender reported (transfer `state`, or a later disposition). */
  remoteState: DeliveryState | undefined;
}

/**
 * The record of a received delivery, as its link makes it (one shape for every delivery). Its
 * payload view is made on first use of `payload`.
 */
export class ReceivedDelivery implements IncomingDelivery {
  readonly link: IncomingDeliveryLink;
  readonly deliveryId: number;
  readonly messageFormat: number;
  readonly bytes: Buffer;
  readonly payloadStart: number;
  readonly payloadEnd: number;
  readonly remoteSettled: boolean;
  settled: boolean;
  remoteState: DeliveryState | undefined;
  #payload: Buffer | undefined;
  /** The tag, once made; until then it lies at `bytes[#tagStart, #tagEnd)`. */
  #tag: Uint8Array | undefined;
  readonly #tagStart: number;
  readonly #tagEnd: number;

  /**
   * The delivery `deliveryId` with its payload in `bytes[start, end)`, `settled` by its sender or
   * not; its tag is `tag`, or (`tag` undefined) `bytes[tagStart, tagEnd)`, made a view when read.
   */
  constructor(
    link: IncomingDeliveryLink,
    deliveryId: number,
    tag: Uint8Array | undefined,
    tagStart: number,
    tagEnd: number,
    messageFormat: number,
    bytes: Buffer,
    start: number,
    end: number,
    settled: boolean,
    state: DeliveryState | undefined,
  ) {
    this.link = link;
    this.deliveryId = deliveryId;
    this.#tag = tag;
    this.#tagStart = tagStart;
    this.#tagEnd = tagEnd;
    this.messageFormat = messageFormat;
    this.bytes = bytes;
    this.payloadStart = start;
    this.payloadEnd = end;
    this.remoteSettled = settled;
    this.settled = settled;
    this.remoteState = state;
  }

  get payload(): Buffer {
    return (this.#payload ??= this.bytes.subarray(this.payloadStart, this.payloadEnd));
  }

  get tag(): Uint8Array {
    return (this.#tag ??= this.bytes.subarray(this.#tagStart, this.#tagEnd));
  }
}
