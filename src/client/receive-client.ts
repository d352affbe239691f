/**
 * uamqp's `ReceiveClient` (docs/clients.md, "ReceiveClient"): the receiver link (a `ClientLink` of
 * `AMQPClient`) and what the application has not taken yet (`receive-buffer.ts`, `inactivity-timer.ts`).
 */
import { randomUUID } from "node:crypto";
import { Source } from "../address/index.js";
import { clientSetup, connectionStringNames } from "../auth/connection-string.js";
import { AMQPClientShutdown } from "../errors/exceptions.js";
import type { Message } from "../message/message.js";
import { MessageState } from "../message/message-state.js";
import { MessageSettleFailed } from "../message/settlement.js";
import { SIGNAL_OPTIONS, abortError, bounded, nextTurn } from "../policy/wait.js";
import { checkFinite, checkInteger, compact } from "../util/options.js";
import { AMQPClient } from "./amqp-client.js";
import type { ClientLinkEvent, ClientLinkHost } from "./client-link.js";
import {
  DEFAULTS,
  RECEIVE_BATCH_OPTIONS,
  RECEIVE_CLIENT_OPTIONS,
  checkOptions,
  type MessageHandler,
  type MessageReceiverOptions,
  type ReceiveBatchOptions,
  type ReceiveClientOptions,
  type ReceiveStreamOptions,
  type ReceiveClientConnectionStringOptions,
} from "./client-options.js";
import { InactivityTimer } from "./inactivity-timer.js";
import { ReceiverSettleMode } from "./link-states.js";
import { MessageReceiver } from "./message-receiver.js";
import { ReceiveBuffer, type WaitResult } from "./receive-buffer.js";
import type { Session } from "./session.js";
import { resolveSettleMode, type SettleMode } from "./settle-confirm.js";

const RECEIVE_CLIENT_CONNECTION_STRING_OPTIONS = connectionStringNames(RECEIVE_CLIENT_OPTIONS);

/**
 * Receives messages from one source (uamqp's `ReceiveClient`).
 *
 * @example
 * ```ts
 * await using client = new ReceiveClient("amqp://localhost:5672/orders", { timeout: 5000 });
 * const batch = await client.receiveMessageBatch({ maxBatchSize: 10, timeout: 1000 }); // accepted
 * for await (const message of client) {
 *   console.log(message.toString()); // accepted when the loop moves on (or breaks)
 * }
 * ```
 */
export class ReceiveClient extends AMQPClient implements AsyncIterable<Message> {
  /** Messages buffered ahead of the application at most (link credit + buffer). */
  readonly prefetch: number;
  /** Accept each message when the application receives it. */
  readonly autoComplete: boolean;
  /** PeekLock (messages are settled by the application or `autoComplete`) or ReceiveAndDelete. */
  readonly receiveSettleMode: ReceiverSettleMode;
  /** How settlements complete: see {@link ReceiveClientOptions.settleMode}. */
  readonly settleMode: SettleMode;
  /** Inactivity timeout in ms (0 = none). */
  readonly timeout: number;
  /** Close the client when the inactivity timeout (`timeout`, ms) is reached. */
  readonly shutdownAfterTimeout: boolean;
  #source: Source;
  /** The receiver link: the messages and events of an older one are stale. */
  #receiver: MessageReceiver | undefined;
  /** A message arrived on the current receiver (its first one restarted the reconnect budget). */
  #progressed = false;
  readonly #buffer = new ReceiveBuffer();
  readonly #inactivity: InactivityTimer;
  #shutdown: Promise<void> | undefined;
  readonly #host: ClientLinkHost;

  /**
   * Creates the client; it connects on the first receive (or {@link AMQPClient.open}).
   * @param source - the node to receive from: a URL, or a {@link Source} (filters…)
   * @throws {InvalidAddressError} for an unusable URL; {@link TypeError} for an unknown option;
   *   {@link RangeError} for a `prefetch` that is not a positive integer, a negative `timeout`, or
   *   `settleMode: "confirm"` with ReceiveAndDelete.
   */
  constructor(source: string | Source, options: ReceiveClientOptions = {}) {
    checkOptions(options, RECEIVE_CLIENT_OPTIONS, "ReceiveClient");
    const s = typeof source === "string" ? Source.parse(source) : source;
    super(s, options);
    this.#source = s;
    // uamqp coerces prefetch 0 to 300.
    const prefetch = options.prefetch ?? 0;
    this.prefetch = checkInteger("prefetch", prefetch === 0 ? DEFAULTS.prefetch : prefetch, 1);
    this.autoComplete = options.autoComplete ?? true;
    this.receiveSettleMode = options.receiveSettleMode ?? ReceiverSettleMode.PeekLock;
    this.settleMode = resolveSettleMode(options.settleMode, this.receiveSettleMode);
    this.timeout = checkFinite("timeout", options.timeout ?? 0, 0);
    this.shutdownAfterTimeout = options.shutdownAfterTimeout ?? true;
    this.#inactivity = new InactivityTimer(
      this.timeout,
      () => this.#buffer.waiting > 0,
      () => {
        this.#buffer.wakeAll("inactive");
        if (this.shutdownAfterTimeout) this.#shutdown ??= this.close();
        else this.#inactivity.touch();
      },
    );
    this.#host = this.plugLink({
      attach: (session, signal) => this.#attach(session, signal),
      detach: () => this.#detach(),
      on: (event) => this.#on(event),
    });
  }

  /**
   * A client for an Azure connection string, with a `SASTokenAuth` from its key (docs/clients.md,
   * "Azure: token auth over CBS, connection strings").
   * @param options - the client's options (no `auth`), `entityPath`, `tokenAuth`
   * @throws {ConnectionStringError} for a malformed string; {@link TypeError} for an unknown option
   *   or no entity.
   */
  static override fromConnectionString(
    connectionString: string,
    options: ReceiveClientConnectionStringOptions = {},
  ): ReceiveClient {
    const setup = clientSetup<ReceiveClientOptions>(
      connectionString,
      options,
      RECEIVE_CLIENT_CONNECTION_STRING_OPTIONS,
      "ReceiveClient",
    );
    return new ReceiveClient(setup.address, setup.options);
  }

  /** The source the client receives from. */
  get source(): Source {
    return this.#source;
  }

  /** The receiver link (uamqp's `message_handler`), once open. A new one after a recovery. */
  get receiver(): MessageReceiver | undefined {
    return this.#receiver;
  }

  /** uamqp's name for {@link ReceiveClient.receiver}. */
  get messageHandler(): MessageReceiver | undefined {
    return this.#receiver;
  }

  /** Messages received and not yet handed to the application. */
  get bufferedCount(): number {
    return this.#buffer.length;
  }

  /**
   * Opens the client if needed and resolves as soon as at least one message is there (up to
   * `maxBatchSize`), or `[]` after `timeout` ms or the inactivity timeout. Messages are accepted
   * before they are returned when `autoComplete` is on.
   * @throws {RangeError} `maxBatchSize` above `prefetch`; {@link AMQPClientShutdown} on a closed
   *   client; the client's failure error; {@link AMQPAbortError}.
   */
  async receiveMessageBatch(options: ReceiveBatchOptions = {}): Promise<Message[]> {
    checkOptions(options, RECEIVE_BATCH_OPTIONS, "ReceiveClient.receiveMessageBatch()");
    const max = checkInteger("maxBatchSize", options.maxBatchSize ?? this.prefetch, 1);
    if (max > this.prefetch) {
      throw new RangeError(`maxBatchSize (${max}) cannot be larger than prefetch (${this.prefetch})`);
    }
    if (!(await this.#openForReceive(options.signal))) return [];
    const deadline = options.timeout ? Date.now() + options.timeout : undefined;
    for (;;) {
      if (options.signal?.aborted === true) throw abortError(options.signal);
      if (this.bufferedCount > 0) {
        const batch = this.#buffer.take(max);
        this.#receiver?.consumed();
        for (const m of batch) this.#handled(m, options.onMessage);
        return batch;
      }
      const r = await this.#wait(deadline, options.signal);
      if (r === "message") {
        await nextTurn(); // let the rest of a burst arrive
        continue;
      }
      if (r !== "timeout") await this.#ended(r);
      return [];
    }
  }

  /**
   * Opens the client if needed and calls `handler` for each message in order, awaiting it; with
   * `autoComplete` the message is accepted when it completes, and one that throws leaves it
   * modified (docs/clients.md). Resolves when the client closes or at the inactivity timeout.
   * @throws the client's failure error; {@link AMQPAbortError}; {@link AMQPClientShutdown} on a closed client.
   */
  async receiveMessages(handler: MessageHandler, options: ReceiveStreamOptions = {}): Promise<void> {
    checkOptions(options, SIGNAL_OPTIONS, "ReceiveClient.receiveMessages()");
    if (!(await this.#openForReceive(options.signal))) return;
    for (;;) {
      const m = this.#takeOne(options.signal) ?? (await this.#next(options.signal));
      if (!m) return;
      try {
        await handler(m);
      } catch {
        settleFailed(m);
        continue;
      }
      this.#complete(m);
    }
  }

  /**
   * Iterates over the messages (uamqp's `receive_messages_iter`). With `autoComplete` each message is
   * accepted when the loop asks for the next one, or leaves (`break`); another iteration continues
   * where this one stopped. Ends at the inactivity timeout or when the client closes.
   * @throws the client's failure error; {@link AMQPAbortError}; {@link AMQPClientShutdown} on a closed client.
   */
  receiveMessagesIter(options: ReceiveStreamOptions = {}): AsyncGenerator<Message, void, undefined> {
    // An async generator's contract, written out: a generator costs several promises per message;
    // this hands out a buffered message in one settled promise. As with a generator, nothing runs
    // before the first next(), calls are served in order, and return() / throw() let go of the
    // message given last.
    type Step = IteratorResult<Message, void>;
    const signal = options.signal;
    let started = false;
    let done = false;
    /** The message given last: completed when the next one is asked for, or at the end. */
    let current: Message | undefined;
    /** The last call that waits (for the open or a message): later calls run after it. */
    let last: Promise<Step> | undefined;

    const end = (): Step => {
      done = true;
      const m = current;
      current = undefined;
      if (m) this.#complete(m);
      return { done: true, value: undefined };
    };
    const give = (m: Message | undefined): Step => {
      if (m === undefined) return end();
      current = m;
      return { done: false, value: m };
    };
    const failed = (e: unknown): never => {
      end();
      throw e;
    };
    const first = async (): Promise<Step> => {
      if (!(await this.#openForReceive(signal))) return end();
      return give(this.#takeOne(signal) ?? (await this.#next(signal)));
    };
    const next = (): Step | Promise<Step> => {
      if (done) return { done: true, value: undefined };
      if (!started) {
        started = true;
        checkOptions(options, SIGNAL_OPTIONS, "ReceiveClient.receiveMessagesIter()");
        return first();
      }
      const previous = current;
      current = undefined;
      if (previous) this.#complete(previous);
      const m = this.#takeOne(signal);
      return m ? give(m) : this.#next(signal).then(give);
    };
    /** A call's step; what it throws ends the iteration and becomes the call's rejection. */
    const run = (step: () => Step | Promise<Step>): Step | Promise<Step> => {
      try {
        const r = step();
        return r instanceof Promise ? r.catch(failed) : r;
      } catch (e) {
        end();
        return rejected(e);
      }
    };
    /** Runs `step` now, or after the call that waits. */
    const serve = (step: () => Step | Promise<Step>): Promise<Step> => {
      let r: Step | Promise<Step>;
      if (last === undefined) r = run(step);
      else {
        const after = (): Step | Promise<Step> => run(step);
        r = last.then(after, after);
      }
      if (!(r instanceof Promise)) return Promise.resolve(r);
      last = r;
      const settled = (): void => {
        if (last === r) last = undefined;
      };
      r.then(settled, settled);
      return r;
    };
    const iterator: AsyncGenerator<Message, void, undefined> = {
      next: () => serve(next),
      return: () => serve(end),
      throw: (e: unknown) => serve(() => failed(e)),
      [Symbol.asyncIterator]: () => iterator,
      [Symbol.asyncDispose]: async () => {
        await iterator.return();
      },
    };
    return iterator;
  }

  /** Same as {@link ReceiveClient.receiveMessagesIter}. */
  messages(options: ReceiveStreamOptions = {}): AsyncGenerator<Message, void, undefined> {
    return this.receiveMessagesIter(options);
  }

  /** `for await (const m of client)`: see {@link ReceiveClient.receiveMessagesIter}. */
  [Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    return this.receiveMessagesIter();
  }

  /**
   * Opens the client for a receive call. False when `close()` ended the open: the call then ends as
   * a receive pending at the close does (`[]`, end of the stream).
   */
  async #openForReceive(signal: AbortSignal | undefined): Promise<boolean> {
    if (this.#host.stopped()) throw this.#host.closedError();
    try {
      await this.open({ signal });
    } catch (e) {
      const state = this.state;
      const closed = (state === "closing" || state === "closed") && this.error === undefined;
      if (closed && e instanceof AMQPClientShutdown) return false;
      throw e;
    }
    this.#inactivity.touch();
    return true;
  }

  /** The oldest buffered message, if there is one. @throws {AMQPAbortError} when `signal` aborted. */
  #takeOne(signal: AbortSignal | undefined): Message | undefined {
    if (signal?.aborted === true) throw abortError(signal);
    const m = this.#buffer.shift();
    if (m !== undefined) this.#receiver?.consumed();
    return m;
  }

  /** The next message, or undefined when the stream ends (inactivity, close). */
  async #next(signal: AbortSignal | undefined): Promise<Message | undefined> {
    for (;;) {
      const m = this.#takeOne(signal);
      if (m !== undefined) return m;
      const r = await this.#wait(undefined, signal);
      if (r === "message" || r === "timeout") continue;
      await this.#ended(r);
      return undefined;
    }
  }

  /** After an inactivity timeout or a close: waits for the shutdown, throws the failure. */
  async #ended(r: "inactive" | "closed"): Promise<void> {
    if (r === "inactive" && this.#shutdown) await this.#shutdown;
    if (this.state === "failed") throw this.#host.closedError();
  }

  /** The application received `m` (batch): run its callback, then complete it. */
  #handled(m: Message, onMessage: ((m: Message) => void) | undefined): void {
    try {
      onMessage?.(m);
    } catch {
      settleFailed(m);
      return;
    }
    this.#complete(m);
  }

  #complete(m: Message): void {
    if (this.autoComplete) m.acceptQuietly();
  }

  #wait(deadline: number | undefined, signal: AbortSignal | undefined): Promise<WaitResult> {
    if (this.#host.stopped()) return Promise.resolve("closed");
    const waited = this.#buffer.wait(deadline, signal);
    this.#inactivity.arm();
    return waited;
  }

  #onMessage(m: Message): void {
    this.#buffer.push(m);
    this.#inactivity.touch();
    // The attempts start over once the new link has shown it works: its first message tells.
    if (!this.#progressed) {
      this.#progressed = true;
      this.#host.progressed();
    }
    this.#buffer.wakeAll("message");
  }

  async #attach(session: Session, signal: AbortSignal): Promise<void> {
    const o = this.options;
    const options = compact<MessageReceiverOptions>({
      name: `receiver-link-${randomUUID()}`,
      receiveSettleMode: this.receiveSettleMode,
      settleMode: this.settleMode,
      maxMessageSize: o.maxMessageSize,
      prefetch: this.prefetch,
      properties: o.linkProperties,
      desiredCapabilities: o.desiredCapabilities,
    });
    const receiver = new MessageReceiver(session, this.#source, this.clientName, options);
    receiver.onMessageReceived = (m) => {
      if (receiver === this.#receiver) this.#onMessage(m);
    };
    // Credit follows what the application takes: buffered messages count against prefetch.
    receiver.followConsumption(this);
    this.#receiver = receiver;
    this.#progressed = false;
    receiver.onDetached = (error) => {
      if (receiver === this.#receiver) this.#host.failed(error);
    };
    await bounded(receiver.open(), { signal, what: "receiver attach" });
    this.#inactivity.touch();
  }

  async #detach(): Promise<void> {
    const receiver = this.#receiver;
    this.#receiver = undefined;
    if (receiver) await receiver.close();
  }

  #on(event: ClientLinkEvent): number {
    switch (event.type) {
      case "opened":
      case "recovered":
        return 0;
      case "lost":
        // Unsettled buffered messages are redelivered by the peer once the link is back: drop them.
        if (this.receiveSettleMode === ReceiverSettleMode.PeekLock) this.#buffer.clear();
        return 0;
      case "fatal":
      case "closing":
        if (event.type === "fatal") this.#buffer.clear();
        this.#inactivity.stop();
        this.#buffer.wakeAll("closed");
        return 0;
      case "redirected":
        this.#source = Source.from(event.address);
        return 0;
    }
  }
}

/** A rejected promise of whatever `e` is (an iterator's throw() passes the caller's value on). */
function rejected(e: unknown): Promise<never> {
  return Promise.resolve().then(() => {
    throw e;
  });
}

/**
 * A message the application failed to handle: modified(deliveryFailed, undeliverableHere), or
 * released when the peer does not offer `modified` (RabbitMQ 3.10 closes the connection on it).
 */
function settleFailed(m: Message): void {
  if (m.state !== MessageState.ReceivedUnsettled) return;
  m.modify({ deliveryFailed: true, undeliverableHere: true }).catch((e: unknown) => {
    if (e instanceof MessageSettleFailed && e.offeredOutcomes !== undefined) {
      m.release().catch(() => undefined);
    }
  });
}
