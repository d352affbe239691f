/**
 * The request/response pattern of AMQP nodes such as `$cbs` and `$management`: one sender link to
 * the node and one receiver link from it, on one session. Each request gets a message-id of its
 * own (a ulong counter, as uamqp's management client numbers them) and the receiver's address as
 * `reply-to`; the node answers with `correlation-id` = that message-id, which routes the response
 * to its request. Any number of requests may be in flight at once.
 *
 * The one implementation of the pattern: the CBS put-token (cbs-authenticator.ts) and management
 * requests (mgmt-operation.ts) both run on it. The links come from a {@link RequestSession} (the
 * client's `Session` is one), so this layer needs nothing of the client.
 */
import { randomUUID } from "node:crypto";
import { AMQPError } from "../errors/amqp-error.js";
import { AMQPConnectionError, MessageSendFailed } from "../errors/exceptions.js";
import type { ApplicationProperties } from "../message/annotations.js";
import type { MessageBody } from "../message/body.js";
import { Message } from "../message/message.js";
import { MessageSendResult } from "../message/send-result.js";
import { bounded, type WaitOptions } from "../policy/wait.js";
import { deferred, type Deferred } from "../util/deferred.js";

/** One link of a request/response pair, as the pair uses it (the client's `MessageReceiver` is one). */
export interface PairLink {
  /** Why the link ended, if it did (sticky). */
  readonly error: AMQPError | undefined;
  /** Resolves when the peer attached the link. @throws its refusal, `ClientTimeout`, `AMQPAbortError`. */
  open(options?: WaitOptions): Promise<void>;
  /** Detaches the link. Never rejects. */
  close(): Promise<void>;
}

/** The sending link of a pair (the client's `MessageSender` is one). */
export interface RequestSender extends PairLink {
  /** Sends `message`; resolves with how the transfer ended (a delivery failure does not reject). */
  send(
    message: Message,
    options?: { readonly signal?: AbortSignal | undefined },
  ): Promise<{ readonly result: MessageSendResult; readonly error?: AMQPError | undefined }>;
}

/** The links a {@link RequestSession} attaches for a pair, and what they report. */
export interface RequestPairSpec {
  /** The node: the sender's target and the receiver's source. */
  readonly node: string;
  /** The receiver's own address (its target): the `reply-to` of every request. */
  readonly replyTo: string;
  /** The sender's link name. */
  readonly senderName: string;
  /** The receiver's link name. */
  readonly receiverName: string;
  /** Called for each message the receiver gets. */
  readonly onResponse: (message: Message) => void;
  /** Called when either link is detached (by the peer, or because its session or connection ended). */
  readonly onDetached: (error: AMQPError | undefined, link: "sender" | "receiver") => void;
}

/** What a request/response pair needs of its session: its two links. */
export interface RequestSession {
  /** Attaches the sender and the receiver of `spec` now (the ATTACHes are pipelined). @internal */
  attachRequestPair(spec: RequestPairSpec): { readonly sender: RequestSender; readonly receiver: PairLink };
}

/** The message-id (and expected correlation-id) of a request, as a map key. */
function idKey(id: unknown): string | undefined {
  if (typeof id === "bigint" || typeof id === "number") return `n:${String(id)}`;
  if (typeof id === "string") return `s:${id}`;
  // A peer answering with another integer wrapper (AMQPuLong, AMQPInt…) keeps its numeric value.
  if (typeof id === "object" && id !== null && "value" in id) return idKey(id.value);
  return undefined;
}

/** The input that rebuilds `body` with `createBody` (kind given separately). */
function bodyInput(body: MessageBody): Message["value"] {
  return body.type === "value" ? body.value : body.sections;
}

/**
 * A copy of `message` routed as a request: `messageId` and `replyTo` set, `extra` application
 * properties added (they win over the message's own). The caller's message is not changed.
 */
function routed(
  message: Message,
  messageId: number,
  replyTo: string,
  extra: ApplicationProperties | undefined,
): Message {
  return new Message({
    body: bodyInput(message.body),
    bodyType: message.bodyType,
    header: message.header,
    deliveryAnnotations: message.deliveryAnnotations,
    messageAnnotations: message.messageAnnotations,
    properties: { ...message.properties, messageId, replyTo },
    applicationProperties: extra
      ? { ...message.applicationProperties, ...extra }
      : message.applicationProperties,
    footer: message.footer,
  });
}

/** Options of {@link RequestResponseLink.request}. */
export interface RequestOptions extends WaitOptions {
  /** Application properties added to the request (`operation`, `type`…). */
  readonly applicationProperties?: ApplicationProperties | undefined;
  /** Names the request in a timeout's message, e.g. `"put-token"`. @defaultValue "request" */
  readonly what?: string | undefined;
}

/**
 * One sender/receiver link pair to a request/response node, with the requests waiting for their
 * response. Any failure of either link (refused, detached, its session or connection gone) fails
 * every pending request and every later one with that error: the pair is then dead for good, and
 * its owner makes a new one.
 * @internal
 */
export class RequestResponseLink {
  /** The node: `$cbs`, `$management`… */
  readonly node: string;
  /** Our receiver's address: the `reply-to` of every request. */
  readonly replyTo: string;
  readonly #sender: RequestSender;
  readonly #receiver: PairLink;
  readonly #pending = new Map<string, Deferred<Message>>();
  #nextId = 0;
  /** Why the pair is dead (sticky). */
  #error: AMQPError | undefined;
  #closed = false;

  /**
   * Attaches the pair on `session` now (the ATTACHes are pipelined); {@link open} waits for them.
   * @param node - the node's address, e.g. `$management`
   */
  constructor(session: RequestSession, node: string) {
    this.node = node;
    const suffix = randomUUID();
    this.replyTo = `${node}-reply-${suffix}`;
    const { sender, receiver } = session.attachRequestPair({
      node,
      replyTo: this.replyTo,
      senderName: `${node}-sender-${suffix}`,
      receiverName: `${node}-receiver-${suffix}`,
      onResponse: (m) => {
        this.#onResponse(m);
      },
      onDetached: (error, link) => {
        this.#die(error, link);
      },
    });
    this.#sender = sender;
    this.#receiver = receiver;
  }

  /** Why the pair is dead, if it is. */
  get error(): AMQPError | undefined {
    return this.#error;
  }

  /** Whether requests can still be made (not failed, not closed). */
  get usable(): boolean {
    return this.#error === undefined && !this.#closed;
  }

  /** Requests waiting for their response. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Resolves when the peer attached both links.
   * @throws the refusal (`LinkDetach`…), `ClientTimeout` after `timeout`, `AMQPAbortError`.
   */
  async open(options: WaitOptions = {}): Promise<void> {
    try {
      await Promise.all([this.#sender.open(options), this.#receiver.open(options)]);
    } catch (e) {
      const error = e instanceof AMQPError ? e : new AMQPConnectionError(String(e), { cause: e });
      // An abort or a timeout of this wait leaves the links as they are; a refusal kills the pair.
      if (this.#sender.error ?? this.#receiver.error) this.#die(error, "open");
      throw error;
    }
  }

  /**
   * Sends `message` as a request (a copy with its own message-id and reply-to) and resolves with
   * the response. `timeout` (ms) bounds the wait for the response.
   * @throws {ClientTimeout} without a response within `timeout`; {@link AMQPAbortError}; the
   *   error that killed the pair; a `MessageSendFailed` (or the outcome's error) when the node
   *   refused the request message itself.
   */
  async request(message: Message, options: RequestOptions = {}): Promise<Message> {
    if (this.#error) throw this.#error;
    if (this.#closed)
      throw new AMQPConnectionError(`the ${this.node} link pair is closed`, { retryable: true });
    const id = this.#nextId++;
    const key = idKey(id)!;
    const reply = deferred<Message>();
    reply.promise.catch(() => undefined);
    this.#pending.set(key, reply);
    const out = routed(message, id, this.replyTo, options.applicationProperties);
    const sent = this.#sender.send(out, options.signal ? { signal: options.signal } : {});
    void sent.then((outcome) => {
      if (outcome.result === MessageSendResult.Ok || !this.#pending.has(key)) return;
      reply.reject(
        outcome.error ??
          new MessageSendFailed(`the ${this.node} request was not accepted`, { retryable: true }),
      );
    });
    try {
      return await bounded(reply.promise, {
        timeout: options.timeout,
        signal: options.signal,
        what: `${options.what ?? "request"} on ${this.node}`,
      });
    } finally {
      this.#pending.delete(key);
    }
  }

  /** A response arrived: settle it and hand it to its request (an unknown one is dropped). */
  #onResponse(m: Message): void {
    m.accept().catch(() => undefined);
    const key = idKey(m.properties?.correlationId);
    const waiting = key === undefined ? undefined : this.#pending.get(key);
    if (!waiting) return;
    this.#pending.delete(key!);
    waiting.resolve(m);
  }

  /** Either link failed: the pair is dead; every pending request fails with the error. */
  #die(error: AMQPError | undefined, which: string): void {
    if (this.#closed) return;
    this.#error ??=
      error ??
      new AMQPConnectionError(`the ${this.node} ${which} link was detached`, {
        condition: "amqp:link:detach-forced",
        retryable: true,
      });
    const e = this.#error;
    for (const d of this.#pending.values()) d.reject(e);
    this.#pending.clear();
  }

  /** Detaches both links; pending requests fail with `AMQPConnectionError`. Never rejects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const error = new AMQPConnectionError(`the ${this.node} link pair was closed`, { retryable: true });
    for (const d of this.#pending.values()) d.reject(error);
    this.#pending.clear();
    this.#closed = true;
    await Promise.all([this.#sender.close(), this.#receiver.close()]);
  }
}

/** The status of a response, read from its application properties. */
export interface ResponseStatus {
  /** The status code (HTTP style); undefined when the response has none. */
  readonly statusCode: number | undefined;
  /** The status description, if any. */
  readonly description: string | undefined;
}

/** A status code as a number: an int, a long (bigint), a wrapped integer or a numeric string. */
function statusNumber(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && /^\d+$/.test(v.trim())) return Number(v.trim());
  if (typeof v === "object" && v !== null && "value" in v) return statusNumber(v.value);
  return undefined;
}

/**
 * The status of `response`: the code from the first of `codeFields` it carries, the description
 * from the first of `descriptionFields` (Azure's `$cbs` and Event Hubs answer `status-code` /
 * `status-description`, Service Bus's `$management` `statusCode` / `statusDescription`).
 * @internal
 */
export function responseStatus(
  response: Message,
  codeFields: readonly string[],
  descriptionFields: readonly string[],
): ResponseStatus {
  const app = response.applicationProperties ?? {};
  let statusCode: number | undefined;
  for (const f of codeFields) {
    statusCode = statusNumber(app[f]);
    if (statusCode !== undefined) break;
  }
  let description: string | undefined;
  for (const f of descriptionFields) {
    const v = app[f];
    if (typeof v === "string") {
      description = v;
      break;
    }
  }
  return { statusCode, description };
}

/** Whether `code` is a success (2xx). @internal */
export function isSuccess(code: number | undefined): boolean {
  return code !== undefined && code >= 200 && code < 300;
}
