/** uamqp's `Session`, and the one place that reports the peer's ATTACH of its links (`onAttach`). */
import { Source, Target } from "../address/index.js";
import { AMQPConnectionError } from "../errors/exceptions.js";
import type { AmqpSession, SessionOptions as EngineSessionOptions } from "../engine/session.js";
import type { Link } from "../engine/link.js";
import type { AttachFields } from "../frames/performatives.js";
import type { AMQPError } from "../errors/amqp-error.js";
import { abortError, bounded, type WaitOptions } from "../policy/wait.js";
import type { Message } from "../message/message.js";
import { compact } from "../util/options.js";
import type { SourceLike, TargetLike } from "../address/termini.js";
import { tokenInForce } from "../management/cbs-authenticator.js";
import {
  MGMT_REQUEST_OPTIONS,
  ManagementLinks,
  type MgmtRequestOptions,
  type MgmtResponse,
} from "../management/mgmt-operation.js";
import type { PairLink, RequestPairSpec, RequestSender } from "../management/request-response.js";
import {
  CREATE_RECEIVER_OPTIONS,
  CREATE_SENDER_OPTIONS,
  SESSION_OPTIONS,
  checkOptions,
  type AttachInfo,
  type CreateReceiverOptions,
  type CreateSenderOptions,
  type SessionOptions,
} from "./client-options.js";
import type { Connection } from "./connection.js";
import { MessageReceiver } from "./message-receiver.js";
import { MessageSender } from "./message-sender.js";
import { clientError, inClientTerms } from "./shutdown.js";

export type { AttachInfo } from "./client-options.js";

/**
 * What the peer's ATTACH of `link` says, with an error when it lacks the terminus it must carry:
 * such an ATTACH refuses the link (AMQP 1.0 section 2.6.3).
 */
function attachInfo(link: Link, attach: AttachFields): AttachInfo {
  const missing = link.role === "sender" ? "target" : "source";
  let source: Source | undefined;
  let target: Target | undefined;
  try {
    source = attach.source ? Source.fromTerminus(attach.source) : undefined;
    target = attach.target?.type === "target" ? Target.fromTerminus(attach.target) : undefined;
  } catch {
    // An undecodable terminus is reported as missing.
  }
  return {
    linkName: link.name,
    role: link.role,
    source,
    target,
    properties: attach.properties,
    error:
      attach[missing] === undefined
        ? new AMQPConnectionError(`the peer's ATTACH of link ${link.name} has no ${missing}`, {
            retryable: false,
          })
        : undefined,
  };
}

/**
 * A session on a {@link Connection} (uamqp's `Session`), carrying {@link MessageSender}s and
 * {@link MessageReceiver}s. BEGIN is sent at once (pipelined behind the connection's OPEN).
 */
export class Session implements AsyncDisposable {
  /** The connection the session runs on. */
  readonly connection: Connection;
  /** Our incoming window (transfer frames). */
  readonly incomingWindow: number;
  /** Our outgoing window (transfer frames). */
  readonly outgoingWindow: number;
  /** Our highest link handle. */
  readonly handleMax: number;
  readonly #engine: AmqpSession;
  readonly #mgmt = new ManagementLinks(this);

  /** Begins a session on `connection` (as {@link Connection.createSession}). @throws {TypeError} */
  constructor(connection: Connection, options: SessionOptions = {}) {
    checkOptions(options, SESSION_OPTIONS, "Session");
    this.connection = connection;
    const { onAttach, ...windows } = options;
    try {
      this.#engine = connection.engine.createSession(compact<EngineSessionOptions>(windows));
    } catch (e) {
      throw clientError(e);
    }
    if (onAttach) {
      this.#engine.onLinkAttached = (link, attach) => {
        try {
          onAttach(attachInfo(link, attach));
        } catch {
          // A failing callback must not disturb the session (it runs in the frame handler).
        }
      };
    }
    this.incomingWindow = this.#engine.incomingWindowSize;
    this.outgoingWindow = this.#engine.outgoingWindowSize;
    this.handleMax = this.#engine.handleMax;
  }

  /** @internal */
  get engine(): AmqpSession {
    return this.#engine;
  }

  /** The error that ended the session, if any. */
  get error(): AMQPError | undefined {
    return clientError(this.#engine.error);
  }

  /** Resolves when the peer answered BEGIN. @throws the session's or connection's error if it ended first. */
  async begun(): Promise<void> {
    await inClientTerms(this.#engine.begun());
  }

  /**
   * @internal Resolves when the connection is open and the peer attached `link` (opening the
   * connection if nobody did). @throws {ClientTimeout}; {@link AMQPAbortError} (the link stays as it
   *   is: close it); the link's error if refused.
   */
  async linkAttached(link: Link, options: WaitOptions): Promise<void> {
    const { timeout, signal } = options;
    if (signal?.aborted === true) throw abortError(signal); // connects nowhere
    // The AMQP open, not a token auth's put-token: the $cbs links themselves attach meanwhile.
    const attached = Promise.all([this.connection.amqpOpened(), link.attached()]);
    await inClientTerms(bounded(attached, { timeout, signal, what: `${link.role} attach` }));
  }

  /**
   * A {@link MessageSender} to `target`, attached; our end is `options.source`, else the container id.
   * @throws the attach failure (`LinkDetach`…), {@link ClientTimeout}, `AMQPAbortError` (the link is
   *   closed then); {@link TypeError} for an unknown option.
   */
  async createSender(target: TargetLike, options: CreateSenderOptions = {}): Promise<MessageSender> {
    checkOptions(options, CREATE_SENDER_OPTIONS, "Session.createSender()");
    const { source, timeout, signal, ...senderOptions } = options;
    const ours = source ?? this.connection.containerId;
    return this.#opened({ timeout, signal }, () => new MessageSender(this, ours, target, senderOptions));
  }

  /**
   * A {@link MessageReceiver} from `source`, attached; our end is `options.target`, else the
   * container id. @throws as {@link Session.createSender}.
   */
  async createReceiver(source: SourceLike, options: CreateReceiverOptions = {}): Promise<MessageReceiver> {
    checkOptions(options, CREATE_RECEIVER_OPTIONS, "Session.createReceiver()");
    const { target, timeout, signal, ...receiverOptions } = options;
    const ours = target ?? this.connection.containerId;
    return this.#opened({ timeout, signal }, () => new MessageReceiver(this, source, ours, receiverOptions));
  }

  /** Creates a link once a token auth's token is in force, and opens it; closes it when that fails. */
  async #opened<L extends MessageSender | MessageReceiver>(wait: WaitOptions, create: () => L): Promise<L> {
    await tokenInForce(this.connection, wait);
    const link = create();
    try {
      await link.open(wait);
    } catch (e) {
      // Closed without waiting: a peer that never answered the ATTACH may not answer the DETACH
      // either (the engine gives up on it after its own bound), and the caller wants the error now.
      void link.close();
      throw e;
    }
    return link;
  }

  /**
   * Sends a management request (uamqp's `mgmt_request`) and resolves with the reply: status code,
   * description and message. Options and the link pair kept per node: docs/clients.md, "Management
   * requests".
   * @throws {ErrorResponse} for a reply status other than 2xx (unless `throwOnErrorStatus: false`);
   *   {@link ClientTimeout}; `AMQPAbortError`; `AMQPConnectionError` when the node refuses the
   *   links; {@link TypeError} for an unknown option.
   */
  async mgmtRequest(
    message: Message,
    operation: string,
    options: MgmtRequestOptions = {},
  ): Promise<MgmtResponse> {
    checkOptions(options, MGMT_REQUEST_OPTIONS, "Session.mgmtRequest()");
    return this.#mgmt.request(message, operation, options);
  }

  /** @internal The sender and receiver of a request/response pair (management/request-response.ts). */
  attachRequestPair(spec: RequestPairSpec): { readonly sender: RequestSender; readonly receiver: PairLink } {
    const sender = new MessageSender(this, spec.node, spec.node, { name: spec.senderName });
    const receiver = new MessageReceiver(this, spec.node, spec.replyTo, {
      name: spec.receiverName,
      onMessageReceived: spec.onResponse,
    });
    sender.onDetached = (error) => {
      spec.onDetached(error, "sender");
    };
    receiver.onDetached = (error) => {
      spec.onDetached(error, "receiver");
    };
    return { sender, receiver };
  }

  /** Ends the session (and its management links). Never rejects. */
  async close(): Promise<void> {
    this.#mgmt.clear();
    await this.#engine.end();
  }

  /** `await using` support: {@link Session.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
