/**
 * Options of the embedded broker, its per-address test hooks, and the events it reports.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import type { AMQPValue } from "../codec/values.js";
import type { AMQPError } from "../errors/amqp-error.js";
import type { ErrorCompositeFields } from "../errors/error-fields.js";
import type { TlsServerOptions } from "../transport/tls.js";
import type { ServiceBusOptions } from "./servicebus/options.js";
import type { EventHubsOptions } from "./eventhubs/options.js";

/**
 * An AMQP error as the broker sends it (detach, close, rejected outcome): the `error` composite
 * (`condition`, e.g. `amqp:link:detach-forced`; `description`; `info` with symbol keys), its
 * `info` values AMQP values. For `amqp:link:redirect`, `info` is
 * `{ hostname, "network-host", port, address }` (a plain number is sent as an int).
 */
export type BrokerErrorFields = ErrorCompositeFields<AMQPValue>;

/** How the broker settles every message a producer sends to the address (instead of accepting it). */
export interface DeliveryHook {
  /** The outcome: `rejected`, `released` or `modified`. */
  readonly outcome: "reject" | "release" | "modify";
  /** Rejected: the error condition. @defaultValue "amqp:internal-error" */
  readonly condition?: string;
  /** Rejected: the error description. @defaultValue none */
  readonly description?: string;
  /** Modified: `delivery-failed`. */
  readonly deliveryFailed?: boolean;
  /** Modified: `undeliverable-here`. */
  readonly undeliverableHere?: boolean;
}

/** A management or CBS request as the broker read it (for {@link AddressHooks.onRequest}). */
export interface NodeRequest {
  /** `$management` or `$cbs`. */
  readonly node: string;
  /** The `operation` application property (e.g. `READ`, `put-token`). */
  readonly operation: string | undefined;
  /** The `type` application property (e.g. `com.microsoft:eventhub`, `servicebus.windows.net:sastoken`). */
  readonly type: string | undefined;
  /** The `name` application property (entity name, or the audience of a put-token). */
  readonly name: string | undefined;
  /** Every application property of the request. */
  readonly applicationProperties: ReadonlyMap<string, AMQPValue>;
  /** The amqp-value body, if any. */
  readonly body: AMQPValue | undefined;
}

/** The answer to a management or CBS request. */
export interface NodeResponse {
  /**
   * HTTP-style status, sent as an int: as `status-code` by `$cbs`, as both `status-code` and
   * `statusCode` by `$management`.
   */
  readonly statusCode: number;
  /**
   * Sent as `status-description` (and, by `$management`, also as `statusDescription`).
   * @defaultValue the status's standard text
   */
  readonly statusDescription?: string;
  /** The amqp-value body of the response. @defaultValue null */
  readonly body?: AMQPValue;
  /**
   * Sent as `errorCondition` by the per-entity `<entity>/$management` nodes of the Service Bus
   * emulation (the error a failed request stands for, e.g. `com.microsoft:message-lock-lost`).
   * @defaultValue none
   */
  readonly errorCondition?: string;
}

/** Test hooks of one address. */
export interface AddressHooks {
  /** Settle every message sent to this address with this outcome (the message is not stored). */
  readonly onDelivery?: DeliveryHook;
  /** Refuse every link to this address with this error. */
  readonly refuseAttach?: BrokerErrorFields;
  /** Accept links to this address, then detach them at once with this error (e.g. a redirect). */
  readonly detachAfterAttach?: BrokerErrorFields;
  /** Never settle the messages sent to this address (they are not stored either). */
  readonly neverSettle?: boolean;
  /**
   * `$management` / `$cbs` only: answers requests instead of the built-in handler. Return
   * `"ignore"` to never answer, `undefined` to fall back to the built-in handler.
   */
  readonly onRequest?: (request: NodeRequest) => NodeResponse | "ignore" | undefined;
}

/** SASL settings of the broker. */
export interface BrokerSaslOptions {
  /**
   * Mechanisms offered, in order of preference.
   * @defaultValue `["PLAIN", "MSSBCBS", "ANONYMOUS"]`: ANONYMOUS only while anonymous clients are
   *   allowed; MSSBCBS (token authentication through `$cbs`) then too, or next to users when `cbs.keys`
   *   or `cbs.validateJwt` verify tokens (such clients reach only what their tokens grant); with
   *   `"EXTERNAL"` first when `tls.requestCert` is set
   */
  readonly mechanisms?: readonly string[];
  /**
   * PLAIN users (name → password). With users configured only they get in: ANONYMOUS is not offered
   * and clients that skip SASL are refused, unless `allowAnonymous` is true.
   * @defaultValue any user name and password is accepted, and so are anonymous clients
   */
  readonly users?: Readonly<Record<string, string>>;
  /**
   * Let clients without credentials in (SASL ANONYMOUS, or no SASL layer) next to configured users.
   * @defaultValue true without `users`, false with them
   */
  readonly allowAnonymous?: boolean;
  /** Accept clients that skip SASL. @defaultValue the value of `allowAnonymous` */
  readonly allowNoSasl?: boolean;
  /**
   * Ceiling of the delay before a failed login is answered. The delay starts at 50 ms and doubles
   * with each failure from the same source address (forgotten after 10 minutes without one, or at a
   * successful login); 0 answers at once.
   * @defaultValue 3000
   */
  readonly failedLoginDelayMs?: number;
}

/**
 * The broker's defaults, in one place: `Broker.start` applies them to what its options leave out, and
 * the CLI shows and applies the same values (it changes only the ports, to 5672 and 5671).
 */
export const BROKER_DEFAULTS = {
  host: "127.0.0.1",
  containerId: "uamqp-broker",
  sasl: { failedLoginDelayMs: 3000 },
  limits: {
    maxConnections: 10_000,
    maxSessionsPerConnection: 256,
    maxLinksPerSession: 1024,
    maxLinksPerConnection: 4096,
    maxMessageSize: 16 * 1024 * 1024,
    maxQueueDepth: 100_000,
    maxQueueBytes: 64 * 1024 * 1024,
    maxTotalBytes: 256 * 1024 * 1024,
    maxQueues: 10_000,
    producerCredit: 500,
    maxFrameSize: 65_536,
    idleTimeoutMs: 60_000,
    handshakeTimeoutMs: 10_000,
    keepAliveInitialDelayMs: 30_000,
    maxConnectionsPerSource: 1000,
    attachTimeoutMs: 30_000,
  },
  queues: {
    autoCreate: true,
    maxDeliveryCount: 10,
    deadLetterOnExpiry: true,
    lockDuration: 60_000,
    splitBatches: true,
    maxLockedPerConsumer: 1000,
  },
} as const satisfies {
  readonly host: string;
  readonly containerId: string;
  readonly sasl: Required<Pick<BrokerSaslOptions, "failedLoginDelayMs">>;
  readonly limits: Required<BrokerLimits>;
  readonly queues: Required<Omit<BrokerQueueOptions, "names" | "resolve">>;
};

/** Resource limits. */
export interface BrokerLimits {
  /** Connections open at once; more are closed with `amqp:resource-limit-exceeded`. @defaultValue 10000 */
  readonly maxConnections?: number;
  /**
   * Sessions per connection: announced as channel-max (this - 1); a frame on a channel above it
   * closes the connection with `amqp:connection:framing-error` (AMQP 1.0 §2.7.1). @defaultValue 256
   */
  readonly maxSessionsPerConnection?: number;
  /** Links attached per session; more are refused with `amqp:resource-limit-exceeded`. @defaultValue 1024 */
  readonly maxLinksPerSession?: number;
  /**
   * Links attached per connection, over all its sessions; more are refused with
   * `amqp:resource-limit-exceeded`.
   * @defaultValue 4096
   */
  readonly maxLinksPerConnection?: number;
  /** Largest message accepted (bytes); larger ones detach the link with `amqp:link:message-size-exceeded`. @defaultValue 16777216 */
  readonly maxMessageSize?: number;
  /** Messages per queue (ready + locked); producers get no more credit beyond it. @defaultValue 100000 */
  readonly maxQueueDepth?: number;
  /**
   * Bytes of messages per queue: ready, locked, and (Service Bus) deferred and scheduled ones, each
   * counted as its encoded size plus 256 bytes of bookkeeping. Once a queue reaches it, its producers
   * get no credit (messages already in flight are rejected with `amqp:resource-limit-exceeded`)
   * until consumers have drained it to three quarters of the limit. Dead-letter queues take every
   * dead letter regardless (they count in `maxTotalBytes`).
   * @defaultValue 67108864 (64 MiB)
   */
  readonly maxQueueBytes?: number;
  /**
   * Bytes of messages in the whole broker: every queue's (as `maxQueueBytes` counts them) and the
   * events the event hubs' partitions retain. Once reached, every producer is held back as a full
   * queue's are, until the total has come down to three quarters of it.
   * @defaultValue 268435456 (256 MiB)
   */
  readonly maxTotalBytes?: number;
  /**
   * Queues the broker holds (dynamic ones included, the `$deadletter` sub-queues of queues not);
   * clients creating more (an ATTACH or relayed message to a new address, `$management` CREATE, a
   * dynamic node) are refused with `amqp:resource-limit-exceeded`. `queues.names` and
   * `Broker.createQueue` are not limited.
   * @defaultValue 10000
   */
  readonly maxQueues?: number;
  /**
   * Credit granted to a producer at a time, at most: less when the queue's or broker's byte limit
   * leaves room for fewer messages of the size the producer sends.
   * @defaultValue 500
   */
  readonly producerCredit?: number;
  /** Largest frame accepted (bytes). @defaultValue 65536 */
  readonly maxFrameSize?: number;
  /**
   * Idle time-out announced to clients in OPEN, in milliseconds (0 = none): a connection on which
   * the client sent nothing, not even an empty frame, for this long is closed with
   * `amqp:resource-limit-exceeded`, and its locked messages go back to their queues. Clients keep the
   * connection open by sending empty frames (heartbeats) when idle, as AMQP 1.0 section 2.4.5 asks;
   * ours, rhea, Qpid Proton, Python uamqp and the Azure SDKs send them at half this time.
   * @defaultValue 60000
   */
  readonly idleTimeoutMs?: number;
  /**
   * A client that has not opened its connection within this time (milliseconds) is disconnected.
   * The time runs from the moment the connection is accepted, SASL included; nothing the client
   * sends before its OPEN extends it. The TLS handshake of the amqps listener gets the same time.
   * @defaultValue 10000
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * TCP keep-alive on accepted sockets (plain, TLS and WebSocket listeners): the operating system
   * probes a connection silent for this many milliseconds and drops it when the other host is gone
   * (a crashed machine, a lost network), which no AMQP frame would tell. 0 = off.
   * @defaultValue 30000
   */
  readonly keepAliveInitialDelayMs?: number;
  /**
   * Connections open at once from one source address (the client's IP address; loopback clients
   * count like any other). More are dropped as they arrive, before any byte is read: the socket is
   * closed without an AMQP error (see `Broker.refusedConnections`).
   * @defaultValue 1000
   */
  readonly maxConnectionsPerSource?: number;
  /**
   * A connection that has had no link attached for this long (milliseconds) since its OPEN, or
   * since its last link went away, is closed with `amqp:resource-limit-exceeded`. 0 = never.
   * @defaultValue 30000
   */
  readonly attachTimeoutMs?: number;
}

/** Queue behaviour. */
export interface BrokerQueueOptions {
  /** Create queues on first use; when false only `names` (and dynamic nodes) exist. @defaultValue true */
  readonly autoCreate?: boolean;
  /** Queues that exist from the start. */
  readonly names?: readonly string[];
  /** Deliveries of a message before it is dead-lettered. @defaultValue 10 */
  readonly maxDeliveryCount?: number;
  /** Expired messages go to the dead-letter queue (true) or are dropped. @defaultValue true */
  readonly deadLetterOnExpiry?: boolean;
  /**
   * PeekLock lock duration (ms): a message a consumer has not settled within it is delivered again
   * (its delivery-count goes up), and the consumer's late outcome is discarded; a consumer in
   * receiver-settle-mode second gets it settled `rejected` with `com.microsoft:message-lock-lost`
   * (as Azure Service Bus answers). A lock is renewed with `com.microsoft:renew-lock` on
   * `<queue>/$management` (docs/broker.md, "Lock duration"). 0 = locks last until the consumer
   * settles or detaches.
   * @defaultValue 60000 (as Azure Service Bus)
   */
  readonly lockDuration?: number;
  /** Split batched messages (message-format 0x80013700) into their inner messages. @defaultValue true */
  readonly splitBatches?: boolean;
  /**
   * Messages one consumer (a link) holds at a time, whatever credit it grants: delivered and not yet
   * settled (locked), plus those waiting to be written to it. A consumer at the maximum gets more
   * once it settles some, so a stuck consumer with a large credit cannot lock a whole queue.
   * @defaultValue 1000
   */
  readonly maxLockedPerConsumer?: number;
  /**
   * Maps a link or message address to a queue name (after URL normalization), e.g. to make
   * Event Hubs style partition addresses of senders and receivers meet.
   */
  readonly resolve?: (address: string) => string;
}

/** Claims-based security (`$cbs` put-token). */
export interface BrokerCbsOptions {
  /**
   * SAS keys by key name (`skn`). Without keys every SAS token is accepted (only its expiry is
   * checked), except from a client confined to its tokens (MSSBCBS next to users).
   */
  readonly keys?: Readonly<Record<string, string>>;
  /** Addresses that need a token put on the connection first. @defaultValue none */
  readonly guardedAddresses?: readonly string[] | ((address: string) => boolean);
  /**
   * Validates a non-SAS token (JWT) for an audience: false when invalid; true, or what the token
   * carries, when valid: its expiry (else the put-token's `expiration`) and, for the `authorization`
   * rules, the rights it grants under its audience (e.g. from its roles or claims; none without).
   */
  readonly validateJwt?: (token: string, audience: string) => boolean | JwtVerdict;
}

/** What a valid JWT carries, as `cbs.validateJwt` read it. */
export interface JwtVerdict {
  /** When the token expires (ms since the epoch). @defaultValue the put-token's `expiration` */
  readonly expiresAtMs?: number;
  /**
   * The rights the token grants under its audience while `authorization` rules are configured
   * (Service Bus's claims `Send`, `Listen`, `Manage` are read the same). @defaultValue none
   */
  readonly rights?: readonly BrokerRight[];
}

/** A right on addresses (docs/broker.md, "Authorization"). */
export type BrokerRight = "send" | "listen" | "manage";

/**
 * One authorization rule: who (exactly one of `user`, `keyName`, `anonymous`) holds which rights on
 * which addresses. Rights add up: a client may do what any rule that names it grants.
 */
export interface BrokerAuthorizationRule {
  /**
   * A client that logged in with a name: the PLAIN user name, or the EXTERNAL identity (the client
   * certificate's CN); `"*"` names every such client.
   */
  readonly user?: string;
  /**
   * The SAS key name (`skn`) of tokens put on `$cbs` (one of `cbs.keys`): the token grants these
   * rights under its audience, on the connection it was put on; `"*"` names every key.
   */
  readonly keyName?: string;
  /**
   * Clients without a name: SASL ANONYMOUS, no SASL, MSSBCBS where anonymous clients are allowed, a
   * client certificate without a CN, and PLAIN logins while no `sasl.users` are configured (any
   * name is accepted then, so it proves nothing).
   */
  readonly anonymous?: true;
  /**
   * `send` (producers, the anonymous relay's `to`, scheduling), `listen` (consumers, peek, lock
   * renewal, receive by sequence number), `manage` (`$management` READ, CREATE, DELETE). Service
   * Bus's claims `Send`, `Listen`, `Manage` are read the same.
   */
  readonly rights: readonly BrokerRight[];
  /**
   * The addresses: a name covers that entity and everything under it (`orders` covers
   * `orders/$deadletter`, `hub` covers `hub/Partitions/0`), as a token's audience does; a name
   * ending in `*` is a prefix (`billing/*`, `tmp-*`); `*` alone is every address. Case matters, as
   * in queue names.
   */
  readonly addresses: readonly string[];
}

/** Rights on addresses per user and per token (docs/broker.md, "Authorization"). */
export interface BrokerAuthorizationOptions {
  /**
   * The rules. Once given (even empty), what they do not grant is denied: links are refused,
   * relayed messages rejected and `$management` requests answered 401, all with
   * `amqp:unauthorized-access`.
   */
  readonly rules: readonly BrokerAuthorizationRule[];
}

/** Options of {@link Broker.start}. */
export interface BrokerOptions {
  /** Host (interface) the listeners bind to. @defaultValue "127.0.0.1" */
  readonly host?: string;
  /**
   * AMQP over TCP port; `null` opens no plain listener (TLS-only: needs `tls` or `webSocket`).
   * @defaultValue 0 (any free port)
   */
  readonly port?: number | null;
  /** Also listen for AMQP over TLS (amqps) with these certificates; `port` defaults to 0 (any free port). */
  readonly tls?: TlsServerOptions & { readonly port?: number };
  /** Also listen for AMQP over WebSocket (`tls: true` serves wss with the `tls` certificate). */
  readonly webSocket?: {
    /** WebSocket port. @defaultValue 0 (any free port) */
    readonly port?: number;
    /** Only upgrade requests for this path. @defaultValue any path */
    readonly path?: string;
    /** Serve wss with the `tls` certificate (requires `tls`). @defaultValue false */
    readonly tls?: boolean;
  };
  /** SASL settings; `false` disables the SASL layer. */
  readonly sasl?: BrokerSaslOptions | false;
  /** Resource limits. @defaultValue see {@link BrokerLimits} */
  readonly limits?: BrokerLimits;
  /** Queue behaviour. @defaultValue see {@link BrokerQueueOptions} */
  readonly queues?: BrokerQueueOptions;
  /** Claims-based security (`$cbs`). @defaultValue every token accepted, no address guarded */
  readonly cbs?: BrokerCbsOptions;
  /**
   * Rights on addresses per user and per token. @defaultValue none: whoever gets in may send to,
   * listen on and manage every address (except the guarded ones, which need a token)
   */
  readonly authorization?: BrokerAuthorizationOptions;
  /**
   * Event Hubs emulation: hubs whose partitions are retained logs read by consumer groups
   * (docs/azure-emulator.md). @defaultValue hubs created on first use, 2 partitions each
   */
  readonly eventHubs?: EventHubsOptions;
  /** Test hooks by address (queue name or `$management` / `$cbs`). */
  readonly hooks?: Readonly<Record<string, AddressHooks>>;
  /** Container id the broker sends in OPEN. @defaultValue "uamqp-broker" */
  readonly containerId?: string;
  /**
   * The Service Bus emulation: entities (queues, topics with subscriptions) declared with their
   * settings, and defaults (see docs/azure-emulator.md). Service Bus clients work without it.
   * @defaultValue nothing declared; 60 s locks for Service Bus receivers
   */
  readonly serviceBus?: ServiceBusOptions;
}

/** Counters of one queue. */
export interface QueueStats {
  /** Messages stored: ready plus locked (delivered, not yet settled). */
  readonly messageCount: number;
  /** Messages delivered and not yet settled by their consumer. */
  readonly lockedCount: number;
  /** Consumers (client receiver links) attached to the queue. */
  readonly consumerCount: number;
  /** Producers (client sender links) attached to the queue. */
  readonly producerCount: number;
  /** Messages in the queue's `$deadletter` sub-queue. */
  readonly deadLetterCount: number;
  /**
   * Bytes its messages count against `limits.maxQueueBytes`: each message's encoded size plus 256
   * bytes of bookkeeping (ready, locked, and deferred and scheduled ones of Service Bus entities).
   */
  readonly byteCount: number;
}

/** What the broker reports to {@link Broker.observe} listeners. */
export type BrokerEvent =
  | {
      readonly type: "connection-open";
      readonly connectionId: number;
      /** The SASL identity (PLAIN user name, EXTERNAL certificate CN). */
      readonly identity: string | undefined;
      /** The SASL mechanism the client authenticated with (undefined: it skipped SASL). */
      readonly mechanism: string | undefined;
    }
  | {
      readonly type: "connection-close";
      readonly connectionId: number;
      readonly error: AMQPError | undefined;
    }
  | {
      readonly type: "attach";
      readonly connectionId: number;
      /** The peer's role: "sender" (a producer) or "receiver" (a consumer). */
      readonly role: "sender" | "receiver";
      readonly address: string | undefined;
      readonly linkName: string;
    }
  | {
      readonly type: "message";
      readonly connectionId: number;
      readonly address: string | undefined;
      readonly payload: Buffer;
      readonly messageFormat: number;
      readonly settled: boolean;
    }
  | {
      readonly type: "outcome";
      readonly connectionId: number;
      readonly address: string;
      readonly state: DeliveryState | undefined;
    }
  | {
      readonly type: "request";
      readonly connectionId: number;
      readonly request: NodeRequest;
      readonly response: NodeResponse | undefined;
    }
  | {
      /** A request the client may not make was refused (counted by `Broker.deniedRequests`). */
      readonly type: "denied";
      readonly connectionId: number;
      /** A link (`attach`), a message through the anonymous relay (`message`), a management request. */
      readonly what: "attach" | "message" | "request";
      /** The address, or the entity the request names. */
      readonly address: string | undefined;
      /** `amqp:unauthorized-access`, or `amqp:not-allowed` (CREATE while queues are not auto-created). */
      readonly condition: string;
      /** Names the right and the address, or the token the address needs. */
      readonly description: string;
    };
