/**
 * The embedded AMQP 1.0 broker: an application of the engine's accepting side. Queues by address,
 * PeekLock delivery with redelivery and dead-lettering, dynamic nodes, the anonymous relay,
 * `$management` and `$cbs`, event hubs (src/broker/eventhubs/), SASL, TLS and WebSocket listeners,
 * limits, and test hooks.
 */
import type { ConnectionOptions } from "../engine/options.js";
import { settleWithin } from "../policy/wait.js";
import { listenTcp } from "../transport/tcp.js";
import { listenTls } from "../transport/tls.js";
import type { Transport, TransportServer } from "../transport/transport.js";
import { listenWebSocket } from "../transport/websocket-server.js";
import { scopeCovers } from "./address.js";
import { BrokerAuthorization } from "./authorization.js";
import { BrokerEvents } from "./broker-events.js";
import { brokerTraceOption, logRefusedConnection } from "./broker-log.js";
import { ByteBudget } from "./byte-budget.js";
import { BrokerConnection } from "./connection.js";
import type { BrokerContext, BrokerSettings } from "./context.js";
import { BrokerError } from "./errors.js";
import { EventHubRegistry } from "./eventhubs/hub-registry.js";
import type { EventHubStats } from "./eventhubs/options.js";
import { handleManagement } from "./nodes/management.js";
import {
  BROKER_DEFAULTS,
  type AddressHooks,
  type BrokerErrorFields,
  type BrokerEvent,
  type BrokerOptions,
  type QueueStats,
} from "./options.js";
import { isRequestNode, QueueRegistry } from "./registry.js";
import { BrokerSaslPolicy, type SaslAdmission } from "./sasl-policy.js";
import { ServiceBusNamespace } from "./servicebus/namespace.js";
import { SourceCounts } from "./source-counts.js";

/** How long `stop()` / `close()` wait for clients to answer CLOSE before dropping them. */
const CLOSE_GRACE_MS = 1000;

const STOPPING: BrokerErrorFields = {
  condition: "amqp:connection:forced",
  description: "the broker is shutting down",
};

/**
 * An in-process AMQP 1.0 broker for tests and demos. Binds 127.0.0.1 unless told otherwise.
 *
 * @example
 * ```ts
 * await using broker = await Broker.start({ sasl: { users: { guest: "guest" } } });
 * // connect to broker.url ("amqp://127.0.0.1:<port>"), send to "q1", receive from "q1"
 * broker.stats("q1"); // { messageCount, consumerCount, deadLetterCount, ... }
 * ```
 */
export class Broker implements AsyncDisposable {
  readonly #options: BrokerOptions;
  readonly #settings: BrokerSettings;
  readonly #sasl: BrokerSaslPolicy;
  readonly #keepAliveInitialDelayMs: number;
  readonly #ctx: BrokerContext;
  readonly #queues: QueueRegistry;
  readonly #memory: ByteBudget;
  readonly #serviceBus: ServiceBusNamespace;
  readonly #eventHubs: EventHubRegistry;
  readonly #authorization: BrokerAuthorization;
  readonly #hooks = new Map<string, AddressHooks>();
  readonly #connections = new Map<number, BrokerConnection>();
  /** Connections by source address (`limits.maxConnectionsPerSource`). */
  readonly #sources = new SourceCounts();
  #refusedConnections = 0;
  readonly #events = new BrokerEvents();
  #servers: TransportServer[] = [];
  #ports: { tcp?: number; tls?: number; ws?: number } | undefined;
  #nextConnectionId = 0;
  #deniedRequests = 0;
  #stopped = true;
  #closing: Promise<void> | undefined;

  private constructor(options: BrokerOptions) {
    this.#options = options;
    this.#sasl = new BrokerSaslPolicy(options);
    const limits = options.limits ?? {};
    const keepAlive = limits.keepAliveInitialDelayMs ?? BROKER_DEFAULTS.limits.keepAliveInitialDelayMs;
    if (!Number.isInteger(keepAlive) || keepAlive < 0) {
      throw new BrokerError(
        `limits.keepAliveInitialDelayMs must be a whole number of ms >= 0, got ${keepAlive}`,
      );
    }
    this.#keepAliveInitialDelayMs = keepAlive;
    this.#memory = new ByteBudget(Math.max(1, limits.maxTotalBytes ?? BROKER_DEFAULTS.limits.maxTotalBytes));
    this.#serviceBus = new ServiceBusNamespace(options);
    this.#queues = new QueueRegistry(
      options,
      this.#memory,
      this.#events,
      (name) => {
        this.#queueDeleted(name);
      },
      this.#serviceBus,
    );
    this.#serviceBus.bind(this.#queues);
    this.#eventHubs = new EventHubRegistry(options, this.#memory, (a) => this.#queues.resolve(a));
    this.#authorization = new BrokerAuthorization(options, (a) => this.#queues.resolve(a));
    this.#settings = {
      maxSessionsPerConnection: Math.max(
        1,
        limits.maxSessionsPerConnection ?? BROKER_DEFAULTS.limits.maxSessionsPerConnection,
      ),
      maxLinksPerSession: limits.maxLinksPerSession ?? BROKER_DEFAULTS.limits.maxLinksPerSession,
      maxLinksPerConnection: limits.maxLinksPerConnection ?? BROKER_DEFAULTS.limits.maxLinksPerConnection,
      maxMessageSize: limits.maxMessageSize ?? BROKER_DEFAULTS.limits.maxMessageSize,
      producerCredit: Math.max(1, limits.producerCredit ?? BROKER_DEFAULTS.limits.producerCredit),
      attachTimeoutMs: Math.max(0, limits.attachTimeoutMs ?? BROKER_DEFAULTS.limits.attachTimeoutMs),
      autoCreate: this.#queues.autoCreate,
      splitBatches: options.queues?.splitBatches ?? BROKER_DEFAULTS.queues.splitBatches,
      cbs: options.cbs,
    };
    this.#ctx = this.#makeContext();
    for (const [address, hooks] of Object.entries(options.hooks ?? {})) this.setHooks(address, hooks);
  }

  /**
   * Starts a broker listening on the configured ports (0 = any free port).
   * @throws {BrokerError} `port: null` with neither `tls` nor `webSocket`; `webSocket.tls` without `tls`; a negative
   *   `limits.keepAliveInitialDelayMs`; `sasl` options that offer ANONYMOUS (or no SASL)
   *   next to configured users without `allowAnonymous`, or MSSBCBS there while `$cbs` verifies no
   *   token; a malformed `authorization` rule, or one naming users or key names the broker cannot
   *   verify (no `sasl.users`, no `cbs.keys`); a `TransportError` (code `AMQP_TRANSPORT`,
   *   `systemCode` e.g. `EADDRINUSE`) when a port cannot be bound.
   */
  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const broker = new Broker(options);
    await broker.#listen();
    return broker;
  }

  /** The host the listeners are bound to. */
  get host(): string {
    return this.#options.host ?? BROKER_DEFAULTS.host;
  }

  /** The AMQP (TCP) port; undefined with `port: null` (TLS or WebSocket only) and before listening. */
  get port(): number | undefined {
    return this.#ports?.tcp;
  }

  /** `amqp://host:port`; undefined with `port: null`. */
  get url(): string | undefined {
    const p = this.port;
    return p === undefined ? undefined : `amqp://${hostForUrl(this.host)}:${p}`;
  }

  /** The AMQPS (TLS) port, when `tls` was given. */
  get tlsPort(): number | undefined {
    return this.#ports?.tls;
  }

  /** `amqps://host:tlsPort`, when `tls` was given. */
  get tlsUrl(): string | undefined {
    const p = this.tlsPort;
    return p === undefined ? undefined : `amqps://${hostForUrl(this.host)}:${p}`;
  }

  /** The WebSocket port, when `webSocket` was given. */
  get wsPort(): number | undefined {
    return this.#ports?.ws;
  }

  /** `ws://host:wsPort/path` (or `wss://`), when `webSocket` was given. */
  get wsUrl(): string | undefined {
    const p = this.wsPort;
    const ws = this.#options.webSocket;
    if (p === undefined || ws === undefined) return undefined;
    const path = ws.path ?? "/";
    return `${ws.tls === true ? "wss" : "ws"}://${hostForUrl(this.host)}:${p}${path.startsWith("/") ? path : `/${path}`}`;
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Connections dropped on arrival because their source address held `limits.maxConnectionsPerSource`
   * connections already.
   */
  get refusedConnections(): number {
    return this.#refusedConnections;
  }

  // ---- lifecycle -----------------------------------------------------------------------------------

  async #listen(): Promise<void> {
    const o = this.#options;
    const host = this.host;
    const onTransport = (t: Transport): void => {
      this.#accept(t);
    };
    if (o.port === null && !o.tls && !o.webSocket) {
      throw new BrokerError("port: null (no plain listener) needs the tls or webSocket option");
    }
    const keepAliveInitialDelayMs = this.#keepAliveInitialDelayMs;
    const servers: TransportServer[] = [];
    try {
      const ports: { tcp?: number; tls?: number; ws?: number } = {};
      if (o.port !== null) {
        const tcp = await listenTcp(
          { host, port: this.#ports?.tcp ?? o.port ?? 0, keepAliveInitialDelayMs },
          onTransport,
        );
        servers.push(tcp);
        ports.tcp = tcp.port;
      }
      if (o.tls) {
        // A client that never finishes its TLS handshake is dropped within the AMQP handshake time
        // too (Node's own default is 120 s).
        const handshakeMs = o.limits?.handshakeTimeoutMs ?? BROKER_DEFAULTS.limits.handshakeTimeoutMs;
        const tlsOptions =
          handshakeMs > 0 ? { handshakeTimeout: handshakeMs, ...o.tls.tlsOptions } : o.tls.tlsOptions;
        const tls = await listenTls(
          { ...o.tls, tlsOptions, host, port: this.#ports?.tls ?? o.tls.port ?? 0, keepAliveInitialDelayMs },
          onTransport,
        );
        servers.push(tls);
        ports.tls = tls.port;
      }
      if (o.webSocket) {
        if (o.webSocket.tls === true && !o.tls) throw new BrokerError("webSocket.tls needs the tls option");
        const ws = await listenWebSocket(
          {
            host,
            port: this.#ports?.ws ?? o.webSocket.port ?? 0,
            keepAliveInitialDelayMs,
            ...(o.webSocket.path !== undefined ? { path: o.webSocket.path } : {}),
            ...(o.webSocket.tls === true && o.tls ? { tls: o.tls } : {}),
          },
          onTransport,
        );
        servers.push(ws);
        ports.ws = ws.port;
      }
      this.#ports = ports;
    } catch (e) {
      await Promise.all(servers.map((s) => s.close()));
      throw e;
    }
    this.#servers = servers;
    this.#stopped = false;
  }

  /**
   * Stops listening and closes every connection (CLOSE with `amqp:connection:forced`, or the given
   * error; `abrupt` drops the sockets without a CLOSE). Queues and their messages are kept for
   * {@link restart}.
   */
  async stop(options: { error?: BrokerErrorFields; abrupt?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const servers = this.#servers;
    this.#servers = [];
    await this.closeConnections(options.error ?? STOPPING, { abrupt: options.abrupt ?? false });
    await Promise.all(servers.map((s) => s.close()));
  }

  /**
   * Listens again on the same ports after {@link stop}. No-op when running.
   * @throws {BrokerError} after {@link close}; a `TransportError` when a port cannot be bound again.
   */
  async restart(): Promise<void> {
    if (this.#closing) throw new BrokerError("the broker is closed");
    if (!this.#stopped) return;
    await this.#listen();
  }

  /** Closes every connection and listener and drops all queues and event hubs. Never hangs; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.stop().finally(() => {
      this.#queues.clear();
      this.#eventHubs.clear();
      this.#events.clear();
    });
    return this.#closing;
  }

  /** `await using` support: {@link Broker.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #accept(transport: Transport): void {
    if (this.#stopped) {
      transport.destroy();
      return;
    }
    const limits = this.#options.limits ?? {};
    const source = sourceOf(transport);
    const perSource = limits.maxConnectionsPerSource ?? BROKER_DEFAULTS.limits.maxConnectionsPerSource;
    if (!this.#sources.take(source, perSource)) {
      // Dropped before a byte is read: refusing with an AMQP CLOSE would cost a handshake (and SASL)
      // per attempt, which is what a client flooding the broker with connections wants (docs/broker.md).
      this.#refusedConnections++;
      logRefusedConnection(source, perSource);
      transport.destroy();
      return;
    }
    const max = limits.maxConnections ?? BROKER_DEFAULTS.limits.maxConnections;
    const refuse: BrokerErrorFields | undefined =
      this.#connections.size >= max
        ? { condition: "amqp:resource-limit-exceeded", description: `at most ${max} connections are allowed` }
        : undefined;
    const id = ++this.#nextConnectionId;
    const admission = this.#sasl.admit(transport);
    const c = new BrokerConnection(
      this.#ctx,
      id,
      transport,
      { ...this.#connectionOptions(admission), ...brokerTraceOption(id) },
      admission,
      limits.handshakeTimeoutMs ?? BROKER_DEFAULTS.limits.handshakeTimeoutMs,
      refuse,
    );
    this.#connections.set(id, c);
    c.start();
  }

  #connectionOptions(admission: SaslAdmission): ConnectionOptions {
    const limits = this.#options.limits ?? {};
    return {
      role: "server",
      containerId: this.#options.containerId ?? BROKER_DEFAULTS.containerId,
      maxFrameSize: limits.maxFrameSize ?? BROKER_DEFAULTS.limits.maxFrameSize,
      channelMax: this.#settings.maxSessionsPerConnection - 1,
      idleTimeoutMs: limits.idleTimeoutMs ?? BROKER_DEFAULTS.limits.idleTimeoutMs,
      closeTimeoutMs: CLOSE_GRACE_MS,
      saslServer: admission.serverOptions,
    };
  }

  // ---- test controls -------------------------------------------------------------------------------

  /**
   * Closes every open connection with `error` (default `amqp:connection:forced`); `abrupt` drops
   * the sockets without a CLOSE. Resolves when they are closed (at most about a second).
   */
  async closeConnections(
    error: BrokerErrorFields = { condition: "amqp:connection:forced", description: "closed by the broker" },
    options: { abrupt?: boolean } = {},
  ): Promise<void> {
    const all = [...this.#connections.values()].map((c) => c.close(error, options.abrupt ?? false));
    await settleWithin(Promise.all(all), CLOSE_GRACE_MS + 500);
  }

  /**
   * Detaches (closes) every link attached to `address` with `error` (default
   * `amqp:link:detach-forced`), e.g. `amqp:link:redirect` with `info: { hostname, "network-host",
   * port, address }`. Returns how many links were detached.
   */
  detachLinks(
    address: string,
    error: BrokerErrorFields = {
      condition: "amqp:link:detach-forced",
      description: "detached by the broker",
    },
  ): number {
    const name = this.#queues.resolve(address);
    let n = 0;
    for (const c of this.#connections.values()) {
      for (const r of c.links) {
        if (r.address === name) {
          r.close(error);
          n++;
        }
      }
    }
    return n;
  }

  /** Sets (or with undefined removes) the test hooks of an address. */
  setHooks(address: string, hooks: AddressHooks | undefined): void {
    const name = this.#queues.resolve(address);
    if (hooks) this.#hooks.set(name, hooks);
    else this.#hooks.delete(name);
  }

  /** Calls `listener` for every broker event; returns a function that removes it. */
  observe(listener: (event: BrokerEvent) => void): () => void {
    return this.#events.add(listener);
  }

  /**
   * How many requests were refused because the client may not make them: links refused and
   * messages through the anonymous relay rejected with `amqp:unauthorized-access` (a guarded address
   * without a token, a right the `authorization` rules do not grant), and management requests
   * (`$management`, `<entity>/$management`) answered 401 or 403 (CREATE while queues are not
   * auto-created). Each is also reported as a `denied` event and logged (`uamqp:broker`, `warn`).
   */
  get deniedRequests(): number {
    return this.#deniedRequests;
  }

  // ---- queues --------------------------------------------------------------------------------------

  /** Counters of the queue at `address` (zeros when it does not exist). */
  stats(address: string): QueueStats {
    return (
      this.#queues.stats(this.#queues.resolve(address)) ?? {
        messageCount: 0,
        lockedCount: 0,
        consumerCount: 0,
        producerCount: 0,
        deadLetterCount: 0,
        byteCount: 0,
      }
    );
  }

  /**
   * Bytes of messages the broker holds, counted against `limits.maxTotalBytes`: every queue's
   * `byteCount` (dead-letter and temporary queues included) and the events retained by the event
   * hubs' partitions (each its encoded size plus 256 bytes).
   */
  get byteCount(): number {
    return this.#memory.used;
  }

  /** Creates a queue (no effect if it exists). */
  createQueue(address: string): void {
    this.#queues.ensure(this.#queues.resolve(address));
  }

  /** Deletes a queue and its messages; its links are detached with `amqp:resource-deleted`. */
  deleteQueue(address: string): boolean {
    return this.#queues.delete(this.#queues.resolve(address));
  }

  /** Names of every queue (dead-letter and temporary ones included). */
  queueNames(): string[] {
    return this.#queues.names();
  }

  // ---- event hubs ----------------------------------------------------------------------------------

  /**
   * The state of the event hub `name` and of each of its partitions (undefined when there is no
   * such hub; this never creates one).
   */
  eventHubStats(name: string): EventHubStats | undefined {
    return this.#eventHubs.stats(name);
  }

  /** Names of every event hub (declared, or created on first use). */
  eventHubNames(): string[] {
    return this.#eventHubs.names();
  }

  #queueDeleted(name: string): void {
    const error: BrokerErrorFields = {
      condition: "amqp:resource-deleted",
      description: `the queue '${name}' was deleted`,
    };
    for (const c of this.#connections.values()) {
      for (const r of c.links) if (r.address === name) r.close(error);
    }
  }

  #emit(event: BrokerEvent): void {
    this.#events.emit(event);
  }

  #makeContext(): BrokerContext {
    const queues = this.#queues;
    const eventHubs = this.#eventHubs;
    const guarded = this.#options.cbs?.guardedAddresses;
    const isGuarded =
      guarded === undefined
        ? (): boolean => false
        : typeof guarded === "function"
          ? guarded
          : ((): ((a: string) => boolean) => {
              const names = guarded.map((a) => queues.resolve(a));
              return (a) => names.some((g) => scopeCovers(g, a));
            })();
    return {
      settings: this.#settings,
      queueHost: queues.host,
      memory: this.#memory,
      resolveAddress: (a) => queues.resolve(a),
      queueFor: (name) => queues.lookup(name),
      existingQueue: (name) => queues.get(name),
      createTemporaryQueue: () => queues.temporary(),
      deleteQueue: (name) => queues.delete(name),
      eventHubs,
      entityExists: (scope) => queues.exists(scope) || eventHubs.exists(scope),
      hooksFor: (address) => (this.#hooks.size === 0 ? undefined : this.#hooks.get(address)),
      isGuarded: (address) => !isRequestNode(address) && isGuarded(address),
      // Event Hubs READs (com.microsoft:eventhub / com.microsoft:partition) first, then the queues'.
      authorization: this.#authorization,
      denied: (e) => {
        this.#deniedRequests++;
        this.#emit(e);
      },
      management: (req) => eventHubs.management(req) ?? handleManagement(req, queues),
      serviceBus: this.#serviceBus,
      events: this.#events,
      connectionClosed: (id) => {
        const c = this.#connections.get(id);
        if (c === undefined) return;
        this.#connections.delete(id);
        this.#sources.release(sourceOf(c.transport));
      },
    };
  }
}

/** The source address a connection counts against (`limits.maxConnectionsPerSource`). */
function sourceOf(transport: Transport): string {
  return transport.remoteAddress ?? "unknown";
}

function hostForUrl(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
