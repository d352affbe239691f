/**
 * The link addresses of Event Hubs, as its clients send them (after the broker's URL
 * normalization): `<hub>` and `<hub>/Partitions/<id>` to send, and
 * `<hub>/ConsumerGroups/<group>/Partitions/<id>` to read. The path words are matched without regard
 * to case, as the service matches entity paths.
 */

/** What an address names. */
export interface HubAddress {
  readonly hub: string;
  /** The partition id, when the address names one. */
  readonly partition?: string;
  /** The consumer group, when the address is a reader's. */
  readonly consumerGroup?: string;
}

const PARTITION = /^([^/]+)\/partitions\/([^/]+)$/i;
const CONSUMER = /^([^/]+)\/consumergroups\/([^/]+)\/partitions\/([^/]+)$/i;

/**
 * The hub, partition and consumer group an address names; a bare name (no `/`) names a hub only
 * possibly (the caller decides whether that hub exists). Undefined for any other path.
 *
 * @example
 * ```ts
 * parseHubAddress("telemetry/ConsumerGroups/$Default/Partitions/1");
 * // { hub: "telemetry", consumerGroup: "$Default", partition: "1" }
 * ```
 */
export function parseHubAddress(address: string): HubAddress | undefined {
  if (address === "") return undefined;
  if (!address.includes("/")) return { hub: address };
  const c = CONSUMER.exec(address);
  if (c) return { hub: c[1]!, consumerGroup: c[2]!, partition: c[3]! };
  const p = PARTITION.exec(address);
  if (p) return { hub: p[1]!, partition: p[2]! };
  return undefined;
}
