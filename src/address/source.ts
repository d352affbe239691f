/**
 * `Source`: the address a receiver reads from, with its filter-set (uamqp's `uamqp.address.Source`).
 */
import type { Outcome, SourceFields } from "../codec/definitions/messaging.js";
import type { AMQPValue } from "../codec/values.js";
import { Address, addressFromWire } from "./address.js";
import {
  STRING_FILTER,
  filterEntry,
  filterInner,
  type FilterDescriptor,
  type FilterValue,
  type SetFilterOptions,
} from "./filters.js";
import type { DistributionMode } from "./terminus-types.js";

/**
 * A source terminus: an {@link Address} plus the source-only fields (distribution mode, filters,
 * default outcome, outcomes).
 *
 * @example
 * ```ts
 * const source = Source.parse("amqps://ns.servicebus.windows.net/hub/ConsumerGroups/$default/Partitions/0");
 * source.setFilter(EventHubFilters.offsetAfter("@latest"));
 * source.getFilter(); // "amqp.annotation.x-opt-offset > '@latest'"
 * const fields = source.toTerminus(); // for the ATTACH performative
 * ```
 */
export class Source extends Address {
  /** `"move"` (consume) or `"copy"` (browse); undefined = not sent. Peers may send other symbols. */
  distributionMode: DistributionMode | (string & {}) | undefined;
  /** Outcome applied to unsettled deliveries when the link ends; undefined = not sent. */
  defaultOutcome: Outcome | undefined;
  /** Outcome descriptors (symbols, e.g. `amqp:accepted:list`) the receiver may choose. */
  outcomes: string[] | undefined;

  readonly #filters = new Map<string, AMQPValue>();

  /** The filter-set: filter name (sent as a symbol key) → value as sent (usually described). */
  get filterSet(): ReadonlyMap<string, AMQPValue> {
    return this.#filters;
  }

  /**
   * Replaces the whole filter-set with one filter (uamqp's `set_filter`). The value is described by
   * `descriptor` (default: the `apache.org:selector-filter:string` symbol) unless `descriptor` is
   * `null`; a `null` value sends an AMQP null. Strings and `Uint8Array` (UTF-8) are sent as AMQP
   * strings.
   *
   * @throws {InvalidAddressError} (`invalid-filter`) a numeric descriptor that is not a ulong.
   *
   * @example
   * ```ts
   * source.setFilter("amqp.annotation.x-opt-sequence-number > 1500");
   * source.setFilter("color = 'red'", { name: "my-filter", descriptor: SELECTOR_FILTER_CODE });
   * source.setFilter("x", { descriptor: null }); // plain string value
   * ```
   */
  setFilter(value: FilterValue | null, options: SetFilterOptions = {}): void {
    const name = options.name ?? STRING_FILTER;
    const entry = filterEntry(value, options.descriptor === undefined ? STRING_FILTER : options.descriptor);
    this.#filters.clear();
    this.#filters.set(name, entry);
  }

  /**
   * Adds (or replaces) one filter, keeping the others (several filters: beyond uamqp).
   * @param descriptor default {@link STRING_FILTER}; `null` sends the plain value.
   * @throws {InvalidAddressError} (`invalid-filter`) a numeric descriptor that is not a ulong.
   */
  addFilter(
    name: string,
    value: FilterValue | null,
    descriptor: FilterDescriptor | null = STRING_FILTER,
  ): void {
    this.#filters.set(name, filterEntry(value, descriptor));
  }

  /** Removes one filter; returns whether it existed. */
  deleteFilter(name: string): boolean {
    return this.#filters.delete(name);
  }

  /** Removes every filter. */
  clearFilters(): void {
    this.#filters.clear();
  }

  /**
   * The value of filter `name` without its descriptor (the selector string for the default filter);
   * `null` for a null filter value; `undefined` when there is no such filter.
   */
  getFilter(name: string = STRING_FILTER): AMQPValue | undefined {
    const entry = this.#filters.get(name);
    return entry === undefined ? undefined : filterInner(entry);
  }

  /**
   * The `source` composite fields for an ATTACH (encode with the codec's `Source` composite).
   * @throws {InvalidAddressError} (`invalid-terminus`) a setting that cannot be encoded.
   */
  toTerminus(): SourceFields {
    const fields: SourceFields = this.baseTerminus();
    fields.distributionMode = this.distributionMode;
    fields.filter = this.#filters.size === 0 ? undefined : Object.fromEntries(this.#filters);
    fields.defaultOutcome = this.defaultOutcome;
    fields.outcomes = this.outcomes && [...this.outcomes];
    return fields;
  }

  /**
   * Builds a `Source` from the fields of a received `source` composite (e.g. the peer's ATTACH).
   * The address may be any value: a URL string is parsed, another string is kept as a node name.
   */
  static fromTerminus(fields: SourceFields): Source {
    const source = addressFromWire(Source, fields.address);
    source.applyTerminus(fields);
    source.distributionMode = fields.distributionMode;
    source.defaultOutcome = fields.defaultOutcome;
    source.outcomes = fields.outcomes;
    for (const [k, v] of Object.entries(fields.filter ?? {})) source.#filters.set(k, v);
    return source;
  }
}
