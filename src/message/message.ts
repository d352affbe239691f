/**
 * The AMQP message (uamqp's `Message`): sections, body, send state, and settlement hooks.
 */
import { inspect, type InspectOptionsStylized } from "node:util";
import type { AMQPValue } from "../codec/values.js";
import type { AMQPError } from "../errors/amqp-error.js";
import { DecodeError } from "../errors/decode-error.js";
import { ClientTimeout, MessageAlreadySettled, MessageSendFailed } from "../errors/exceptions.js";
import { ByteWriter } from "../util/byte-writer.js";
import { inspectEnum, inspectFields } from "../util/enum-names.js";
import type { AnnotationsMap, ApplicationProperties } from "./annotations.js";
import { createBody, MessageBodyType, onlyDataSection, type MessageBody } from "./body.js";
import { readSectionsInto } from "./decode.js";
import {
  sectionPieces,
  sectionsSize,
  writeSections,
  writeSized,
  type EncodableBody,
  type MessageSections,
} from "./encode.js";
import type { MessageHeader } from "./header.js";
import { MessageState, RECEIVE_STATES } from "./message-state.js";
import type { MessageProperties } from "./properties.js";
import { MessageSendResult } from "./send-result.js";
import type { MessageSettler, ModifyOptions, RejectOptions, SettlementState } from "./settlement.js";
import { asBuffer } from "../util/buffer-view.js";

/** Everything a new message may be given. All fields are optional. */
export interface MessageInit {
  /**
   * The body data. Without `bodyType`: a string or bytes → one Data section; an array of strings/bytes
   * (including `[]`) → one Data section per item; anything else → an AmqpValue (`undefined` → `null`).
   */
  body?: AMQPValue | undefined;
  /** Forces the body kind (`TypeError` when `body` does not fit it). */
  bodyType?: MessageBodyType | undefined;
  /** The properties section. */
  properties?: MessageProperties | undefined;
  /** The application-properties section (string keys). */
  applicationProperties?: ApplicationProperties | undefined;
  /** The message-annotations section (symbol keys). */
  messageAnnotations?: AnnotationsMap | undefined;
  /** The delivery-annotations section (symbol keys). */
  deliveryAnnotations?: AnnotationsMap | undefined;
  /** The header section. */
  header?: MessageHeader | undefined;
  /** The footer section (symbol keys). */
  footer?: AnnotationsMap | undefined;
  /** The transfer's `message-format`; default 0. */
  messageFormat?: number | undefined;
  /** How string body data is turned into bytes; default `"utf8"`. */
  encoding?: BufferEncoding | undefined;
}

/** Delivery context of a received message, given by the receiving layer to {@link Message.decode}. */
export interface MessageDecodeOptions {
  /** Settles the delivery; without one the message is already settled (`ReceivedSettled`). */
  settler?: MessageSettler | undefined;
  /** The delivery id on the receiving link (uamqp's `delivery_no`). */
  deliveryNo?: number | undefined;
  /** The delivery tag. */
  deliveryTag?: Uint8Array | undefined;
  /**
   * @internal Instead of `deliveryTag`: where the tag is taken from when it is first read (the
   * received delivery), so that a receiver whose application never reads tags makes none.
   */
  deliveryTagOf?: { readonly tag: Uint8Array } | undefined;
  /** The transfer's `message-format`. */
  messageFormat?: number | undefined;
}

/** Callback run once a send has finished (uamqp's `on_send_complete`). */
export type SendCompleteCallback = (result: MessageSendResult, error?: AMQPError) => void;

/** The outcomes without fields, shared by every settlement (nothing changes them). */
const ACCEPTED: SettlementState = Object.freeze({ type: "accepted" });
const RELEASED: SettlementState = Object.freeze({ type: "released" });

/** The body of a message made without arguments (`new Message()`): an AmqpValue of null. */
const NO_BODY: MessageBody = Object.freeze({ type: "value", value: null });

/** The answers of a settlement known at once, shared (a settled promise is the same for every reader). */
const SETTLED = Promise.resolve(true);
const NOT_SETTLED = Promise.resolve(false);

/** The rejection handler of a settlement nobody waits for: one function for all. */
function ignore(): void {
  // Nothing to do: the message is back in the state the failed settlement left it in.
}

const SHARED_MAX = 4 * 1024 * 1024;
let shared = new ByteWriter(4096);

/**
 * The message whose measure (`Message.measureToWrite`) `shared` holds, for its `writeTo`: its bytes
 * end at `end`, its Data sections (counted, not written) go at `bodyAt`. Only the sending layer
 * measures so, and it drops the measure (`dropMeasure`) before the application's code can run and
 * change the message; every other use of `shared` drops it too.
 */
const measure = { message: undefined as Message | undefined, bodyAt: 0, end: 0 };

/** @internal The end of a measure's use: see `Message.measureToWrite`. */
export function dropMeasure(): void {
  measure.message = undefined;
  trimShared();
}

/**
 * A measure never outlives the synchronous step that made it, even if its caller failed to drop it:
 * the first measure of a turn of the event loop queues one drop for the end of that turn.
 */
let measureDropQueued = false;
function dropAtTurnEnd(): void {
  measureDropQueued = false;
  dropMeasure();
}

/** Encodes with the module's reusable writer; returns the size, leaving the bytes in `shared`. */
function encodeShared(m: Message, body: EncodableBody): number {
  measure.message = undefined;
  shared.reset();
  try {
    writeSections(shared, m, undefined, body);
  } catch (e) {
    shared.reset();
    throw e;
  }
  return shared.pos;
}

/** Drops a writer that grew very large so one huge message does not pin its memory. */
function trimShared(): void {
  if (shared.buf.length > SHARED_MAX) shared = new ByteWriter(4096);
}

/**
 * An AMQP 1.0 message.
 *
 * Sections are plain mutable fields. Bytes given as body data are kept by reference (sent unsettled,
 * Data sections of 16 KiB or more are written to the connection as they are: leave them unchanged
 * while the send is pending); a decoded message's Data sections, binary values and `userId` are views
 * into the decoded bytes (copy them, or the input, if that buffer is reused).
 *
 * @example
 * ```ts
 * const msg = new Message({
 *   body: "hello world",
 *   header: { durable: true },
 *   properties: { messageId: "m-1", subject: "greeting" },
 *   applicationProperties: { tenant: "a" },
 *   messageAnnotations: { "x-opt-partition-key": "p1" },
 * });
 * const bytes = msg.encode();
 * const copy = Message.decode(bytes);
 * copy.data; // [Buffer "hello world"]
 * ```
 */
export class Message implements MessageSections {
  /** Where the message is in its life cycle; a new message is `WaitingToBeSent`. */
  state: MessageState = MessageState.WaitingToBeSent;
  /** How many times the send was retried. */
  retries = 0;
  /** Time (ms) at which the message was queued for sending; the send timeout counts from here. */
  idleTime = 0;
  /** The delivery id of a received message (uamqp's `delivery_no`). */
  deliveryNo: number | undefined;
  /** The failure recorded when the send ended in `SendFailed` (re-thrown by {@link Message.gather}). */
  sendError: AMQPError | undefined;
  /** Called once when the send has finished (not for intermediate retries). */
  onSendComplete: SendCompleteCallback | undefined;
  /** The header section. */
  header: MessageHeader | undefined;
  /** The delivery-annotations section. */
  deliveryAnnotations: AnnotationsMap | undefined;
  /** The message-annotations section. */
  messageAnnotations: AnnotationsMap | undefined;
  /** The properties section. */
  properties: MessageProperties | undefined;
  /** The application-properties section. */
  applicationProperties: ApplicationProperties | undefined;
  /** The footer section. */
  footer: AnnotationsMap | undefined;
  /** The transfer's `message-format` (0 for standard messages, {@link BATCH_MESSAGE_FORMAT} for batches). */
  messageFormat: number;
  /** Settles a received delivery; set by {@link Message.decode}. */
  protected settler: MessageSettler | undefined;
  /**
   * The body; undefined while the message holds its body as `#data` (below).
   */
  #body: MessageBody | undefined;
  /**
   * The bytes of the only Data section of a body given as one string or byte array, kept as they
   * are until `body` (or `data`, `getData()`) is asked for: then the `MessageBody` is made, once,
   * and replaces it. A message that is only built and sent never needs the body's two objects (a
   * third of a small message's memory, and what a send queue holds of each message it keeps).
   */
  #data: Uint8Array | undefined = undefined;
  #deliveryTag: Uint8Array | undefined = undefined;
  /** Where the delivery tag is read from on first use (see `MessageDecodeOptions.deliveryTagOf`). */
  #deliveryTagOf: { readonly tag: Uint8Array } | undefined = undefined;
  /**
   * What the sending layer that holds this message pending knows of it (opaque here): given to
   * {@link Message.queuedForSend}, dropped when the send completes. It finds a message's record
   * without a lookup table of its own.
   */
  #sendRecord: object | undefined = undefined;

  /**
   * @throws {TypeError} when `body` does not fit `bodyType`.
   * @throws {RangeError} when `messageFormat` is not a uint.
   */
  constructor(init?: MessageInit) {
    if (init === undefined) {
      // What decode builds before it sets the sections: nothing to check, no body of its own yet.
      this.#body = NO_BODY;
      this.messageFormat = 0;
      return;
    }
    this.#data = onlyDataSection(init.body, init.bodyType, init.encoding);
    this.#body = this.#data === undefined ? createBody(init.body, init.bodyType, init.encoding) : undefined;
    this.header = init.header;
    this.deliveryAnnotations = init.deliveryAnnotations;
    this.messageAnnotations = init.messageAnnotations;
    this.properties = init.properties;
    this.applicationProperties = init.applicationProperties;
    this.footer = init.footer;
    const format = init.messageFormat ?? 0;
    if (!Number.isInteger(format) || format < 0 || format > 0xffffffff) {
      throw new RangeError(`messageFormat must be a uint, got ${String(format)}`);
    }
    this.messageFormat = format;
  }

  /** The delivery tag of a received message. */
  get deliveryTag(): Uint8Array | undefined {
    const of = this.#deliveryTagOf;
    if (of !== undefined) {
      this.#deliveryTagOf = undefined;
      this.#deliveryTag = of.tag;
    }
    return this.#deliveryTag;
  }

  set deliveryTag(tag: Uint8Array | undefined) {
    this.#deliveryTagOf = undefined;
    this.#deliveryTag = tag;
  }

  /** The body, tagged by kind. */
  get body(): MessageBody {
    return this.#body ?? this.#madeBody();
  }

  /** The `MessageBody` of a body held as `#data`, made once (see `#data`). */
  #madeBody(): MessageBody {
    const body: MessageBody = { type: "data", sections: [this.#data!] };
    this.#body = body;
    this.#data = undefined;
    return body;
  }

  /** The body as the encoder takes it, without making a `MessageBody` for it. */
  #encodable(): EncodableBody {
    return this.#body ?? this.#data!;
  }

  /** The kind of the body. */
  get bodyType(): MessageBodyType {
    return this.#body === undefined ? MessageBodyType.Data : this.#body.type;
  }

  /** The Data sections, or `undefined` if the body is not a Data body. */
  get data(): Uint8Array[] | undefined {
    const b = this.body;
    return b.type === "data" ? b.sections : undefined;
  }

  /** The AmqpValue, or `undefined` if the body is not a Value body. */
  get value(): AMQPValue | undefined {
    const b = this.#body;
    return b !== undefined && b.type === "value" ? b.value : undefined;
  }

  /** The AmqpSequence sections, or `undefined` if the body is not a Sequence body. */
  get sequence(): AMQPValue[][] | undefined {
    const b = this.#body;
    return b !== undefined && b.type === "sequence" ? b.sections : undefined;
  }

  /** uamqp's name for {@link Message.messageAnnotations}. */
  get annotations(): AnnotationsMap | undefined {
    return this.messageAnnotations;
  }
  set annotations(value: AnnotationsMap | undefined) {
    this.messageAnnotations = value;
  }

  /** The body data according to its kind: Data sections, the value, or the Sequence sections. */
  getData(): Uint8Array[] | AMQPValue | AMQPValue[][] {
    const b = this.body;
    return b.type === "value" ? b.value : b.sections;
  }

  /** `util.inspect` shows the fields as they are, the state by name (`MessageState.SendComplete`). */
  [inspect.custom](depth: number, options: InspectOptionsStylized, show: typeof inspect): string {
    // The own fields, as util.inspect would show them, with the state named, and the delivery tag
    // (an accessor) where it was a field.
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this)) {
      fields[k] = v;
      if (k === "deliveryNo") fields["deliveryTag"] = this.deliveryTag;
    }
    fields["state"] = inspectEnum("MessageState", MessageState, this.state);
    return inspectFields(this.constructor.name, fields, depth, options, show);
  }

  /** True once the send finished (`SendComplete`/`SendFailed`) or the received message is settled. */
  get settled(): boolean {
    const s = this.state;
    return (
      s === MessageState.SendComplete || s === MessageState.SendFailed || s === MessageState.ReceivedSettled
    );
  }

  /**
   * The complete AMQP encoding of the message sections (a new buffer).
   * @throws {EncodeError} when a section holds a value that cannot be encoded.
   */
  encode(): Uint8Array {
    const n = encodeShared(this, this.#encodable());
    const out = Buffer.allocUnsafe(n);
    shared.buf.copy(out, 0, 0, n);
    trimShared();
    return out;
  }

  /**
   * Appends the encoding to `writer` (for the sending layer, which writes the message straight into
   * its transfer buffer without an intermediate copy).
   */
  writeTo(writer: ByteWriter): void {
    if (measure.message === this) {
      measure.message = undefined;
      writeSized(writer, this.#encodable(), shared.buf, measure.bodyAt, measure.end);
      return;
    }
    writeSections(writer, this, undefined, this.#encodable());
  }

  /**
   * @internal The encoding as pieces, for the sending layer (see `sectionPieces`): Data sections of
   * at least `minView` bytes are the body's own arrays, not copies.
   */
  pieces(minView: number): Uint8Array[] {
    measure.message = undefined;
    try {
      return sectionPieces(shared, this, this.#encodable(), minView);
    } finally {
      shared.reset();
      trimShared();
    }
  }

  /**
   * The size in bytes of {@link Message.encode}'s result.
   * @throws {EncodeError} when a section holds a value that cannot be encoded.
   */
  get encodedSize(): number {
    measure.message = undefined;
    shared.reset();
    try {
      return sectionsSize(shared, this, this.#encodable());
    } finally {
      shared.reset();
      trimShared();
    }
  }

  /**
   * @internal {@link Message.encodedSize}, keeping what it encoded for this message's next
   * {@link Message.writeTo}, which then copies those bytes instead of encoding the sections again.
   * For the sending layer, which measures a message and writes it into a frame in one step: it calls
   * `dropMeasure()` once that step is over, and before anything that runs the application's code
   * (which could change the message in between).
   * @throws {EncodeError} as `encodedSize` does.
   */
  measureToWrite(): number {
    measure.message = undefined;
    shared.reset();
    let size: number;
    try {
      size = sectionsSize(shared, this, this.#encodable(), measure);
    } catch (e) {
      shared.reset();
      trimShared();
      throw e;
    }
    measure.message = this;
    measure.end = shared.pos;
    if (!measureDropQueued) {
      measureDropQueued = true;
      queueMicrotask(dropAtTurnEnd);
    }
    return size;
  }

  /**
   * Decodes a message (uamqp's `decode_from_bytes`). Without a `settler` the message is
   * `ReceivedSettled`, with one `ReceivedUnsettled`. Called on a subclass, it builds that subclass
   * (whose constructor must accept no arguments).
   *
   * @throws {DecodeError} on garbage, sections out of order or repeated, mixed body kinds, unknown sections.
   */
  static decode<M extends Message>(
    this: new (init?: MessageInit) => M,
    bytes: Uint8Array,
    options: MessageDecodeOptions = {},
  ): M {
    const m = new this();
    m.#body = readSectionsInto(bytes, m);
    m.#received(options);
    return m;
  }

  /**
   * @internal {@link Message.decode} of `bytes.subarray(start, end)`, without making that view (the
   * receiving layer decodes from the received frame). A decode error is the same as `decode`'s,
   * its offset counted from `start`.
   */
  static decodeRange<M extends Message>(
    this: new (init?: MessageInit) => M,
    bytes: Buffer,
    start: number,
    end: number,
    options: MessageDecodeOptions,
  ): M {
    const m = new this();
    try {
      m.#body = readSectionsInto(bytes, m, start, end);
    } catch (e) {
      // Rare: decoding the view raises the error with the offsets `decode` would report.
      if (e instanceof DecodeError)
        return Message.decode.call(this, bytes.subarray(start, end), options) as M;
      throw e;
    }
    m.#received(options);
    return m;
  }

  /** The delivery context of a decoded message. */
  #received(options: MessageDecodeOptions): void {
    this.messageFormat = options.messageFormat ?? 0;
    this.deliveryNo = options.deliveryNo;
    this.#deliveryTag = options.deliveryTag;
    this.#deliveryTagOf = options.deliveryTagOf;
    this.settler = options.settler;
    this.state = options.settler ? MessageState.ReceivedUnsettled : MessageState.ReceivedSettled;
  }

  /**
   * The messages to send for this object: `[this]`.
   *
   * @throws {MessageAlreadySettled} if the message was already sent (`SendComplete`): create a new one.
   * @throws the recorded {@link Message.sendError} if the message failed (`SendFailed`).
   * @throws {TypeError} for a received message.
   */
  gather(): Message[] {
    if (RECEIVE_STATES.has(this.state)) throw new TypeError("only new messages can be gathered (received)");
    if (this.state === MessageState.SendComplete) {
      throw new MessageAlreadySettled("the message was already sent; queue a new Message to send it again");
    }
    if (this.state === MessageState.SendFailed && this.sendError) throw this.sendError;
    return [this];
  }

  /**
   * @internal The sending layer queued the message: `WaitingToBeSent`; its send deadline counts
   * from `queuedAt` (epoch ms, kept in {@link Message.idleTime}). `record` is what that layer keeps
   * of it while it is pending ({@link Message.sendRecord}).
   */
  queuedForSend(queuedAt: number, record?: object): void {
    this.state = MessageState.WaitingToBeSent;
    this.idleTime = queuedAt;
    this.#sendRecord = record;
  }

  /** @internal The record given to {@link Message.queuedForSend}, until the send completes. */
  get sendRecord(): object | undefined {
    return this.#sendRecord;
  }

  /** @internal The sending layer transferred the message: `WaitingForSendAck` until its outcome. */
  sentAwaitingOutcome(): void {
    this.state = MessageState.WaitingForSendAck;
  }

  /**
   * @internal The send will be tried again (a retry, or a resend after the link was lost):
   * `WaitingToBeSent`; a retry that counts adds one to {@link Message.retries}.
   */
  sendAgain(countRetry: boolean): void {
    this.state = MessageState.WaitingToBeSent;
    if (countRetry) this.retries++;
  }

  /**
   * Records the final result of a send (for the sending layer) and calls {@link Message.onSendComplete}.
   * `Ok` → `SendComplete`; any other result → `SendFailed` with `error` (or a default one) kept in
   * {@link Message.sendError}. Unlike uamqp, `Cancelled` is a failure.
   */
  completeSend(result: MessageSendResult, error?: AMQPError): void {
    this.#sendRecord = undefined;
    if (result === MessageSendResult.Ok) {
      this.state = MessageState.SendComplete;
      this.sendError = undefined;
    } else {
      this.state = MessageState.SendFailed;
      this.sendError =
        error ??
        (result === MessageSendResult.Timeout
          ? new ClientTimeout("Message send timed out.")
          : new MessageSendFailed(
              result === MessageSendResult.Cancelled ? "Message send was cancelled." : "Message send failed.",
            ));
    }
    this.onSendComplete?.(result, this.sendError);
  }

  // ---- settlement (received messages) ---------------------------------------------------------

  #settle(state: SettlementState): Promise<boolean> {
    const s = this.state;
    if (s !== MessageState.ReceivedUnsettled && s !== MessageState.ReceivedSettled) {
      throw new TypeError("not a received message");
    }
    if (s === MessageState.ReceivedSettled) return NOT_SETTLED;
    const settler = this.settler;
    if (!settler) throw new TypeError("not a received message (no settler)");
    this.state = MessageState.ReceivedSettled;
    // A settlement whose answer is known at once (settle mode "local") costs no promise of its own.
    const now = settler.settleNow?.(state);
    if (now !== undefined) return now ? SETTLED : NOT_SETTLED;
    return this.#send(settler, state);
  }

  /**
   * @internal Accepts a received message that is still unsettled, for a receiving layer that
   * completes messages on its own (`autoComplete`) and waits for no answer: as {@link Message.accept},
   * without a promise when the answer is known at once. A failure leaves the message unsettled,
   * as it leaves it after `accept()`, and is not reported.
   */
  acceptQuietly(): void {
    const settler = this.settler;
    if (this.state !== MessageState.ReceivedUnsettled || !settler) return;
    this.state = MessageState.ReceivedSettled;
    if (settler.settleNow?.(ACCEPTED) !== undefined) return;
    this.#send(settler, ACCEPTED).catch(ignore);
  }

  async #send(settler: MessageSettler, state: SettlementState): Promise<boolean> {
    try {
      return await settler.settle(state);
    } catch (e) {
      this.state = MessageState.ReceivedUnsettled;
      throw e;
    }
  }

  /**
   * Settles a received message with `accepted`.
   * @returns `true` once the disposition is sent, `false` if the message was already settled.
   * @throws (rejects) with `settleMode: "confirm"`: `MessageSettleFailed` when the peer settled it
   *   otherwise, or the link's error when the link was lost first (resolves only once confirmed).
   * @throws {TypeError} (synchronously) for a message that was not received.
   */
  accept(): Promise<boolean> {
    return this.#settle(ACCEPTED);
  }

  /**
   * Settles a received message with `rejected` and an error (condition default `amqp:internal-error`).
   * @returns `true` once the disposition is sent, `false` if the message was already settled.
   * @throws (rejects) with `settleMode: "confirm"`: `MessageSettleFailed` when the peer settled it
   *   otherwise, or the link's error when the link was lost first (resolves only once confirmed).
   * @throws {TypeError} (synchronously) for a message that was not received, or `info` not an object.
   */
  reject(options: RejectOptions = {}): Promise<boolean> {
    const { condition = "amqp:internal-error", description, info } = options;
    const infoValue: unknown = info;
    if (
      infoValue !== undefined &&
      (typeof infoValue !== "object" || infoValue === null || Array.isArray(infoValue))
    ) {
      throw new TypeError("reject info must be an object");
    }
    return this.#settle({ type: "rejected", error: { condition, description, info } });
  }

  /**
   * Settles a received message with `released` (the delivery count is not incremented).
   * @returns `true` once the disposition is sent, `false` if the message was already settled.
   * @throws (rejects) with `settleMode: "confirm"`: `MessageSettleFailed` when the peer settled it
   *   otherwise, or the link's error when the link was lost first (resolves only once confirmed).
   * @throws {TypeError} (synchronously) for a message that was not received.
   */
  release(): Promise<boolean> {
    return this.#settle(RELEASED);
  }

  /**
   * Settles a received message with `modified`, with explicit `deliveryFailed` and `undeliverableHere`.
   * @returns `true` once the disposition is sent, `false` if the message was already settled.
   * @throws (rejects) with `settleMode: "confirm"`: `MessageSettleFailed` when the peer settled it
   *   otherwise, or the link's error when the link was lost first (resolves only once confirmed).
   * @throws (rejects) `MessageSettleFailed` with `offeredOutcomes`, nothing sent, when the peer's
   *   source does not offer `modified` (RabbitMQ 3.10); the message stays unsettled. The same holds
   *   for the other outcomes.
   * @throws {TypeError} (synchronously) for a message that was not received, or non-boolean flags.
   */
  modify(options: ModifyOptions): Promise<boolean> {
    const { deliveryFailed, undeliverableHere, messageAnnotations } = options;
    if (typeof deliveryFailed !== "boolean" || typeof undeliverableHere !== "boolean") {
      throw new TypeError("modify needs boolean deliveryFailed and undeliverableHere");
    }
    return this.#settle({ type: "modified", deliveryFailed, undeliverableHere, messageAnnotations });
  }

  /** The body as text: Data sections joined and decoded as UTF-8, other bodies inspected. */
  toString(): string {
    const b = this.#body;
    if (b === undefined) {
      const d = this.#data!;
      return asBuffer(d).toString("utf8");
    }
    if (b.type === "data") return Buffer.concat(b.sections).toString("utf8");
    if (b.type === "value" && typeof b.value === "string") return b.value;
    return inspect(b.type === "value" ? b.value : b.sections, { depth: 4 });
  }
}
