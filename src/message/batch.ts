/**
 * Batch messages in the Azure Event Hubs / Service Bus format: an envelope whose transfer
 * `message-format` is 0x80013700 and whose body holds one Data section per complete encoded message.
 */
import type { AMQPValue } from "../codec/values.js";
import { MessageContentTooLarge } from "../errors/exceptions.js";
import { ByteWriter } from "../util/byte-writer.js";
import type { AnnotationsMap, ApplicationProperties } from "./annotations.js";
import { MessageBodyType } from "./body.js";
import { BATCH_MESSAGE_FORMAT, MAX_MESSAGE_LENGTH_BYTES } from "./constants.js";
import { dataSectionSize, writeSections } from "./encode.js";
import type { MessageHeader } from "./header.js";
import { Message, type SendCompleteCallback } from "./message.js";
import type { MessageProperties } from "./properties.js";

/** An object that carries a message (duck typing for wrappers such as an Event Hubs `EventData`). */
export interface MessageCarrier {
  /** The carried message, added to the batch as is. */
  readonly message: Message;
}

/** An item of a batch: a message, a carrier of one, or body data for a new message. */
export type BatchItem = Message | MessageCarrier | Uint8Array | string | AMQPValue;

/** Options of a {@link BatchMessage}. */
export interface BatchMessageOptions {
  /** Properties of each envelope. */
  properties?: MessageProperties | undefined;
  /**
   * Application properties given to every inner message that has none (or an empty set); inner
   * messages keep their own. The envelope itself carries none.
   */
  applicationProperties?: ApplicationProperties | undefined;
  /** Message annotations of each envelope. */
  messageAnnotations?: AnnotationsMap | undefined;
  /** Header of each envelope. */
  header?: MessageHeader | undefined;
  /**
   * Split the data into as many envelopes as needed instead of throwing when it does not fit into one.
   * @defaultValue false
   */
  multiMessages?: boolean | undefined;
  /**
   * The largest encoded size of one envelope, in bytes, counting the Data framing of every section.
   * @defaultValue 1048576
   */
  maxMessageLength?: number | undefined;
  /**
   * Bytes added to each envelope's size before the check (room for what a service adds).
   * @defaultValue 0
   */
  sizeOffset?: number | undefined;
  /** How string items are turned into bytes; default `"utf8"`. */
  encoding?: BufferEncoding | undefined;
}

function isCarrier(item: BatchItem): item is MessageCarrier {
  return (
    typeof item === "object" &&
    item !== null &&
    !(item instanceof Uint8Array) &&
    "message" in item &&
    (item as { message: unknown }).message instanceof Message
  );
}

function checkSize(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return v;
}

/**
 * A batch of messages sent as one (or, with `multiMessages`, several) envelope(s) in the Azure batch
 * format (uamqp's `BatchMessage`).
 *
 * Items are read when {@link BatchMessage.gather} runs; a one-shot iterable (a generator) can be gathered
 * only once.
 *
 * @example
 * ```ts
 * const batch = new BatchMessage(
 *   Array.from({ length: 50 }, (_, i) => `event ${i}`),
 *   { applicationProperties: { source: "sensor-1" } },
 * );
 * const [envelope] = batch.gather(); // messageFormat 0x80013700, 50 Data sections
 * ```
 */
export class BatchMessage {
  /** The transfer message-format of batches (0x80013700). */
  static readonly BATCH_FORMAT = BATCH_MESSAGE_FORMAT;

  /** The message-format given to each envelope. */
  batchFormat: number = BATCH_MESSAGE_FORMAT;
  /** The largest encoded size of an envelope (Data framing included). */
  maxMessageLength: number;
  /** Bytes added to each envelope's size before the check. */
  sizeOffset: number;
  /** Split into several envelopes instead of throwing. */
  multiMessages: boolean;
  /** Properties of each envelope. */
  properties: MessageProperties | undefined;
  /** Application properties for inner messages that have none. */
  applicationProperties: ApplicationProperties | undefined;
  /** Message annotations of each envelope. */
  messageAnnotations: AnnotationsMap | undefined;
  /** Header of each envelope. */
  header: MessageHeader | undefined;
  /** Copied to each envelope by {@link BatchMessage.gather}. */
  onSendComplete: SendCompleteCallback | undefined;
  readonly #data: Iterable<BatchItem>;
  readonly #encoding: BufferEncoding;

  /**
   * @param data - the items; read lazily (when the batch is gathered or encoded)
   * @throws {RangeError} when `maxMessageLength` or `sizeOffset` is not a non-negative integer.
   */
  constructor(data: Iterable<BatchItem> = [], options: BatchMessageOptions = {}) {
    this.#data = data;
    this.properties = options.properties;
    this.applicationProperties = options.applicationProperties;
    this.messageAnnotations = options.messageAnnotations;
    this.header = options.header;
    this.multiMessages = options.multiMessages ?? false;
    this.maxMessageLength = checkSize(
      "maxMessageLength",
      options.maxMessageLength ?? MAX_MESSAGE_LENGTH_BYTES,
    );
    this.sizeOffset = checkSize("sizeOffset", options.sizeOffset ?? 0);
    this.#encoding = options.encoding ?? "utf8";
  }

  /** The items of the batch. */
  get data(): Iterable<BatchItem> {
    return this.#data;
  }

  #envelope(sections: Uint8Array[]): Message {
    const m = new Message({
      body: sections,
      bodyType: MessageBodyType.Data,
      properties: this.properties,
      messageAnnotations: this.messageAnnotations,
      header: this.header,
      messageFormat: this.batchFormat,
    });
    m.onSendComplete = this.onSendComplete;
    return m;
  }

  /**
   * Encodes the items into envelope message(s), each inner message as one Data section, in order.
   * Inner sections are views into one buffer owned by the result.
   *
   * @throws {MessageContentTooLarge} when the items do not fit into one envelope and `multiMessages` is
   *   false, or when a single item does not fit into an envelope at all.
   */
  gather(): Message[] {
    const max = this.maxMessageLength;
    const base = this.#envelope([]).encodedSize + this.sizeOffset;
    if (base > max) {
      throw new MessageContentTooLarge(`an empty batch envelope (${base} bytes) exceeds ${max} bytes`);
    }
    const w = new ByteWriter(16 * 1024);
    const bounds: number[] = []; // start, end of each encoded item
    const groups: number[] = []; // item index at which each further envelope starts
    let size = base;
    let inGroup = 0;
    for (const item of this.#data) {
      const start = w.pos;
      const msg = item instanceof Message ? item : isCarrier(item) ? item.message : undefined;
      writeSections(
        w,
        msg ?? new Message({ body: item as AMQPValue, encoding: this.#encoding }),
        this.applicationProperties,
      );
      const add = dataSectionSize(w.pos - start);
      if (size + add > max) {
        if (!this.multiMessages) {
          throw new MessageContentTooLarge(
            "Data set too large for a single message. Set multiMessages to split it across several messages.",
          );
        }
        if (inGroup === 0 || base + add > max) {
          throw new MessageContentTooLarge(
            `a batch item of ${w.pos - start} bytes does not fit into a message of at most ${max} bytes`,
          );
        }
        groups.push(bounds.length / 2);
        size = base;
        inGroup = 0;
      }
      bounds.push(start, w.pos);
      size += add;
      inGroup++;
    }
    const buf = w.buf;
    const envelopes: Message[] = [];
    let first = 0;
    groups.push(bounds.length / 2);
    for (const end of groups) {
      const sections = new Array<Uint8Array>(end - first);
      for (let i = first; i < end; i++) sections[i - first] = buf.subarray(bounds[2 * i], bounds[2 * i + 1]);
      envelopes.push(this.#envelope(sections));
      first = end;
    }
    return envelopes;
  }
}
