/**
 * Source filters: the Apache selector filter that uamqp's `Source.set_filter` writes, and the
 * selector expressions Azure Event Hubs understands.
 */
import { AMQPDescribed, AMQPSymbol, AMQPuLong, type AMQPValue } from "../codec/values.js";
import { InvalidAddressError } from "./address-error.js";
import { asBuffer } from "../util/buffer-view.js";

/**
 * Name and symbolic descriptor of the Apache selector filter (`apache.org:selector-filter:string`),
 * the default filter name and descriptor of `Source.setFilter` (uamqp's `constants.STRING_FILTER`).
 */
export const STRING_FILTER = "apache.org:selector-filter:string";

/**
 * Numeric descriptor of the selector filter, `0x0000468C:0x00000004` (468C = the Apache Software
 * Foundation's enterprise number). The Go and JS Event Hubs SDKs send this code;
 * uamqp sends the symbol {@link STRING_FILTER}. Pass it as `descriptor` to send the numeric form.
 */
export const SELECTOR_FILTER_CODE = 0x0000468c00000004n;

/** A filter descriptor: a symbol name, a numeric code, or an explicit `AMQPSymbol` / `AMQPuLong`. */
export type FilterDescriptor = string | number | bigint | AMQPSymbol | AMQPuLong;

/** Options of `Source.setFilter`. */
export interface SetFilterOptions {
  /** Key of the filter in the filter-set (sent as a symbol). @defaultValue {@link STRING_FILTER} */
  readonly name?: string | undefined;
  /**
   * Descriptor wrapping the value; `null` sends the plain value.
   * @defaultValue {@link STRING_FILTER} (as a symbol)
   */
  readonly descriptor?: FilterDescriptor | null | undefined;
}

/** A filter value: text (sent as an AMQP string), UTF-8 bytes (also sent as a string), any AMQP value. */
export type FilterValue = string | Uint8Array | AMQPValue;

function descriptorValue(d: FilterDescriptor): AMQPSymbol | AMQPuLong {
  if (typeof d === "string") return new AMQPSymbol(d);
  if (typeof d === "number" || typeof d === "bigint") {
    try {
      return new AMQPuLong(d);
    } catch {
      throw new InvalidAddressError(`Invalid filter descriptor ${String(d)}: not a ulong`, "invalid-filter");
    }
  }
  return d;
}

/**
 * The filter-set entry value for `value`: `null` stays AMQP null; otherwise the value (a
 * `Uint8Array` is decoded as UTF-8 and sent as an AMQP string, as uamqp does; wrap it in
 * `AMQPBinary` to send binary), described by `descriptor` unless that is `null`.
 */
export function filterEntry(value: FilterValue | null, descriptor: FilterDescriptor | null): AMQPValue {
  if (value === null) return null;
  const plain: AMQPValue = value instanceof Uint8Array ? asBuffer(value).toString("utf8") : value;
  return descriptor === null ? plain : new AMQPDescribed(descriptorValue(descriptor), plain);
}

/** The value inside a filter-set entry: the described value's value, or the entry itself. */
export function filterInner(entry: AMQPValue): AMQPValue {
  return entry instanceof AMQPDescribed ? entry.value : entry;
}

/** Options of the {@link EventHubFilters} builders. */
export interface EventHubFilterOptions {
  /** Use `>=` (include the event at that position) instead of `>`. @defaultValue false */
  readonly inclusive?: boolean | undefined;
}

/** Options of {@link EventHubFilters.enqueuedTimeAfter}. */
export interface EnqueuedTimeFilterOptions extends EventHubFilterOptions {
  /**
   * Use the annotation name of uamqp's samples, `x-opt-enqueuedtimeutc`, instead of
   * `x-opt-enqueued-time` (the name the Azure SDKs send).
   * @defaultValue false
   */
  readonly legacyAnnotation?: boolean | undefined;
}

function op(options: EventHubFilterOptions | undefined): string {
  return options?.inclusive === true ? ">=" : ">";
}

function integerText(what: string, v: number | bigint): string {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  throw new InvalidAddressError(`Invalid ${what} ${String(v)}: expected an integer`, "invalid-filter");
}

/**
 * Builders of Event Hubs selector expressions, for `Source.setFilter(expr)`. Event Hubs reads the
 * expression of the `apache.org:selector-filter:string` filter to choose where a partition
 * receiver starts.
 *
 * @example
 * ```ts
 * source.setFilter(EventHubFilters.offsetAfter("@latest"));
 * // "amqp.annotation.x-opt-offset > '@latest'"
 * source.setFilter(EventHubFilters.sequenceNumberAfter(1500, { inclusive: true }));
 * // "amqp.annotation.x-opt-sequence-number >= 1500"
 * source.setFilter(EventHubFilters.enqueuedTimeAfter(new Date(1518731960545)));
 * // "amqp.annotation.x-opt-enqueued-time > 1518731960545"
 * ```
 */
export const EventHubFilters = {
  /** The offset meaning "the start of the partition". */
  START_OF_STREAM: "-1",
  /** The offset meaning "only events enqueued after the receiver opens". */
  LATEST: "@latest",

  /**
   * Events after `offset` (quoted, as Event Hubs offsets are strings): `"-1"` for the start of the
   * stream, `"@latest"` for new events only.
   * @throws {InvalidAddressError} (`invalid-filter`) an empty offset or one containing a quote.
   */
  offsetAfter(offset: string | number | bigint, options?: EventHubFilterOptions): string {
    const text = typeof offset === "string" ? offset : integerText("offset", offset);
    if (text === "" || text.includes("'")) {
      throw new InvalidAddressError(`Invalid offset ${JSON.stringify(text)}`, "invalid-filter");
    }
    return `amqp.annotation.x-opt-offset ${op(options)} '${text}'`;
  },

  /**
   * Events after sequence number `n` (a 64-bit integer).
   * @throws {InvalidAddressError} (`invalid-filter`) `n` is not an integer.
   */
  sequenceNumberAfter(n: number | bigint, options?: EventHubFilterOptions): string {
    return `amqp.annotation.x-opt-sequence-number ${op(options)} ${integerText("sequence number", n)}`;
  },

  /**
   * Events enqueued after `time` (a `Date` or epoch milliseconds).
   * @throws {InvalidAddressError} (`invalid-filter`) an invalid date or non-integer milliseconds.
   */
  enqueuedTimeAfter(time: Date | number, options?: EnqueuedTimeFilterOptions): string {
    const ms = time instanceof Date ? time.getTime() : time;
    const name = options?.legacyAnnotation === true ? "x-opt-enqueuedtimeutc" : "x-opt-enqueued-time";
    return `amqp.annotation.${name} ${op(options)} ${integerText("enqueued time", ms)}`;
  },
} as const;
