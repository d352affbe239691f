/**
 * `Address`: an AMQP endpoint URL plus the terminus settings shared by sources and targets
 * (uamqp's `uamqp.address.Address`).
 */
import type { AMQPValue } from "../codec/values.js";
import { AMQPSymbol } from "../codec/values.js";
import { InvalidAddressError } from "./address-error.js";
import { defaultLinkAddress, isAddressUrl } from "./link-address.js";
import { parseAddressUrl, redactUnparsed } from "./parse-url.js";
import {
  DEFAULT_PORTS,
  type AddressScheme,
  type TerminusDurability,
  type TerminusExpiryPolicy,
} from "./terminus-types.js";

/** Options of {@link Address} (and of `Source` / `Target`). */
export interface AddressOptions {
  /**
   * The address sent on the wire in the ATTACH terminus, instead of the default derived from the
   * URL (see docs/addresses.md: the path for most brokers, `amqps://host/path` for Azure hosts).
   * For a node whose name the URL cannot express, e.g. ActiveMQ's `queue://orders`, an Event Hubs
   * emulator or custom endpoint that wants `hub/Partitions/0`.
   */
  readonly linkAddress?: string | undefined;
}

/** Where to connect for an address (see {@link Address.endpoint}). */
export interface AddressEndpoint {
  /** The URL scheme: `amqp`, `amqps`, `ws` or `wss`. */
  readonly scheme: AddressScheme;
  /** Host name or IP address (an IPv6 literal without brackets). */
  readonly hostname: string;
  /** The URL's port, or the scheme's default port. */
  readonly port: number;
  /** `amqps` and `wss` use TLS. */
  readonly tls: boolean;
  /** `ws` and `wss` carry AMQP over WebSocket. */
  readonly webSocket: boolean;
}

/** SASL PLAIN credentials taken from an address URL (see {@link Address.credentials}). */
export interface AddressCredentials {
  /** The URL's user name, percent-decoded. */
  readonly username: string;
  /** The URL's password, percent-decoded. */
  readonly password: string;
}

/** A constructor of `Address` or of a subclass (for the polymorphic static factories). */
export type AddressConstructor<T extends Address> = new (url: string, options?: AddressOptions) => T;

const NODE = Symbol("node");
const RAW = Symbol("raw");
interface InternalOptions extends AddressOptions {
  /** Build a node-name address (no URL parsing). */
  readonly [NODE]?: boolean;
  /** The non-string address value received from a peer. */
  readonly [RAW]?: AMQPValue;
}

/**
 * An AMQP endpoint: `amqp://`, `amqps://`, `ws://` or `wss://` URL (scheme case-insensitive) with a
 * path naming the node, plus the terminus settings sent in ATTACH.
 *
 * - `username` / `password` are percent-decoded (`user%40x` → `user@x`; `+` stays `+`).
 * - `linkAddress`, the address sent on the wire, comes from the URL by one rule that suits every
 *   broker (docs/addresses.md has the table): the path for most brokers (`/queue/orders` for
 *   RabbitMQ, `orders` for `/orders`), uamqp's `amqps://host/path` for Azure Service Bus, Event Hubs
 *   and IoT Hub hosts. Choose another with the `linkAddress` option or {@link Address.node}.
 * - `toString()` returns the URL with the password masked as `***`; the clear password is only in
 *   `password` and `url`, which are not enumerable (not shown by `console.log` or `JSON.stringify`).
 * - A URL without a host, without a path or with another scheme throws {@link InvalidAddressError}.
 *
 * Terminus settings (`durable`, `expiryPolicy`, `timeoutSeconds`, `dynamic`,
 * `dynamicNodeProperties`, `capabilities`) are plain mutable properties; `undefined` leaves the
 * field out of the ATTACH so the spec default applies.
 *
 * @example
 * ```ts
 * const a = Address.parse("amqps://user%40x:p%2Fw@host:5671/q?x=1");
 * a.hostname;    // "host"
 * a.username;    // "user@x"
 * a.password;    // "p/w"
 * a.port;        // 5671
 * a.linkAddress; // "q"
 * String(a);     // "amqps://user%40x:***@host:5671/q?x=1"
 * Target.parse("amqp://guest:guest@localhost:5672/queue/orders").linkAddress; // "/queue/orders"
 * Target.parse("amqps://ns.servicebus.windows.net/orders").linkAddress; // "amqps://ns.servicebus.windows.net/orders"
 * ```
 */
export class Address {
  /** Lower-case scheme; `""` for a node-name address ({@link Address.node}). */
  readonly scheme: AddressScheme | "";
  /** Lower-case host (an IPv6 literal without brackets); `""` for a node-name address. */
  readonly hostname: string;
  /** The port written in the URL, if any. */
  readonly port: number | undefined;
  /** The scheme's default port (5672 amqp, 5671 amqps, 80 ws, 443 wss); undefined for a node name. */
  readonly defaultPort: number | undefined;
  /** Percent-decoded user name from the URL, if any. */
  readonly username: string | undefined;
  /** The path as written (percent-encoded), e.g. `/myhub/ConsumerGroups/$default/Partitions/0`. */
  readonly path: string;
  /** The query parameters of the URL. */
  readonly query: URLSearchParams;
  /** The address sent on the wire in the terminus (see the class notes). */
  readonly linkAddress: string;

  /** Durability of the terminus; undefined = not sent (spec default `None`). */
  durable: TerminusDurability | undefined;
  /** Expiry policy; undefined = not sent (spec default `"session-end"`). Peers may send other symbols. */
  expiryPolicy: TerminusExpiryPolicy | (string & {}) | undefined;
  /** Terminus timeout in **seconds** (the wire unit, uamqp's `timeout`); undefined = not sent (0). */
  timeoutSeconds: number | undefined;
  /** Ask the peer to create the node dynamically; undefined = not sent (false). */
  dynamic: boolean | undefined;
  /** Properties of a dynamically created node (an AMQP `fields` map: symbol keys). */
  dynamicNodeProperties: Record<string, AMQPValue> | undefined;
  /** Extension capabilities (sent as AMQP symbols). */
  capabilities: string[] | undefined;

  readonly #url: string;
  readonly #masked: string;
  readonly #password: string | undefined;
  readonly #raw: AMQPValue | undefined;

  /**
   * Parses an address URL.
   * @throws {InvalidAddressError} not a URL, unsupported scheme, no host, bad port, no path.
   */
  constructor(url: string, options: AddressOptions = {}) {
    const internal: InternalOptions = options;
    this.#url = url;
    this.#raw = internal[RAW];
    if (internal[NODE] === true) {
      if (typeof url !== "string") {
        throw new InvalidAddressError(`Invalid node name: expected a string`, "not-a-url");
      }
      this.scheme = "";
      this.hostname = "";
      this.port = undefined;
      this.defaultPort = undefined;
      this.username = undefined;
      this.#password = undefined;
      this.path = url;
      this.query = new URLSearchParams();
      this.#masked = url;
      this.linkAddress = options.linkAddress ?? url;
    } else {
      const p = parseAddressUrl(url);
      this.scheme = p.scheme;
      this.hostname = p.hostname;
      this.port = p.port;
      this.defaultPort = DEFAULT_PORTS[p.scheme];
      this.username = p.username;
      this.#password = p.password;
      this.path = p.path;
      this.query = new URLSearchParams(p.query);
      this.#masked = p.masked;
      this.linkAddress = options.linkAddress ?? defaultLinkAddress(p);
    }
    if (typeof this.linkAddress !== "string") {
      throw new InvalidAddressError("Invalid linkAddress option: expected a string", "invalid-terminus");
    }
    this.durable = undefined;
    this.expiryPolicy = undefined;
    this.timeoutSeconds = undefined;
    this.dynamic = undefined;
    this.dynamicNodeProperties = undefined;
    this.capabilities = undefined;
  }

  /**
   * Same as `new Address(url, options)`; on a subclass it builds that subclass (`Source.parse(url)`).
   * @throws {InvalidAddressError} see the constructor.
   */
  static parse<T extends Address>(this: AddressConstructor<T>, url: string, options?: AddressOptions): T {
    return new this(url, options);
  }

  /**
   * A URL or a node name, decided once for every caller: an `amqp://`, `amqps://`, `ws://` or
   * `wss://` string is parsed as a URL (`parse`; `sb://` is refused as an unsupported scheme),
   * anything else is a node name (`node`), ActiveMQ's `queue://orders` included. On a subclass it
   * builds that subclass.
   * @throws {InvalidAddressError} a malformed URL (see the constructor).
   *
   * @example
   * ```ts
   * Target.from("amqp://localhost/queue/orders").linkAddress; // "/queue/orders"
   * Target.from("$management").isNode; // true
   * ```
   */
  static from<T extends Address>(this: AddressConstructor<T>, text: string): T {
    if (isAddressUrl(text)) return new this(text);
    const options: InternalOptions = { [NODE]: true };
    return new this(text, options);
  }

  /**
   * An address that is only a node name, sent as is on the wire (no host: it cannot open a
   * connection by itself). For links on an existing connection, management nodes, and brokers
   * that expect bare names. An empty name sends no address (for `dynamic` termini).
   *
   * @example
   * ```ts
   * const t = Target.node("/queues/orders"); // RabbitMQ 4
   * t.linkAddress; // "/queues/orders"
   * ```
   */
  static node<T extends Address>(this: AddressConstructor<T>, name: string): T {
    const options: InternalOptions = { [NODE]: true };
    return new this(name, options);
  }

  /** The original URL string, password included (not enumerable). */
  get url(): string {
    return this.#url;
  }

  /** Percent-decoded password from the URL, if any (not enumerable). */
  get password(): string | undefined {
    return this.#password;
  }

  /** uamqp's name for {@link Address.linkAddress}. */
  get address(): string {
    return this.linkAddress;
  }

  /** True for a node-name address ({@link Address.node}, or a non-URL address received from a peer). */
  get isNode(): boolean {
    return this.scheme === "";
  }

  /**
   * The address value written in the terminus: the link address, or nothing when it is empty, or
   * the non-string value a peer sent.
   */
  get wireAddress(): AMQPValue | undefined {
    if (this.#raw !== undefined) return this.#raw;
    return this.linkAddress === "" ? undefined : this.linkAddress;
  }

  /**
   * Where to connect: scheme, host, port (the URL's or the default), TLS, WebSocket.
   * @throws {InvalidAddressError} (`no-host`) for a node-name address.
   */
  endpoint(): AddressEndpoint {
    if (this.scheme === "") {
      throw new InvalidAddressError(
        `Address "${redactUnparsed(this.#masked)}" is a node name without a host`,
        "no-host",
      );
    }
    return {
      scheme: this.scheme,
      hostname: this.hostname,
      port: this.port ?? DEFAULT_PORTS[this.scheme],
      tls: this.scheme === "amqps" || this.scheme === "wss",
      webSocket: this.scheme === "ws" || this.scheme === "wss",
    };
  }

  /**
   * The URL's credentials when it has both a user name and a password (what uamqp's client uses for
   * SASL PLAIN when no auth is given); otherwise undefined (SASL ANONYMOUS).
   */
  credentials(): AddressCredentials | undefined {
    if (this.username === undefined || this.#password === undefined) return undefined;
    return { username: this.username, password: this.#password };
  }

  /** The URL with the password masked as `***`. */
  toString(): string {
    return this.#masked;
  }

  /** The masked URL (so `JSON.stringify` never leaks the password). */
  toJSON(): string {
    return this.#masked;
  }

  /** `console.log` / `util.inspect` show the masked URL. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `${this.constructor.name}(${this.#masked})`;
  }

  /** @internal The terminus fields shared by source and target. */
  protected baseTerminus(): {
    address?: AMQPValue | undefined;
    durable?: number | undefined;
    expiryPolicy?: string | undefined;
    timeout?: number | undefined;
    dynamic?: boolean | undefined;
    dynamicNodeProperties?: Record<string, AMQPValue> | undefined;
    capabilities?: string[] | undefined;
  } {
    checkUint("durable", this.durable, 0xffffffff);
    checkUint("timeoutSeconds", this.timeoutSeconds, 0xffffffff);
    if (this.capabilities?.some((c) => typeof c !== "string")) {
      throw new InvalidAddressError("Invalid terminus: capabilities must be strings", "invalid-terminus");
    }
    return {
      address: this.wireAddress,
      durable: this.durable,
      expiryPolicy: this.expiryPolicy,
      timeout: this.timeoutSeconds,
      dynamic: this.dynamic,
      dynamicNodeProperties: this.dynamicNodeProperties && { ...this.dynamicNodeProperties },
      capabilities: this.capabilities && [...this.capabilities],
    };
  }

  /** @internal Copies the shared terminus fields received from a peer. */
  protected applyTerminus(fields: {
    durable?: number | undefined;
    expiryPolicy?: string | undefined;
    timeout?: number | undefined;
    dynamic?: boolean | undefined;
    dynamicNodeProperties?: Record<string, AMQPValue> | undefined;
    capabilities?: string[] | undefined;
  }): void {
    // A durability outside 0..2 from a peer is kept as received.
    this.durable = fields.durable as TerminusDurability | undefined;
    this.expiryPolicy = fields.expiryPolicy;
    this.timeoutSeconds = fields.timeout;
    this.dynamic = fields.dynamic;
    this.dynamicNodeProperties = fields.dynamicNodeProperties;
    this.capabilities = fields.capabilities;
  }
}

function checkUint(name: string, v: number | undefined, max: number): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= max)) {
    throw new InvalidAddressError(
      `Invalid terminus: ${name} must be an integer in [0, ${max}], got ${String(v)}`,
      "invalid-terminus",
    );
  }
}

/**
 * @internal Builds an address of class `ctor` from the address value of a received terminus: a
 * URL string is parsed (and kept as the link address), another string becomes a node name, any
 * other value is kept as is.
 */
export function addressFromWire<T extends Address>(
  ctor: AddressConstructor<T>,
  value: AMQPValue | undefined,
): T {
  const text = typeof value === "string" ? value : value instanceof AMQPSymbol ? value.value : undefined;
  if (text !== undefined && typeof value === "string" && isAddressUrl(text)) {
    try {
      return new ctor(text, { linkAddress: text });
    } catch {
      // not one of our URLs: a node name
    }
  }
  const options: InternalOptions =
    typeof value === "string" || value === undefined || value === null
      ? { [NODE]: true }
      : { [NODE]: true, [RAW]: value };
  return new ctor(text ?? "", options);
}
