/**
 * Value types of the terminus fields (AMQP 1.0 messaging §3.5) and of address URLs.
 */

/**
 * `terminus-durability` (AMQP uint): what the peer keeps durably for a terminus. Numerically
 * identical to uamqp's `TerminusDurability`.
 *
 * @example
 * ```ts
 * source.durable = TerminusDurability.UnsettledState;
 * ```
 */
export const TerminusDurability = {
  /** No terminus state is retained durably (the spec default). */
  None: 0,
  /** Only the existence and configuration of the terminus is retained durably. */
  Configuration: 1,
  /** Configuration and the unsettled state of durable messages are retained durably. */
  UnsettledState: 2,
} as const;
/** One of the {@link TerminusDurability} values (0, 1 or 2). */
export type TerminusDurability = (typeof TerminusDurability)[keyof typeof TerminusDurability];

/**
 * `terminus-expiry-policy` (AMQP symbol): when the terminus expiry timer starts. The spec default is
 * `"session-end"`.
 */
export type TerminusExpiryPolicy = "link-detach" | "session-end" | "connection-close" | "never";

/** The four expiry policies, in spec order. */
export const TERMINUS_EXPIRY_POLICIES: readonly TerminusExpiryPolicy[] = [
  "link-detach",
  "session-end",
  "connection-close",
  "never",
];

/**
 * `std-dist-mode` (AMQP symbol, source only): `"move"` consumes messages (queue semantics),
 * `"copy"` browses them (they stay available to other links).
 */
export type DistributionMode = "move" | "copy";

/** URL schemes an {@link Address} accepts (lower case). */
export type AddressScheme = "amqp" | "amqps" | "ws" | "wss";

/**
 * The port used when an address URL has none: 5672 for `amqp`, 5671 for `amqps`, 80 for `ws`,
 * 443 for `wss`.
 */
export const DEFAULT_PORTS: Readonly<Record<AddressScheme, number>> = {
  amqp: 5672,
  amqps: 5671,
  ws: 80,
  wss: 443,
};
