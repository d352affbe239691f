/**
 * A connection: OPEN/CLOSE, the connection's lifecycle and the single owner of protocol state.
 * Frames are handled synchronously in arrival order; public async methods only enqueue frames and
 * await what the handler settles. The pieces it drives live beside it: the handshake chain (protocol
 * headers, SASL, held frames) in `connection-handshake.ts`, the sessions by channel and the routing
 * of AMQP frames in `channel-mux.ts`, idle time-outs both ways in `idle-timeout.ts`, and the error
 * mapping in `connection-errors.ts`.
 *
 * Symmetric: the same class runs the connecting side and the accepting side.
 */
import { randomUUID } from "node:crypto";
import type { AMQPError } from "../errors/amqp-error.js";
import type { CompositeType } from "../codec/composite.js";
import { Decoder } from "../codec/decoder.js";
import { DecodeError } from "../errors/decode-error.js";
import { FrameReader, FrameType, type FrameSink } from "../frames/frame-reader.js";
import { FramingError } from "../frames/framing-error.js";
import {
  Close,
  Open,
  PerformativeCode,
  readPerformativeCode,
  type BeginFields,
  type OpenFields,
} from "../frames/performatives.js";
import type { ProtocolHeader } from "../frames/protocol-header.js";
import type { Transport } from "../transport/transport.js";
import { deferred, ignoreRejection, type Deferred } from "../util/deferred.js";
import { ChannelMux } from "./channel-mux.js";
import { ConnectionHandshake, type ConnectionPhase } from "./connection-handshake.js";
import { inputErrorReason } from "./connection-errors.js";
import { FrameOutput } from "./frame-output.js";
import { IdleTimeout } from "./idle-timeout.js";
import { writesFullPerformatives } from "./performative-form.js";
import {
  DEFAULT_CHANNEL_MAX,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_SIZE,
  type ConnectionOptions,
} from "./options.js";
import {
  connectionLostError,
  errorComposite,
  localCloseError,
  protocolError,
  remoteCloseError,
  type ErrorFields,
} from "./remote-errors.js";
import type { AmqpSession, SessionOptions } from "./session.js";
import { traceLine } from "./trace.js";

export class AmqpConnection implements FrameSink {
  readonly options: Readonly<ConnectionOptions>;
  readonly role: "client" | "server";
  /** Performatives go out in full, every field written (see `performative-form.ts`). */
  readonly fullPerformatives: boolean;
  readonly containerId: string;
  readonly output = new FrameOutput();
  /** The peer's OPEN. */
  remote: OpenFields | undefined;
  /** Largest frame we may send (the peer's max-frame-size, at most 2^31). */
  remoteMaxFrameSize = 512;
  /** The error that ended the connection, if any. */
  error: AMQPError | undefined;
  /** Accepting side: the authenticated SASL identity. */
  saslIdentity: string | undefined;
  /** Accepting side: called for each session the peer begins (default: accepted). */
  onRemoteBegin: ((session: AmqpSession, begin: BeginFields) => void) | undefined;
  /** Called once when the connection is gone (error undefined for a clean close). */
  onClose: ((error: AMQPError | undefined) => void) | undefined;

  #transport: Transport | undefined;
  #reader: FrameReader;
  readonly #decoder = new Decoder(Buffer.alloc(0));
  readonly #handshake: ConnectionHandshake;
  readonly #mux: ChannelMux;
  readonly #idle: IdleTimeout;
  #opened: Deferred<OpenFields> = deferred();
  #closed: Deferred<AMQPError | undefined> = deferred();
  #openSent = false;
  #closeSent = false;
  #closeReceived = false;
  #closeTimer: NodeJS.Timeout | undefined;

  constructor(options: ConnectionOptions = {}) {
    this.options = options;
    this.role = options.role ?? "client";
    this.fullPerformatives = writesFullPerformatives(this.role);
    this.containerId = options.containerId ?? randomUUID();
    this.#reader = new FrameReader(this, options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE);
    this.#handshake = new ConnectionHandshake({
      role: this.role,
      fullPerformatives: this.fullPerformatives,
      options,
      output: this.output,
      peerCertificate: () => this.#transport?.peerCertificate,
      authenticated: (identity) => {
        this.saslIdentity = identity;
      },
      expectProtocolHeader: () => this.#reader.expectProtocolHeader(),
      sendOpen: () => this.open(),
      amqpLayerUp: () => this.#idle.arm(),
      fail: (error) => this.#fail(error),
    });
    this.#mux = new ChannelMux(this, {
      handleOpen: (f) => this.#handleOpen(f),
      handleClose: (error) => this.#handleClose(error),
    });
    this.#idle = new IdleTimeout({
      options,
      output: this.output,
      isClosed: () => this.#phase === "closed",
      isAmqpLayer: () => this.#phase === "amqp",
      closeWithError: (condition, description) => this.closeWithError(condition, description),
    });
    ignoreRejection(this.#opened.promise);
    this.output.beforeFlush = () => {
      this.#mux.flushDispositions();
    };
    this.output.onDrain = () => {
      this.#mux.resumeAll();
    };
  }

  /** Resolves with the peer's OPEN; rejects if the connection fails first. */
  opened(): Promise<OpenFields> {
    return this.#opened.promise;
  }

  /** Resolves when the connection is gone: undefined after a clean close, else the error. Never rejects. */
  closed(): Promise<AMQPError | undefined> {
    return this.#closed.promise;
  }

  get isOpen(): boolean {
    return this.#phase === "amqp" && this.remote !== undefined && !this.#closeSent && !this.#closeReceived;
  }

  /** @internal Closing or closed: no new work is accepted. */
  get isClosing(): boolean {
    return this.#closeSent || this.#phase === "closed";
  }

  /** @internal Transfers may be written (the AMQP layer is up). */
  get canSendTransfers(): boolean {
    return this.#phase === "amqp" && this.remote !== undefined && !this.#closeSent;
  }

  get transport(): Transport | undefined {
    return this.#transport;
  }

  get #phase(): ConnectionPhase {
    return this.#handshake.phase;
  }

  /**
   * Starts the connection over `transport`. The connecting side sends its protocol header at once;
   * the accepting side waits for the peer's.
   */
  start(transport: Transport): void {
    if (this.#transport) throw new Error("connection already started");
    this.#transport = transport;
    this.output.attach(transport);
    this.#reader.expectProtocolHeader();
    transport.setHandler({
      onData: (chunk) => {
        this.#onData(chunk);
      },
      onDrain: () => {
        this.output.drained();
      },
      onClose: (error) => {
        this.#onTransportClosed(error);
      },
    });
    // Our idle time-out runs from the start: a peer that never sends its header is silent too.
    this.#idle.received();
    this.#idle.arm();
    if (this.role === "client") this.#handshake.start();
  }

  /** Sends OPEN (connecting side, or accepting side answering). Idempotent. */
  open(): void {
    if (this.#openSent || this.isClosing) return;
    this.#openSent = true;
    const o = this.options;
    const open: OpenFields = {
      containerId: this.containerId,
      maxFrameSize: this.#reader.maxFrameSize,
      channelMax: o.channelMax ?? DEFAULT_CHANNEL_MAX,
    };
    if (o.hostname !== undefined) open.hostname = o.hostname;
    if (o.idleTimeoutMs !== undefined && o.idleTimeoutMs > 0) open.idleTimeOut = o.idleTimeoutMs;
    if (o.offeredCapabilities !== undefined) open.offeredCapabilities = o.offeredCapabilities;
    if (o.desiredCapabilities !== undefined) open.desiredCapabilities = o.desiredCapabilities;
    if (o.properties !== undefined) open.properties = o.properties;
    this.writeFrame(0, Open, open);
  }

  /** Begins a session (BEGIN goes out at once, pipelined; await `session.begun()`). */
  createSession(options?: SessionOptions): AmqpSession {
    if (this.isClosing) throw this.error ?? localCloseError("connection");
    const max = Math.min(this.options.channelMax ?? DEFAULT_CHANNEL_MAX, this.remote?.channelMax ?? 65535);
    return this.#mux.begin(max, options);
  }

  /**
   * Closes the connection: sends CLOSE (with an error if given), fails everything pending, and
   * waits (bounded by `closeTimeoutMs`) for the peer's CLOSE before closing the transport.
   */
  close(error?: ErrorFields): Promise<void> {
    if (this.#phase === "closed") return Promise.resolve();
    if (!this.#closeSent) {
      // Settlements decided before the close go out before it.
      this.#mux.flushDispositions();
      this.#closeSent = true;
      const e = localCloseError("connection");
      this.#opened.reject(e);
      this.#mux.terminateAll(e);
      if (this.#phase === "amqp" || this.#phase === "amqp-header" || this.#openSent) {
        this.writeFrame(0, Close, error ? { error: errorComposite(error) } : {});
        this.output.flush();
      }
      if (this.#closeReceived || this.#phase !== "amqp") {
        this.#shutdown(undefined);
      } else {
        const ms = this.options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
        this.#closeTimer = setTimeout(() => {
          this.#shutdown(undefined);
        }, ms);
        this.#closeTimer.unref();
      }
    }
    return this.#closed.promise.then(() => undefined);
  }

  /**
   * Fails the connection at once with `error` (e.g. the transport could not be opened): every
   * pending operation rejects with it and the transport is closed.
   */
  abort(error: AMQPError): void {
    if (this.#phase === "closed") return;
    this.#fail(error);
  }

  /** @internal Closes because the peer broke the protocol. */
  closeWithError(condition: string, description: string, cause?: unknown): void {
    if (this.#closeSent) return;
    const err = protocolError(condition, description, cause);
    this.error ??= err;
    this.#opened.reject(err);
    this.#mux.terminateAll(err);
    void this.close({ condition, description });
    // After a framing error the byte stream cannot be parsed: the peer's CLOSE cannot be read.
    if (condition === "amqp:connection:framing-error") this.#shutdown(err);
  }

  // ---- output --------------------------------------------------------------------------------

  /** @internal Writes one frame (held until the AMQP layer starts, during SASL). */
  writeFrame<T extends object>(channel: number, composite: CompositeType<T>, value: T): void {
    this.#handshake.writeFrame(channel, composite, value);
  }

  /** @internal */
  traceOut(code: number, channel: number, fields: object, payloadBytes: number): void {
    this.options.trace?.(traceLine("->", code, channel, fields, payloadBytes));
  }

  /** @internal A session has dispositions to write before the next flush. */
  needsDispositionFlush(session: AmqpSession): void {
    this.#mux.needsDispositionFlush(session);
    this.output.frameWritten();
  }

  // ---- input ---------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    this.#idle.received();
    if (this.#phase === "closed") return;
    try {
      this.#reader.push(chunk);
    } catch (e) {
      const { condition, description } = inputErrorReason(e);
      this.closeWithError(condition, description, e);
      this.#reader.stop();
    }
  }

  onProtocolHeader(h: ProtocolHeader): void {
    this.#handshake.onProtocolHeader(h);
  }

  onFrame(type: number, channel: number, buf: Buffer, start: number, end: number): void {
    if (start === end) {
      if (this.options.trace) this.options.trace(traceLine("<-", undefined, channel, undefined, 0));
      return; // heartbeat
    }
    if (type === FrameType.Sasl && this.#phase !== "sasl") {
      throw new FramingError("SASL frame outside the SASL layer", start);
    }
    if (type !== FrameType.Sasl && type !== FrameType.Amqp) {
      throw new FramingError(`unknown frame type ${type}`, start);
    }
    try {
      const d = this.#decoder;
      d.reset(buf, start, end);
      const code = readPerformativeCode(d);
      if (type === FrameType.Sasl) {
        this.#handshake.onSaslFrame(code, d);
        return;
      }
      if (this.#phase !== "amqp") throw new DecodeError("AMQP frame before the AMQP layer", start);
      // After our CLOSE only the peer's CLOSE matters (spec 2.4.3).
      if (this.#closeSent && code !== PerformativeCode.Close) return;
      this.#mux.dispatch(code, channel, d, end);
    } catch (e) {
      // The frame boundaries are intact: close with the error and keep reading for the peer's CLOSE.
      if (e instanceof FramingError) throw e;
      const { condition, description } = inputErrorReason(e);
      this.closeWithError(condition, description, e);
    }
  }

  #handleOpen(f: OpenFields): void {
    if (this.remote) throw protocolError("amqp:not-allowed", "second OPEN on the connection");
    this.remote = f;
    this.remoteMaxFrameSize = Math.max(512, Math.min(f.maxFrameSize ?? 0xffffffff, 0x7fffffff));
    this.#idle.remoteIdleTimeout(f.idleTimeOut ?? 0);
    if (this.role === "server") this.open();
    this.#opened.resolve(f);
    this.#mux.resumeAll();
  }

  #handleClose(error: ErrorFields | undefined): void {
    this.#closeReceived = true;
    const err = error ? remoteCloseError(error) : undefined;
    if (err) this.error ??= err;
    const failure =
      err ??
      remoteCloseError({
        condition: "amqp:connection:forced",
        description: "the peer closed the connection",
      });
    this.#opened.reject(failure);
    this.#mux.terminateAll(failure);
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.writeFrame(0, Close, {});
      this.output.flush();
    }
    this.#shutdown(err);
  }

  /** @internal */
  forgetSession(s: AmqpSession): void {
    this.#mux.forget(s);
  }

  // ---- teardown -------------------------------------------------------------------------------

  #fail(error: AMQPError): void {
    this.error ??= error;
    this.#opened.reject(error);
    this.#mux.terminateAll(error);
    this.#closeSent = true;
    this.#shutdown(error);
  }

  #onTransportClosed(cause: Error | undefined): void {
    if (this.#phase === "closed") return;
    // After our CLOSE, a peer that drops the socket instead of answering still closed cleanly.
    const clean = this.#closeSent && (this.#closeReceived || this.error === undefined);
    const err = clean ? undefined : (this.error ?? connectionLostError(cause));
    if (err) {
      this.error ??= err;
      this.#opened.reject(err);
      this.#mux.terminateAll(err);
    }
    this.#finish(
      this.#closeSent && !this.#closeReceived && this.error === undefined ? undefined : this.error,
    );
  }

  #shutdown(error: AMQPError | undefined): void {
    if (this.#phase === "closed") return;
    this.output.flush();
    this.#transport?.end();
    this.#finish(error ?? this.error);
  }

  #finish(error: AMQPError | undefined): void {
    if (this.#phase === "closed") return;
    this.#handshake.phase = "closed";
    this.#reader.stop();
    this.output.close();
    this.#idle.stop();
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.#closed.resolve(error);
    this.onClose?.(error);
  }
}
