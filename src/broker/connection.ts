/**
 * One client connection of the broker: the engine's accepting side over a transport, the links it
 * attached, the CBS tokens put on it (and the detach of the links they authorized when they expire),
 * what it may do where (guarded addresses; everything, for an MSSBCBS client confined to its tokens;
 * the rights the `authorization` rules give its login and tokens), and the routing of `$management` /
 * `$cbs` responses.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { AmqpConnection } from "../engine/connection.js";
import type { ConnectionOptions } from "../engine/options.js";
import type { AmqpSession } from "../engine/session.js";
import type { Transport } from "../transport/transport.js";
import { scopeCovers } from "./address.js";
import { handleAttach, type AttachOwner, type ReplyLink } from "./attach.js";
import { denialDescription, requestRights, type Requester } from "./authorization.js";
import type { BrokerContext } from "./context.js";
import type { LinkRecord } from "./link-record.js";
import { handleCbs, type TokenGrant } from "./nodes/cbs.js";
import { buildResponse, parseRequest } from "./nodes/request.js";
import type { BrokerErrorFields, BrokerRight, NodeRequest, NodeResponse } from "./options.js";
import type { Queue } from "./queue.js";
import { isRequestNode } from "./registry.js";
import { isEntityManagementNode, managedEntity } from "./servicebus/management.js";
import type { SaslAdmission } from "./sasl-policy.js";
import { storeMessage } from "./stored-message.js";

const UNAUTHORIZED = "amqp:unauthorized-access";

/** Longest timer delay Node accepts. */
const MAX_TIMER_MS = 0x7fffffff;

export class BrokerConnection implements AttachOwner {
  readonly id: number;
  readonly ctx: BrokerContext;
  readonly engine: AmqpConnection;
  readonly transport: Transport;
  readonly #admission: SaslAdmission;
  readonly #links = new Set<LinkRecord>();
  readonly #replies: ReplyLink[] = [];
  #grants: TokenGrant[] = [];
  #grantTimer: NodeJS.Timeout | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  /** Runs while the connection is open without a link (`limits.attachTimeoutMs`). */
  #attachTimer: NodeJS.Timeout | undefined;

  /**
   * Serves `transport` once started. `admission` is the SASL side of `options` (how the client got
   * in). With `refuse`, the connection is closed with that error as soon as it is open (too many
   * connections).
   */
  constructor(
    ctx: BrokerContext,
    id: number,
    transport: Transport,
    options: ConnectionOptions,
    admission: SaslAdmission,
    handshakeTimeoutMs: number,
    refuse?: BrokerErrorFields,
  ) {
    this.ctx = ctx;
    this.id = id;
    this.transport = transport;
    this.#admission = admission;
    const engine = new AmqpConnection(options);
    this.engine = engine;
    engine.onRemoteBegin = (session) => {
      this.#onBegin(session);
    };
    engine.onClose = (error) => {
      this.#closed(error);
    };
    if (handshakeTimeoutMs > 0) {
      this.#handshakeTimer = setTimeout(() => {
        if (engine.remote === undefined)
          transport.destroy(new Error("no AMQP open within the handshake time-out"));
      }, handshakeTimeoutMs);
      this.#handshakeTimer.unref();
    }
    engine.opened().then(
      () => {
        this.#clearHandshakeTimer();
        ctx.events.emit({
          type: "connection-open",
          connectionId: id,
          identity: engine.saslIdentity,
          mechanism: admission.mechanism,
        });
        if (refuse) void engine.close(refuse);
        else this.#armAttachTimer();
      },
      () => undefined,
    );
  }

  /** Starts reading from the transport (call once the connection is registered). */
  start(): void {
    this.engine.start(this.transport);
  }

  /**
   * A session the peer began: links attach through it. The session limit needs no count here: it
   * is the channel-max the engine announces and enforces (`Broker`'s connection options).
   */
  #onBegin(session: AmqpSession): void {
    session.onRemoteAttach = (attach, s) => {
      handleAttach(this, attach, s);
    };
  }

  /** Closes the connection (with an error if given); `abrupt` drops the socket without a CLOSE. */
  close(error?: BrokerErrorFields, abrupt = false): Promise<void> {
    if (abrupt) {
      this.transport.destroy();
      return this.engine.closed().then(() => undefined);
    }
    return this.engine.close(error);
  }

  /** Every link still attached. */
  get links(): readonly LinkRecord[] {
    return [...this.#links];
  }

  // ---- AttachOwner ------------------------------------------------------------------------------

  track(record: LinkRecord): void {
    this.#links.add(record);
    this.#clearAttachTimer();
    record.whenGone(() => {
      this.#links.delete(record);
      if (this.#links.size === 0) this.#armAttachTimer();
    });
  }

  linkCount(session?: AmqpSession): number {
    if (session === undefined) return this.#links.size;
    let n = 0;
    for (const r of this.#links) if (r.link.session === session) n++;
    return n;
  }

  addReplyLink(reply: ReplyLink): void {
    this.#replies.push(reply);
  }

  removeReplyLink(reply: ReplyLink): void {
    const i = this.#replies.indexOf(reply);
    if (i >= 0) this.#replies.splice(i, 1);
  }

  /**
   * Whether this connection may use `right` on `address` (a queue name); when not, the error
   * refusing it, after the denial was counted and reported as `what`.
   */
  authorize(right: BrokerRight, address: string, what: "attach" | "message"): BrokerErrorFields | undefined {
    const description = this.#refusal([right], address);
    if (description === undefined) return undefined;
    this.ctx.denied({
      type: "denied",
      connectionId: this.id,
      what,
      address,
      condition: UNAUTHORIZED,
      description,
    });
    return { condition: UNAUTHORIZED, description };
  }

  /**
   * Why this connection may use none of `rights` on `address` (a queue name), or undefined when it
   * may use one (docs/broker.md, "Authorization"). Request nodes and the dynamic nodes of its own
   * links are always open. A guarded address, and every address on a connection confined to its
   * tokens (MSSBCBS next to users), needs a live token covering it, and then only the tokens'
   * rights count; elsewhere the login's rights count too.
   */
  #refusal(rights: readonly BrokerRight[], address: string): string | undefined {
    const authorization = this.ctx.authorization;
    const tokensOnly = this.#admission.tokenOnly || this.ctx.isGuarded(address);
    // The common case, and the anonymous relay's per-message path: nothing to check.
    if (!tokensOnly && !authorization.enabled) return undefined;
    if (isRequestNode(address) || this.#ownsDynamicNode(address)) return undefined;
    const now = Date.now();
    const tokens = this.#grants.filter((g) => g.expiresAtMs > now && scopeCovers(g.scope, address));
    if (tokensOnly && tokens.length === 0) {
      return `no valid token authorizes '${address}' on this connection (put one on $cbs first)`;
    }
    const who: Requester = tokensOnly
      ? { tokens }
      : { login: authorization.loginOf(this.#admission.mechanism, this.engine.saslIdentity), tokens };
    if (rights.some((r) => authorization.check(who, r, address))) return undefined;
    return denialDescription(rights, address, who);
  }

  #ownsDynamicNode(address: string): boolean {
    if (this.ctx.existingQueue(address)?.temporary !== true) return false;
    for (const r of this.#links) if (r.address === address) return true;
    return false;
  }

  handleNodeRequest(node: string, payload: Buffer, session: AmqpSession): void {
    const ctx = this.ctx;
    const parsed = parseRequest(node, payload);
    let response: NodeResponse;
    try {
      const hooked = this.#refusedRequest(parsed.request) ?? ctx.hooksFor(node)?.onRequest?.(parsed.request);
      if (hooked === "ignore") {
        ctx.events.emit({
          type: "request",
          connectionId: this.id,
          request: parsed.request,
          response: undefined,
        });
        return;
      }
      if (hooked !== undefined) {
        response = hooked;
      } else if (node === "$cbs") {
        const r = handleCbs(
          parsed.request,
          ctx.settings.cbs,
          (scope) => ctx.entityExists(scope),
          Date.now(),
          this.#admission.tokenOnly,
        );
        if (r.grant) this.#grant(r.grant);
        response = r.response;
      } else if (node === "$management") {
        response = ctx.management(parsed.request);
      } else {
        // A Service Bus entity's own management node (src/broker/servicebus/management.ts).
        response = ctx.serviceBus.handleRequest(node, parsed.request);
      }
    } catch (e) {
      // An application callback (hook, JWT validator) failed: answer 500, keep the connection.
      response = { statusCode: 500, statusDescription: e instanceof Error ? e.message : String(e) };
    }
    if (node !== "$cbs" && (response.statusCode === 401 || response.statusCode === 403)) {
      ctx.denied({
        type: "denied",
        connectionId: this.id,
        what: "request",
        address: this.#requestEntity(parsed.request),
        condition:
          response.errorCondition ?? (response.statusCode === 401 ? UNAUTHORIZED : "amqp:not-allowed"),
        description: response.statusDescription ?? `status ${response.statusCode}`,
      });
    }
    ctx.events.emit({ type: "request", connectionId: this.id, request: parsed.request, response });
    // The request's settlement (queued by the producer) must reach the client before the response:
    // uamqp-C's management client (amqp_management.c, on_message_received) fails a response whose
    // request it has not yet seen settled, even with status 200, and Python uamqp then waits forever.
    this.engine.output.flush();
    this.#reply(node, parsed.replyTo, session)?.enqueue(
      storeMessage(buildResponse(parsed, response), 0, Date.now()),
    );
  }

  /** The entity a management request is about (resolved): `<entity>/$management`'s, or its `name`. */
  #requestEntity(request: NodeRequest): string | undefined {
    const name = isEntityManagementNode(request.node) ? managedEntity(request.node) : request.name;
    return name === undefined || name === "" ? undefined : this.ctx.resolveAddress(name);
  }

  /**
   * The 401 answering a management request (`$management` by its entity `name`,
   * `<entity>/$management` by its entity) that this connection may not make: it needs the right of
   * the operation on the entity (src/broker/authorization.ts, `requestRights`), and a token covering
   * the entity when the entity is guarded, as Azure's `$management` wants a token for the entity. A
   * request naming no entity is refused on a connection confined to its tokens, and while
   * `authorization` rules are configured.
   */
  #refusedRequest(request: NodeRequest): NodeResponse | undefined {
    if (request.node === "$cbs") return undefined;
    const address = this.#requestEntity(request);
    let description: string | undefined;
    if (address !== undefined) description = this.#refusal(requestRights(request), address);
    else if (this.#admission.tokenOnly || this.ctx.authorization.enabled) {
      description = "the request names no entity ('name'), so nothing can authorize it";
    }
    if (description === undefined) return undefined;
    return { statusCode: 401, statusDescription: description, errorCondition: UNAUTHORIZED };
  }

  /**
   * Where a response goes: the node's reply link named by reply-to (its target address or link
   * name), else the queue named by reply-to, else the node's reply link on the request's session
   * (or any on this connection).
   */
  #reply(node: string, replyTo: string | undefined, session: AmqpSession): Queue | undefined {
    const ctx = this.ctx;
    const candidates = this.#replies.filter((r) => r.node === node);
    if (replyTo !== undefined) {
      const resolved = ctx.resolveAddress(replyTo);
      const named = candidates.find(
        (r) =>
          r.linkName === replyTo ||
          (r.targetAddress !== undefined &&
            (r.targetAddress === replyTo || ctx.resolveAddress(r.targetAddress) === resolved)),
      );
      if (named) return named.queue;
      // Putting the response on a queue is sending to it.
      const q = ctx.existingQueue(resolved);
      if (q && this.#refusal(["send"], resolved) === undefined) return q;
    }
    return (candidates.find((r) => r.session === session) ?? candidates[0])?.queue;
  }

  // ---- CBS grants ---------------------------------------------------------------------------------

  #grant(g: TokenGrant): void {
    this.#grants = this.#grants.filter((x) => x.scope !== g.scope);
    this.#grants.push(g);
    this.#armGrantTimer();
  }

  #armGrantTimer(): void {
    if (this.#grantTimer) clearTimeout(this.#grantTimer);
    this.#grantTimer = undefined;
    let next = Infinity;
    for (const g of this.#grants) next = Math.min(next, g.expiresAtMs);
    if (next === Infinity) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - Date.now()));
    this.#grantTimer = setTimeout(() => {
      this.#onGrantTimer();
    }, delay);
    this.#grantTimer.unref();
  }

  /** Drops expired tokens and detaches the links that needed them (a guarded address, a right). */
  #onGrantTimer(): void {
    this.#grantTimer = undefined;
    const now = Date.now();
    this.#grants = this.#grants.filter((g) => g.expiresAtMs > now);
    for (const r of [...this.#links]) {
      const a = r.address;
      // The broker's receiving link is a producer's (send), its sending link a consumer's (listen).
      const right = r.link.role === "receiver" ? "send" : "listen";
      if (a !== undefined && this.#refusal([right], a) !== undefined) {
        r.close({
          condition: "amqp:unauthorized-access",
          description: `the token authorizing '${a}' has expired`,
        });
      }
    }
    this.#armGrantTimer();
  }

  // ---- reaping ----------------------------------------------------------------------------------

  /**
   * Starts the clock of a connection that has no link (just opened, or its last link went away):
   * one that holds a connection slot without using it is closed after `limits.attachTimeoutMs`.
   */
  #armAttachTimer(): void {
    const ms = this.ctx.settings.attachTimeoutMs;
    if (ms <= 0 || this.#attachTimer !== undefined || this.#links.size > 0 || this.engine.isClosing) return;
    this.#attachTimer = setTimeout(() => {
      this.#attachTimer = undefined;
      void this.engine.close({
        condition: "amqp:resource-limit-exceeded",
        description: `no link was attached for ${ms} ms`,
      });
    }, ms);
    this.#attachTimer.unref();
  }

  #clearAttachTimer(): void {
    if (this.#attachTimer) clearTimeout(this.#attachTimer);
    this.#attachTimer = undefined;
  }

  // ---- teardown ---------------------------------------------------------------------------------

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
  }

  #closed(error: AMQPError | undefined): void {
    this.#clearHandshakeTimer();
    this.#clearAttachTimer();
    if (this.#grantTimer) clearTimeout(this.#grantTimer);
    this.#grantTimer = undefined;
    for (const r of [...this.#links]) r.gone();
    this.ctx.events.emit({ type: "connection-close", connectionId: this.id, error });
    this.ctx.connectionClosed(this.id);
  }
}
