/**
 * Options of the high-level clients (uamqp's `AMQPClient`, `SendClient`, `ReceiveClient` kwargs),
 * camelCase, every duration in milliseconds. One source of truth for the documented defaults.
 */
import type { AMQPAuth, TransportOptions } from "../auth/amqp-auth.js";
import type { Source, Target } from "../address/index.js";
import type { AMQPValue } from "../codec/values.js";
import type { AMQPError } from "../errors/amqp-error.js";
import type { BackoffOptions } from "../policy/backoff.js";
import type { ErrorPolicy } from "../policy/error-policy.js";
import type { Message } from "../message/message.js";
import type { Connection } from "./connection.js";
import type { ReceiverSettleMode, SenderSettleMode } from "./link-states.js";
import type { SettleMode } from "./settle-confirm.js";

/**
 * Called for every ATTACH the peer sends for the client's link (uamqp's `on_attach(source, target,
 * properties, error)`). `error` is set when the peer's ATTACH lacks the terminus it must carry
 * (a refusal; the DETACH that follows rejects the pending open).
 */
export type OnAttach = (
  source: Source | undefined,
  target: Target | undefined,
  properties: Readonly<Record<string, unknown>> | undefined,
  error: AMQPError | undefined,
) => void;

/**
 * Automatic recovery (beyond uamqp): after a dropped connection or a link detached with a retryable
 * condition, the client reconnects and re-attaches with exponential backoff and jitter, then resends
 * every message whose outcome it had not received (at-least-once).
 */
export interface ReconnectOptions extends BackoffOptions {
  /**
   * Attempts before the client gives up and fails every pending call with the last error. The count
   * starts over once the recovered link makes progress (an outcome or a message arrives), or after
   * 30 s without a failure.
   * @defaultValue 8
   */
  readonly maxAttempts?: number | undefined;
  /** Bound on each attempt (connect, SASL, OPEN, BEGIN, ATTACH), in milliseconds. @defaultValue 30000 */
  readonly attemptTimeout?: number | undefined;
}

/** The defaults of {@link ReconnectOptions} (`initialMs`/`maxMs` differ from the policy module's). */
export const DEFAULT_RECONNECT = {
  maxAttempts: 8,
  attemptTimeout: 30_000,
  initialMs: 200,
  maxMs: 15_000,
} as const;

/** Options of {@link AMQPClient} (uamqp's `AMQPClient` kwargs). */
export interface AMQPClientOptions {
  /**
   * Authentication and transport. Without it: SASL PLAIN with the URL's credentials when it has
   * some, else SASL ANONYMOUS; `amqp://` is plain TCP (port 5672), `amqps://` TLS (5671), `ws://` /
   * `wss://` WebSocket; a port in the URL wins. A given auth whose transport leaves `tls`, `port` or
   * `type` unset gets them from the URL too.
   */
  readonly auth?: AMQPAuth | undefined;
  /** Extra transport settings (TLS `ca`, `connectTimeoutMs`…) for the auth built from the URL. */
  readonly transport?: TransportOptions | undefined;
  /** Container id of the connection; also the link's own terminus address. @defaultValue a uuid */
  readonly clientName?: string | undefined;
  /** Network trace: every frame in and out through the logger at info level (secrets redacted). */
  readonly debug?: boolean | undefined;
  /** The spec's name of `debug`. */
  readonly networkTrace?: boolean | undefined;
  /** Decides retries of messages and recovery of links and connections. @defaultValue new ErrorPolicy() */
  readonly errorPolicy?: ErrorPolicy | undefined;
  /**
   * Accepted for uamqp compatibility (milliseconds here, seconds in uamqp) and otherwise ignored:
   * heartbeats are sent automatically from the peer's idle-time-out.
   */
  readonly keepAliveInterval?: number | undefined;
  /** The spec's name of `keepAliveInterval` (ms). */
  readonly keepAliveIntervalMs?: number | undefined;
  /** Largest frame we accept. @defaultValue 65536 */
  readonly maxFrameSize?: number | undefined;
  /** Highest channel (session) number. @defaultValue 65535 */
  readonly channelMax?: number | undefined;
  /** Our idle-time-out (ms); 0 = none. @defaultValue 0 */
  readonly idleTimeout?: number | undefined;
  /** The spec's name of `idleTimeout` (ms). */
  readonly idleTimeoutMs?: number | undefined;
  /** OPEN properties. */
  readonly properties?: Record<string, AMQPValue> | undefined;
  /** The spec's name of `properties` (the connection's OPEN properties). */
  readonly connectionProperties?: Record<string, AMQPValue> | undefined;
  /** Heartbeats at the peer's idle-time-out × this ratio. @defaultValue 0.5 */
  readonly remoteIdleTimeoutEmptyFrameSendRatio?: number | undefined;
  /** Session incoming window (transfer frames). @defaultValue 65536 */
  readonly incomingWindow?: number | undefined;
  /** Session outgoing window (transfer frames). @defaultValue 65536 */
  readonly outgoingWindow?: number | undefined;
  /** Highest link handle of the session. @defaultValue 4294967295 */
  readonly handleMax?: number | undefined;
  /** See {@link OnAttach}. */
  readonly onAttach?: OnAttach | undefined;
  /** Desired capabilities of the client's link (symbols), e.g. `com.microsoft:enable-receiver-runtime-metric`. */
  readonly desiredCapabilities?: string[] | undefined;
  /** Largest message on the client's link (bytes). @defaultValue 1048576 */
  readonly maxMessageSize?: number | undefined;
  /** ATTACH properties of the client's link. */
  readonly linkProperties?: Record<string, AMQPValue> | undefined;
  /** Bound on `open()` (connect, SASL, OPEN, BEGIN, ATTACH), in milliseconds. @defaultValue 30000 */
  readonly openTimeout?: number | undefined;
  /** Same as `openTimeout` (ms). */
  readonly openTimeoutMs?: number | undefined;
  /** Automatic recovery; `false` surfaces the first connection or link error instead. @defaultValue enabled */
  readonly reconnect?: boolean | ReconnectOptions | undefined;
}

/** Options of {@link AMQPClient.open}. */
export interface OpenOptions {
  /** Run on this connection (shared with other clients; closing the client leaves it open). */
  readonly connection?: Connection | undefined;
  /** Stops this call's wait (rejects with an `AMQPAbortError`); the open stops when no call waits. */
  readonly signal?: AbortSignal | undefined;
  /** Bound on the open (ms). @defaultValue the client's `openTimeout` (30000) */
  readonly timeout?: number | undefined;
  /** The spec's name of `timeout` (ms). */
  readonly timeoutMs?: number | undefined;
}

/** Options of {@link SendClient} (uamqp's `SendClient` kwargs). */
export interface SendClientOptions extends AMQPClientOptions {
  /**
   * Deadline of each message from the moment it is queued, retries included (ms); 0 = none. An
   * expired message fails with a timeout and is not retried. @defaultValue 0
   */
  readonly msgTimeout?: number | undefined;
  /** The spec's name of `msgTimeout` (ms). */
  readonly msgTimeoutMs?: number | undefined;
  /** `Settled` sends messages pre-settled (at most once, no outcome). @defaultValue SenderSettleMode.Unsettled */
  readonly sendSettleMode?: SenderSettleMode | undefined;
  /** Messages transferred and waiting for their outcome at once (pipelining). @defaultValue 1000 */
  readonly maxInFlight?: number | undefined;
}

/** Options of {@link ReceiveClient} (uamqp's `ReceiveClient` kwargs). */
export interface ReceiveClientOptions extends AMQPClientOptions {
  /**
   * Inactivity timeout (ms): a receive call ends when no message arrived for this long; 0 = never.
   * @defaultValue 0
   */
  readonly timeout?: number | undefined;
  /** The spec's name of the inactivity `timeout` (ms). */
  readonly inactivityTimeoutMs?: number | undefined;
  /**
   * Close the client when the inactivity timeout (`timeout`, ms) is reached (later receives reject with
   * `AMQPClientShutdown`); otherwise the same client and link stay usable. @defaultValue true
   */
  readonly shutdownAfterTimeout?: boolean | undefined;
  /**
   * Accept each message when the application receives it (batch returned, iterator advanced, handler
   * completed). @defaultValue true
   */
  readonly autoComplete?: boolean | undefined;
  /** Messages buffered ahead of the application: link credit never exceeds what fits. @defaultValue 300 */
  readonly prefetch?: number | undefined;
  /** PeekLock (at least once) or ReceiveAndDelete (at most once). @defaultValue ReceiverSettleMode.PeekLock */
  readonly receiveSettleMode?: ReceiverSettleMode | undefined;
  /**
   * How `accept()`, `reject()`, `release()` and `modify()` complete (beyond uamqp, whose
   * dispositions are fire-and-forget). `"local"`: they resolve `true` once the settled disposition
   * is queued. `"confirm"`: the link asks for receiver-settle-mode `second` and they resolve `true`
   * only when the peer settled the delivery with that outcome; they reject with
   * `MessageSettleFailed` when it settled it otherwise (`condition` e.g.
   * `com.microsoft:message-lock-lost`), or with the link's error when the link or connection was
   * lost first. A peer that answers the ATTACH with mode `first` gets settled dispositions and the
   * promises resolve on send, as in `"local"`. `autoComplete` settlements never reject unhandled.
   * PeekLock only: `"confirm"` with ReceiveAndDelete throws a RangeError.
   *
   * @example
   * ```ts
   * const client = new ReceiveClient(url, { settleMode: "confirm", autoComplete: false });
   * for await (const m of client) {
   *   try { await m.accept(); } // resolved: the broker has completed the message
   *   catch (e) { if (e instanceof MessageSettleFailed) console.log(e.condition); }
   * }
   * ```
   * @defaultValue "local"
   */
  readonly settleMode?: SettleMode | undefined;
}

/** Where a reconnect option resolves to. */
export interface ResolvedReconnect {
  readonly enabled: boolean;
  readonly maxAttempts: number;
  readonly attemptTimeout: number;
  readonly backoff: BackoffOptions;
}

/** Fills in the defaults of the `reconnect` option. */
export function resolveReconnect(option: boolean | ReconnectOptions | undefined): ResolvedReconnect {
  const o = typeof option === "object" ? option : {};
  const maxAttempts = o.maxAttempts ?? DEFAULT_RECONNECT.maxAttempts;
  if (!(Number.isInteger(maxAttempts) || maxAttempts === Infinity) || maxAttempts < 0) {
    throw new RangeError(`reconnect.maxAttempts must be an integer >= 0, got ${maxAttempts}`);
  }
  return {
    enabled: option !== false,
    maxAttempts,
    attemptTimeout: o.attemptTimeout ?? DEFAULT_RECONNECT.attemptTimeout,
    backoff: {
      initialMs: o.initialMs ?? DEFAULT_RECONNECT.initialMs,
      maxMs: o.maxMs ?? DEFAULT_RECONNECT.maxMs,
      ...(o.multiplier !== undefined ? { multiplier: o.multiplier } : {}),
      ...(o.jitter !== undefined ? { jitter: o.jitter } : {}),
      ...(o.random !== undefined ? { random: o.random } : {}),
    },
  };
}

/** @internal `o` without its undefined properties (for `exactOptionalPropertyTypes` option objects). */
export function compact<T extends object>(o: { [K in keyof T]?: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** Options of `ReceiveClient.receiveMessageBatch`. */
export interface ReceiveBatchOptions {
  /** Most messages returned. At most `prefetch`. @defaultValue the client's `prefetch` */
  readonly maxBatchSize?: number | undefined;
  /** Give up after this many ms and resolve `[]`; 0 = wait for at least one message. @defaultValue 0 */
  readonly timeout?: number | undefined;
  /** The spec's name of `timeout` (ms). */
  readonly timeoutMs?: number | undefined;
  /** Stops waiting: the call rejects with an `AMQPAbortError`. */
  readonly signal?: AbortSignal | undefined;
  /** Called for each message of the batch before it is returned (a throw settles it modified). */
  readonly onMessage?: ((message: Message) => void) | undefined;
}

/** Options of the streaming receives. */
export interface ReceiveStreamOptions {
  /** Stops the stream: `receiveMessages()` rejects, the iterator throws, with an `AMQPAbortError`. */
  readonly signal?: AbortSignal | undefined;
}

/** A message handler of `ReceiveClient.receiveMessages`. */
export type MessageHandler = (message: Message) => void | Promise<void>;
