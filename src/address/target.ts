/**
 * `Target`: the address a sender writes to (uamqp's `uamqp.address.Target`).
 */
import type { TargetFields } from "../codec/definitions/messaging.js";
import { Address, addressFromWire } from "./address.js";

/**
 * A target terminus: an {@link Address} and its terminus settings.
 *
 * @example
 * ```ts
 * const target = Target.parse("amqps://ns.servicebus.windows.net/myqueue");
 * target.durable = TerminusDurability.Configuration;
 * const fields = target.toTerminus(); // { address: "amqps://ns.servicebus.windows.net/myqueue", durable: 1 }
 * ```
 */
export class Target extends Address {
  /**
   * The `target` composite fields for an ATTACH (encode with the codec's `Target` composite).
   * @throws {InvalidAddressError} (`invalid-terminus`) a setting that cannot be encoded.
   */
  toTerminus(): TargetFields {
    return this.baseTerminus();
  }

  /**
   * Builds a `Target` from the fields of a received `target` composite (e.g. the peer's ATTACH).
   * The address may be any value: a URL string is parsed, another string is kept as a node name.
   */
  static fromTerminus(fields: TargetFields): Target {
    const target = addressFromWire(Target, fields.address);
    target.applyTerminus(fields);
    return target;
  }
}
