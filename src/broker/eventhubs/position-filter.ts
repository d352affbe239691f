/**
 * Where an Event Hubs receiver starts: the selector filter of its source
 * (`apache.org:selector-filter:string`, descriptor 0x0000468C00000004), a string such as
 * `amqp.annotation.x-opt-offset > '1024'`. The service understands a comparison (`>` or `>=`) of one
 * of the annotations `x-opt-offset`, `x-opt-sequence-number` or `x-opt-enqueued-time` (ms since the
 * epoch) with a quoted value; an offset of `'-1'` means the first event kept and `'@latest'` the
 * end of the partition (the events enqueued after the receiver attached). Also taken: unquoted
 * numbers and `x-opt-enqueuedtimeutc` (what uamqp's samples and this library's `EventHubFilters`
 * can write, docs/addresses.md), and the filter under its name with another descriptor or none.
 */
import { AMQPDescribed, AMQPSymbol, AMQPuLong, type AMQPValue } from "../../codec/values.js";

/** The filter's name, and its descriptor as a name and as a code. */
export const SELECTOR_FILTER = "apache.org:selector-filter:string";
const SELECTOR_FILTER_CODE = 0x0000468c00000004n;

/** A receiver's starting position. */
export type EventPosition =
  | { readonly kind: "earliest" }
  | { readonly kind: "latest" }
  | {
      readonly kind: "offset" | "sequence-number" | "enqueued-time";
      readonly value: number;
      /** `>=` rather than `>`. */
      readonly inclusive: boolean;
    };

/** A filter the broker cannot apply. */
export class PositionFilterError extends Error {}

const EXPRESSION =
  /^\s*(?:amqp\.annotation\.)?(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time|x-opt-enqueuedtimeutc)\s*(>=|>)\s*(?:'([^']*)'|(-?\d+))\s*$/i;

function isSelectorDescriptor(d: AMQPValue): boolean {
  if (d instanceof AMQPuLong) return d.value === SELECTOR_FILTER_CODE;
  if (d instanceof AMQPSymbol) return d.value === SELECTOR_FILTER;
  return typeof d === "string" && d === SELECTOR_FILTER;
}

/**
 * The selector filter among a source's filters: its key in the filter set, its value as sent, and
 * the expression (undefined when there is none). It is the filter whose descriptor is the
 * selector's, else the one filed under the selector's name.
 */
export function findSelectorFilter(
  filters: Readonly<Record<string, AMQPValue>> | undefined,
): { key: string; value: AMQPValue; expression: AMQPValue } | undefined {
  if (!filters) return undefined;
  for (const [key, value] of Object.entries(filters)) {
    if (value instanceof AMQPDescribed && isSelectorDescriptor(value.descriptor)) {
      return { key, value, expression: value.value };
    }
  }
  const value = filters[SELECTOR_FILTER];
  if (value === undefined) return undefined;
  return { key: SELECTOR_FILTER, value, expression: value instanceof AMQPDescribed ? value.value : value };
}

/** The number an integer-valued text holds, or undefined. */
function integer(text: string): number | undefined {
  if (!/^-?\d+$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The position a selector expression names.
 * @throws {PositionFilterError} for an expression the broker does not understand.
 */
export function parsePosition(expression: string): EventPosition {
  const m = EXPRESSION.exec(expression);
  if (!m) {
    throw new PositionFilterError(
      `the selector filter "${expression}" is not a position (expected amqp.annotation.x-opt-offset, ` +
        `x-opt-sequence-number or x-opt-enqueued-time, then > or >=, then a quoted value)`,
    );
  }
  const name = m[1]!.toLowerCase();
  const inclusive = m[2] === ">=";
  const text = m[3] ?? m[4]!;
  if (name === "x-opt-offset") {
    if (text === "@latest") return { kind: "latest" };
    const offset = integer(text);
    if (offset === undefined) {
      throw new PositionFilterError(`the offset '${text}' in "${expression}" is not one of this broker's`);
    }
    return offset < 0 ? { kind: "earliest" } : { kind: "offset", value: offset, inclusive };
  }
  if (name === "x-opt-sequence-number") {
    const seq = integer(text);
    if (seq === undefined) {
      throw new PositionFilterError(`the sequence number '${text}' in "${expression}" is not an integer`);
    }
    return { kind: "sequence-number", value: seq, inclusive };
  }
  const ms = integer(text) ?? Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw new PositionFilterError(
      `the enqueued time '${text}' in "${expression}" is neither milliseconds since the epoch nor a date`,
    );
  }
  return { kind: "enqueued-time", value: ms, inclusive };
}

/**
 * The position of a source's filters: the selector filter's, or the first event kept when there is
 * none.
 * @throws {PositionFilterError} when the selector filter is not a string or not a position.
 */
export function positionOf(filters: Readonly<Record<string, AMQPValue>> | undefined): EventPosition {
  const f = findSelectorFilter(filters);
  if (!f) return { kind: "earliest" };
  const expression = f.expression;
  if (typeof expression !== "string") {
    throw new PositionFilterError(`the selector filter's value must be a string`);
  }
  return parsePosition(expression);
}
