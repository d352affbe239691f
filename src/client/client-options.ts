/**
 * Every options object of the client layer, each with one table of its known names for
 * {@link checkOptions} (docs/clients.md, "Option names"), and the defaults.
 */
import type { AMQPAuth, TransportOptions } from "../auth/amqp-auth.js";
import type { ConnectionStringOptions } from "../auth/connection-string.js";
import type { Source, Target } from "../address/index.js";
import type { AMQPValue } from "../codec/values.js";
import type { AMQPError } from "../errors/amqp-error.js";
import type { Message } from "../message/message.js";
import type { ErrorPolicy } from "../policy/error-policy.js";
import type { ReconnectOptions } from "../policy/reconnect.js";
import { WAIT_OPTIONS, type WaitOptions } from "../policy/wait.js";
import { optionsError as unknownOptionError, type OptionNames } from "../util/options.js";
import type { ReceiverSettleMode, SenderSettleMode } from "./link-states.js";
import type { SettleMode } from "./settle-confirm.js";
import type { SourceLike, TargetLike } from "../address/termini.js";

/** The documented defaults of the client layer (ms): nothing waits or holds without bound. */
export const DEFAULTS = {
  /** Bound on `AMQPClient.open()`, the transport's `connectTimeoutMs` and a recovery's `attemptTimeout`. */
  openTimeout: 30_000,
  /** Bound on closing a connection or session under a client, and on its link's DETACH. */
  closeGrace: 5000,
  /** Largest frame we accept. */
  maxFrameSize: 65_536,
  /** Largest message on a link. */
  maxMessageSize: 1_048_576,
  /** Messages buffered ahead of the application (`ReceiveClient`, `MessageReceiver`). */
  prefetch: 300,
  /** Messages in flight at once (`SendClient`). */
  maxInFlight: 1000,
  /** Deadline of each message of a `SendClient`, from the moment it is queued, retries included. */
  msgTimeout: 60_000,
  /** Messages a `SendClient` holds at once (queued, in flight, or waiting to be retried). */
  maxPendingMessages: 100_000,
  /** Encoded bytes of the messages a `SendClient` holds at once (64 MiB). */
  maxPendingBytes: 64 * 1024 * 1024,
} as const;

/** Options renamed when every option got one name: their error names the option that replaced them. */
const RENAMED: Readonly<Record<string, string>> = {
  networkTrace: "debug",
  connectionProperties: "properties",
  inactivityTimeoutMs: "timeout",
};

/** The error of an unknown option (util/options.ts), naming what replaced a renamed one. @internal */
export function optionsError<T>(
  options: T | undefined,
  names: OptionNames<T>,
  owner: string,
): TypeError | undefined {
  return unknownOptionError(options, names, owner, RENAMED);
}

/** Checks a client's `options`. @throws {TypeError} for an unknown option. @internal */
export function checkOptions<T>(options: T | undefined, names: OptionNames<T>, owner: string): void {
  const error = optionsError(options, names, owner);
  if (error) throw error;
}

/** Options of a `Connection` (uamqp's Connection kwargs). */
export interface ConnectionOptions {
  /** Container id sent in OPEN. @defaultValue a random uuid */
  readonly containerId?: string | undefined;
  /** Largest frame we accept. @defaultValue 65536 */
  readonly maxFrameSize?: number | undefined;
  /** Highest channel (session) number. @defaultValue 65535 */
  readonly channelMax?: number | undefined;
  /** Our idle time-out (ms): the peer must send something this often; 0 = none. @defaultValue 0 */
  readonly idleTimeout?: number | undefined;
  /** OPEN properties. */
  readonly properties?: Record<string, AMQPValue> | undefined;
  /** Heartbeats at the peer's idle-time-out × this ratio. @defaultValue 0.5 */
  readonly remoteIdleTimeoutEmptyFrameSendRatio?: number | undefined;
  /** Capabilities offered in OPEN (symbols). @defaultValue none */
  readonly offeredCapabilities?: string[] | undefined;
  /** Capabilities desired in OPEN (symbols). @defaultValue none */
  readonly desiredCapabilities?: string[] | undefined;
  /** Network trace: every frame in and out, logged at info level (secrets redacted). */
  readonly debug?: boolean | undefined;
  /** Bound on the wait for the peer's CLOSE in `close()`, in milliseconds. @defaultValue 5000 */
  readonly closeTimeoutMs?: number | undefined;
}
export const CONNECTION_OPTIONS: OptionNames<ConnectionOptions> = {
  containerId: true,
  maxFrameSize: true,
  channelMax: true,
  idleTimeout: true,
  properties: true,
  remoteIdleTimeoutEmptyFrameSendRatio: true,
  offeredCapabilities: true,
  desiredCapabilities: true,
  debug: true,
  closeTimeoutMs: true,
};

/** What the peer attached (uamqp's `on_attach` arguments). */
export interface AttachInfo {
  /** Name of the link. */
  readonly linkName: string;
  /** Our role on the link (`sender` for a `MessageSender`). */
  readonly role: "sender" | "receiver";
  /** The source in the peer's ATTACH. */
  readonly source: Source | undefined;
  /** The target in the peer's ATTACH (undefined also for a coordinator target). */
  readonly target: Target | undefined;
  /** The peer's ATTACH properties. */
  readonly properties: Record<string, AMQPValue> | undefined;
  /** Set when the peer's ATTACH lacks the terminus it must carry: a refusal (see {@link OnAttach}). */
  readonly error: AMQPError | undefined;
}

/** Options of a `Session`. */
export interface SessionOptions {
  /** Transfer frames accepted before the window is reopened. @defaultValue 65536 */
  readonly incomingWindow?: number | undefined;
  /** Outgoing window announced in BEGIN (transfer frames). @defaultValue 65536 */
  readonly outgoingWindow?: number | undefined;
  /** Highest link handle of the session. @defaultValue 4294967295 */
  readonly handleMax?: number | undefined;
  /** The peer's ATTACH of a link of this session (uamqp's `on_attach`); a throw is ignored. */
  readonly onAttach?: ((info: AttachInfo) => void) | undefined;
}
export const SESSION_OPTIONS: OptionNames<SessionOptions> = {
  incomingWindow: true,
  outgoingWindow: true,
  handleMax: true,
  onAttach: true,
};

/** Options of a `MessageSender` (uamqp kwargs). */
export interface MessageSenderOptions {
  /** Link name. @defaultValue a random name */
  readonly name?: string | undefined;
  /** `Settled` sends pre-settled (no outcome). @defaultValue SenderSettleMode.Unsettled */
  readonly sendSettleMode?: SenderSettleMode | undefined;
  /** Kept for uamqp parity; the ATTACH always asks for `first`. @defaultValue ReceiverSettleMode.PeekLock */
  readonly receiveSettleMode?: ReceiverSettleMode | undefined;
  /** Largest message this link sends (bytes). @defaultValue 1048576 */
  readonly maxMessageSize?: number | undefined;
  /** ATTACH properties of the link. @defaultValue none */
  readonly properties?: Record<string, AMQPValue> | undefined;
  /** Desired capabilities of the link (symbols). @defaultValue none */
  readonly desiredCapabilities?: string[] | undefined;
}
export const MESSAGE_SENDER_OPTIONS: OptionNames<MessageSenderOptions> = {
  name: true,
  sendSettleMode: true,
  receiveSettleMode: true,
  maxMessageSize: true,
  properties: true,
  desiredCapabilities: true,
};

/** Options of `MessageSender.send`. */
export interface SendOptions extends WaitOptions {
  /** Send this message pre-settled (only on a link whose sender settle mode is `Mixed`). */
  readonly settled?: boolean | undefined;
}
export const SEND_OPTIONS: OptionNames<SendOptions> = { ...WAIT_OPTIONS, settled: true };

/** Options of a `MessageReceiver`. */
export interface MessageReceiverOptions {
  /** Called for each received message, in order. A throw settles it modified(failed, undeliverable). */
  readonly onMessageReceived?: ((message: Message) => void) | undefined;
  /** Link name. @defaultValue a random name */
  readonly name?: string | undefined;
  /** PeekLock (settle each message) or ReceiveAndDelete (pre-settled). @defaultValue ReceiverSettleMode.PeekLock */
  readonly receiveSettleMode?: ReceiverSettleMode | undefined;
  /** Largest message accepted (bytes); bigger ones detach the link. @defaultValue 1048576 */
  readonly maxMessageSize?: number | undefined;
  /** Credit kept outstanding (topped up when half was used); 0 = manual credit. @defaultValue 300 */
  readonly prefetch?: number | undefined;
  /** `"manual"` is `prefetch: 0` (`resetLinkCredit()` / `addCredit()`). @defaultValue "auto" */
  readonly creditMode?: "auto" | "manual" | undefined;
  /** ATTACH properties of the link. @defaultValue none */
  readonly properties?: Record<string, AMQPValue> | undefined;
  /** Desired capabilities of the link (symbols). @defaultValue none */
  readonly desiredCapabilities?: string[] | undefined;
  /** When settlements complete ({@link SettleMode}); `"confirm"` is PeekLock only. @defaultValue "local" */
  readonly settleMode?: SettleMode | undefined;
}
export const MESSAGE_RECEIVER_OPTIONS: OptionNames<MessageReceiverOptions> = {
  onMessageReceived: true,
  name: true,
  receiveSettleMode: true,
  maxMessageSize: true,
  prefetch: true,
  creditMode: true,
  properties: true,
  desiredCapabilities: true,
  settleMode: true,
};

/** Options of `Session.createSender`: the sender's options, our end of the link, and the wait. */
export interface CreateSenderOptions extends MessageSenderOptions, WaitOptions {
  /** Our end of the link. @defaultValue the connection's container id */
  readonly source?: SourceLike;
}
export const CREATE_SENDER_OPTIONS: OptionNames<CreateSenderOptions> = {
  ...MESSAGE_SENDER_OPTIONS,
  ...WAIT_OPTIONS,
  source: true,
};

/** Options of `Session.createReceiver`: the receiver's options, our end of the link, and the wait. */
export interface CreateReceiverOptions extends MessageReceiverOptions, WaitOptions {
  /** Our end of the link. @defaultValue the connection's container id */
  readonly target?: TargetLike;
}
export const CREATE_RECEIVER_OPTIONS: OptionNames<CreateReceiverOptions> = {
  ...MESSAGE_RECEIVER_OPTIONS,
  ...WAIT_OPTIONS,
  target: true,
};

/** Options of `MessageReceiver.resetLinkCredit`. */
export interface ResetCreditOptions {
  /** Ask the sender to use up or give back the credit (drain). @defaultValue false */
  readonly drain?: boolean | undefined;
}
export const RESET_CREDIT_OPTIONS: OptionNames<ResetCreditOptions> = { drain: true };

/**
 * The peer's ATTACH of the client's link (uamqp's `on_attach`). `error` is set when it lacks the
 * terminus it must carry: a refusal, whose DETACH then rejects the open.
 */
export type OnAttach = (
  source: Source | undefined,
  target: Target | undefined,
  properties: Readonly<Record<string, unknown>> | undefined,
  error: AMQPError | undefined,
) => void;

/** Options of `AMQPClient` (uamqp's kwargs), some of {@link ConnectionOptions} and {@link SessionOptions}. */
export interface AMQPClientOptions
  extends
    Pick<
      ConnectionOptions,
      | "maxFrameSize"
      | "channelMax"
      | "idleTimeout"
      | "properties"
      | "remoteIdleTimeoutEmptyFrameSendRatio"
      | "debug"
    >,
    Pick<SessionOptions, "incomingWindow" | "outgoingWindow" | "handleMax"> {
  /** Authentication and transport (docs/clients.md). @defaultValue built from the URL */
  readonly auth?: AMQPAuth | undefined;
  /** Extra transport settings (TLS `ca`, `connectTimeoutMs`…) for the auth built from the URL. */
  readonly transport?: TransportOptions | undefined;
  /** Container id of the connection; also the link's own terminus address. @defaultValue a uuid */
  readonly clientName?: string | undefined;
  /** Decides retries of messages and recovery of links and connections. @defaultValue new ErrorPolicy() */
  readonly errorPolicy?: ErrorPolicy | undefined;
  /** Accepted for uamqp compatibility and ignored: heartbeats follow the peer's idle-time-out. */
  readonly keepAliveInterval?: number | undefined;
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
  /** Automatic recovery; `false` surfaces the first connection or link error instead. @defaultValue enabled */
  readonly reconnect?: boolean | ReconnectOptions | undefined;
}
export const AMQP_CLIENT_OPTIONS: OptionNames<AMQPClientOptions> = {
  auth: true,
  transport: true,
  clientName: true,
  debug: true,
  errorPolicy: true,
  keepAliveInterval: true,
  maxFrameSize: true,
  channelMax: true,
  idleTimeout: true,
  properties: true,
  remoteIdleTimeoutEmptyFrameSendRatio: true,
  incomingWindow: true,
  outgoingWindow: true,
  handleMax: true,
  onAttach: true,
  desiredCapabilities: true,
  maxMessageSize: true,
  linkProperties: true,
  openTimeout: true,
  reconnect: true,
};

/** Options of `SendClient` (uamqp's `SendClient` kwargs); its link's as in `MessageSender`. */
export interface SendClientOptions extends AMQPClientOptions, Pick<MessageSenderOptions, "sendSettleMode"> {
  /**
   * Deadline of each message from the moment it is queued, retries included (ms): it then fails with
   * `ClientTimeout`. 0 = none (uamqp's default). @defaultValue 60000
   */
  readonly msgTimeout?: number | undefined;
  /** Messages transferred and waiting for their outcome at once (pipelining). @defaultValue 1000 */
  readonly maxInFlight?: number | undefined;
  /**
   * Most messages pending at once; beyond it a call throws `PendingLimitExceeded` (docs/clients.md,
   * "Bounded pending messages"). An integer >= 1, or `Infinity`. @defaultValue 100000
   */
  readonly maxPendingMessages?: number | undefined;
  /**
   * Most encoded bytes pending at once, as `maxPendingMessages`; an empty queue always lets a call
   * in. An integer >= 1, or `Infinity`. @defaultValue 67108864 (64 MiB)
   */
  readonly maxPendingBytes?: number | undefined;
}
export const SEND_CLIENT_OPTIONS: OptionNames<SendClientOptions> = {
  ...AMQP_CLIENT_OPTIONS,
  msgTimeout: true,
  sendSettleMode: true,
  maxInFlight: true,
  maxPendingMessages: true,
  maxPendingBytes: true,
};

/** Options of `SendClient.waitForRoom()`: the room waited for, and the bound of the wait. */
export interface WaitForRoomOptions extends WaitOptions {
  /** Messages that must fit. @defaultValue 1 */
  readonly messages?: number | undefined;
  /** Encoded bytes that must fit (e.g. a message's `encodedSize`). @defaultValue 0 */
  readonly bytes?: number | undefined;
}
export const WAIT_FOR_ROOM_OPTIONS: OptionNames<WaitForRoomOptions> = {
  ...WAIT_OPTIONS,
  messages: true,
  bytes: true,
};

/** Options of `ReceiveClient` (uamqp's `ReceiveClient` kwargs); its link's as in `MessageReceiver`. */
export interface ReceiveClientOptions
  extends AMQPClientOptions, Pick<MessageReceiverOptions, "receiveSettleMode" | "settleMode"> {
  /** A receive call ends after this many ms without a message; 0 = never. @defaultValue 0 */
  readonly timeout?: number | undefined;
  /** Close the client when the inactivity timeout is reached (else it stays usable). @defaultValue true */
  readonly shutdownAfterTimeout?: boolean | undefined;
  /** Accept each message when the application has received it. @defaultValue true */
  readonly autoComplete?: boolean | undefined;
  /** Messages buffered ahead of the application: link credit never exceeds what fits. @defaultValue 300 */
  readonly prefetch?: number | undefined;
}
export const RECEIVE_CLIENT_OPTIONS: OptionNames<ReceiveClientOptions> = {
  ...AMQP_CLIENT_OPTIONS,
  timeout: true,
  shutdownAfterTimeout: true,
  autoComplete: true,
  prefetch: true,
  receiveSettleMode: true,
  settleMode: true,
};

/** Options of `SendClient.sendAllMessages` and `SendClient.sendMessage`. */
export interface SendCallOptions {
  /** Close the client when the call is done. @defaultValue true for `sendAllMessages`, false for `sendMessage` */
  readonly closeOnDone?: boolean | undefined;
  /** Stops waiting; messages of the call not transferred yet are cancelled (`sendMessage`). */
  readonly signal?: AbortSignal | undefined;
}
export const SEND_CALL_OPTIONS: OptionNames<SendCallOptions> = { closeOnDone: true, signal: true };

/** Options of `ReceiveClient.receiveMessageBatch`. */
export interface ReceiveBatchOptions {
  /** Most messages returned. At most `prefetch`. @defaultValue the client's `prefetch` */
  readonly maxBatchSize?: number | undefined;
  /** Give up after this many ms and resolve `[]`; 0 = wait for at least one message. @defaultValue 0 */
  readonly timeout?: number | undefined;
  /** Stops waiting: the call rejects with an `AMQPAbortError`. */
  readonly signal?: AbortSignal | undefined;
  /** Called for each message of the batch before it is returned (a throw settles it modified). */
  readonly onMessage?: ((message: Message) => void) | undefined;
}
export const RECEIVE_BATCH_OPTIONS: OptionNames<ReceiveBatchOptions> = {
  maxBatchSize: true,
  timeout: true,
  signal: true,
  onMessage: true,
};

/** Options of the streaming receives. */
export interface ReceiveStreamOptions {
  /** Stops the stream: `receiveMessages()` rejects, the iterator throws, with an `AMQPAbortError`. */
  readonly signal?: AbortSignal | undefined;
}

/** A message handler of `ReceiveClient.receiveMessages`. */
export type MessageHandler = (message: Message) => void | Promise<void>;

/** Options of `sendMessage`: the client's options plus an abort signal. */
export interface SendMessageOptions extends SendClientOptions {
  /** Stops the call: unsent messages are cancelled and the call rejects with an `AMQPAbortError`. */
  readonly signal?: AbortSignal | undefined;
}
export const SEND_MESSAGE_OPTIONS: OptionNames<SendMessageOptions> = { ...SEND_CLIENT_OPTIONS, signal: true };

/** Options of `receiveMessage`. */
export interface ReceiveMessageOptions extends Omit<ReceiveClientOptions, "timeout"> {
  /** Give up after this many ms and resolve `undefined`; 0 = wait for a message. @defaultValue 0 */
  readonly timeout?: number | undefined;
  /** Stops the call: it rejects with an `AMQPAbortError`. */
  readonly signal?: AbortSignal | undefined;
}
export const RECEIVE_MESSAGE_OPTIONS: OptionNames<ReceiveMessageOptions> = {
  ...RECEIVE_CLIENT_OPTIONS,
  signal: true,
};

/** Options of `receiveMessages`. */
export interface ReceiveMessagesOptions extends ReceiveMessageOptions {
  /** Most messages returned; also the client's `prefetch`. @defaultValue the `prefetch` option, else 300 */
  readonly maxBatchSize?: number | undefined;
}
export const RECEIVE_MESSAGES_OPTIONS: OptionNames<ReceiveMessagesOptions> = {
  ...RECEIVE_MESSAGE_OPTIONS,
  maxBatchSize: true,
};

/** Options of `AMQPClient.fromConnectionString()`. */
export type AMQPClientConnectionStringOptions = Omit<AMQPClientOptions, "auth"> & ConnectionStringOptions;
/** Options of `SendClient.fromConnectionString()`. */
export type SendClientConnectionStringOptions = Omit<SendClientOptions, "auth"> & ConnectionStringOptions;
/** Options of `ReceiveClient.fromConnectionString()`. */
export type ReceiveClientConnectionStringOptions = Omit<ReceiveClientOptions, "auth"> &
  ConnectionStringOptions;
