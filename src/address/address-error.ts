import { AMQPError } from "../errors/amqp-error.js";

/** Why an address, a terminus setting or a filter was refused (see {@link InvalidAddressError.reason}). */
export type InvalidAddressReason =
  | "not-a-url"
  | "unsupported-scheme"
  | "no-host"
  | "invalid-port"
  | "no-path"
  | "invalid-terminus"
  | "invalid-filter";

/**
 * Raised for an address that cannot be used: not a URL, a scheme other than `amqp`, `amqps`, `ws`
 * or `wss`, no host, a bad port, no path; also for terminus settings or filter arguments that
 * cannot be encoded. Code `AMQP_INVALID_ADDRESS`; `reason` tells which check failed.
 *
 * The message shows the address with its password masked as `***`: a password never appears in it.
 *
 * @example
 * ```ts
 * try { Address.parse("amqps://user:secret@host"); }
 * catch (e) {
 *   if (e instanceof InvalidAddressError) console.log(e.reason, e.message);
 *   // "no-path" 'Invalid address "amqps://user:***@host": it has no path (the node name)'
 * }
 * ```
 */
export class InvalidAddressError extends AMQPError {
  /** Always `"AMQP_INVALID_ADDRESS"`. */
  override readonly code = "AMQP_INVALID_ADDRESS";
  /** Which check failed. */
  readonly reason: InvalidAddressReason;

  /**
   * @param message - the error message (with any password masked)
   * @param reason - which check failed
   */
  constructor(message: string, reason: InvalidAddressReason) {
    super(message);
    this.reason = reason;
  }
}
