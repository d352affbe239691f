/**
 * The one place that decides what a link puts in its ATTACH source / target address when it is
 * given a URL, and whether a string is a URL or a node name. The rule and its table are in
 * docs/addresses.md ("The link address").
 */
import type { AddressScheme } from "./terminus-types.js";

/** AMQP endpoint schemes, plus Azure's `sb://` namespace URIs (refused by clients with a clear error). */
const URL_LIKE = /^(?:amqps?|wss?|sb):\/\//i;

/**
 * Whether `text` is an endpoint URL (`amqp://`, `amqps://`, `ws://`, `wss://`, `sb://`; scheme
 * case-insensitive) rather than a node name. Every place that takes a "URL or node name" string
 * (`Address.from`: the termini of the low-level API, redirects; the embedded broker) decides with
 * this test. Other `scheme://` strings are node names: ActiveMQ's `queue://orders`, `topic://x`.
 */
export function isAddressUrl(text: string): boolean {
  return URL_LIKE.test(text);
}

/**
 * Host-name suffixes of Azure Service Bus, Event Hubs and IoT Hub in the public and national
 * clouds. Their front ends take the node address as a full `amqp(s)://host/path` URL (what Python
 * uamqp and the Python SDKs built on it send) and refuse other URL schemes.
 */
export const AZURE_HOST_SUFFIXES: readonly string[] = [
  ".servicebus.windows.net",
  ".servicebus.chinacloudapi.cn",
  ".servicebus.usgovcloudapi.net",
  ".servicebus.cloudapi.de",
  ".azure-devices.net",
  ".azure-devices.cn",
  ".azure-devices.us",
  ".azure-devices.de",
];

/** Whether `hostname` (lower case) is an Azure messaging host ({@link AZURE_HOST_SUFFIXES}). */
export function isAzureHost(hostname: string): boolean {
  const host = hostname.replace(/\.$/, "");
  return AZURE_HOST_SUFFIXES.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
}

/** The parts of a parsed URL the link address depends on. */
export interface LinkAddressUrlParts {
  readonly scheme: AddressScheme;
  /** Lower-case host; an IPv6 literal without brackets. */
  readonly hostname: string;
  readonly ipv6: boolean;
  /** The path as written (percent-encoded), starting with `/`. */
  readonly path: string;
}

/**
 * The default link address of a URL (the ATTACH source / target address):
 *
 * - **Azure hosts** ({@link isAzureHost}): uamqp's form `amqp(s)://host/path`, without port, userinfo
 *   and query; `ws` is sent as `amqp` and `wss` as `amqps` (the services accept only those two
 *   schemes in an address URL).
 * - **Any other host**: the path, as written (percent-escapes kept: RabbitMQ's `/queues/<name>`
 *   addresses need them). A path of one segment loses its leading slash (`/orders` → `orders`, the
 *   plain node name every broker knows); a longer one is sent whole (`/queue/orders`,
 *   `/exchange/amq.topic/key`, `/queues/orders`: RabbitMQ's address syntax). The root path `/`
 *   gives `""`, which sends no address.
 *
 * @example
 * ```ts
 * defaultLinkAddress({ scheme: "amqp", hostname: "localhost", ipv6: false, path: "/queue/orders" }); // "/queue/orders"
 * defaultLinkAddress({ scheme: "amqp", hostname: "localhost", ipv6: false, path: "/orders" });       // "orders"
 * defaultLinkAddress({ scheme: "wss", hostname: "ns.servicebus.windows.net", ipv6: false, path: "/q" });
 * // "amqps://ns.servicebus.windows.net/q"
 * ```
 */
export function defaultLinkAddress(url: LinkAddressUrlParts): string {
  if (isAzureHost(url.hostname)) {
    const scheme = url.scheme === "ws" ? "amqp" : url.scheme === "wss" ? "amqps" : url.scheme;
    return `${scheme}://${url.ipv6 ? `[${url.hostname}]` : url.hostname}${url.path}`;
  }
  const rest = url.path.slice(1);
  return rest.includes("/") ? url.path : rest;
}
