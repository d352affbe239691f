/**
 * A connection: the handshake chain (SASL, then AMQP), OPEN/CLOSE, the channel mux, idle
 * time-outs both ways, and the single owner of protocol state. Frames are handled synchronously in
 * arrival order; public async methods only enqueue frames and await what the handler settles.
 *
 * Symmetric: the same class runs the connecting side and the accepting side.
 */
import { randomUUID } from "node:crypto";
import type { AMQPError } from "../errors/amqp-error.js";
import { AuthenticationException } from "../errors/exceptions.js";
import type { CompositeType } from "../codec/composite.js";
import type { AMQPValue } from "../codec/values.js";
import { Decoder } from "../codec/decoder.js";
import { DecodeError } from "../errors/decode-error.js";
import { FrameReader, FrameType, type FrameSink } from "../frames/frame-reader.js";
import { writeCompositeFrame, writeEmptyFrame } from "../frames/frame-writer.js";
import { FramingError } from "../frames/framing-error.js";
import {
  Attach,
  Begin,
  Close,
  Detach,
  Disposition,
  End,
  Flow,
  Open,
  PerformativeCode as P,
  readPerformativeCode,
  SaslChallenge,
  SaslInit,
  SaslMechanisms,
  SaslOutcome,
  SaslResponse,
  type BeginFields,
  type OpenFields,
} from "../frames/performatives.js";
import { decodeTransferBody } from "../frames/transfer-decoder.js";
import { isVersion10, protocolHeader, ProtocolId, type ProtocolHeader } from "../frames/protocol-header.js";
import { SaslClientNegotiator, type SaslClientStep } from "../sasl/sasl-client.js";
import { authenticateInit } from "../sasl/sasl-server.js";
import { SaslCode } from "../sasl/mechanisms.js";
import type { Transport } from "../transport/transport.js";
import { ByteWriter } from "../util/byte-writer.js";
import { deferred, ignoreRejection, type Deferred } from "../util/deferred.js";
import { FrameOutput } from "./frame-output.js";
import {
  DEFAULT_CHANNEL_MAX,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_SIZE,
  type ConnectionOptions,
} from "./options.js";
import {
  connectionLostError,
  localCloseError,
  protocolError,
  remoteCloseError,
  type ErrorFields,
} from "./remote-errors.js";
import { AmqpSession, type SessionOptions } from "./session.js";
import { traceLine } from "./trace.js";

type Phase = "idle" | "sasl" | "amqp-header" | "amqp" | "closed";

export class AmqpConnection implements FrameSink {
  readonly options: Readonly<ConnectionOptions>;
  readonly role: "client" | "server";
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
  #phase: Phase = "idle";
  #saslClient: SaslClientNegotiator | undefined;
  #saslDone = false;
  /** AMQP frames written before the AMQP layer starts (pipelined open). */
  readonly #held = new ByteWriter(1024);
  readonly #sessions: (AmqpSession | undefined)[] = [];
  readonly #byRemoteChannel = new Map<number, AmqpSession>();
  readonly #dispositionSessions = new Set<AmqpSession>();
  #opened: Deferred<OpenFields> = deferred();
  #closed: Deferred<AMQPError | undefined> = deferred();
  #openSent = false;
  #closeSent = false;
  #closeReceived = false;
  #closeTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastReceivedMs = Date.now();
  #heartbeatMs = 0;

  constructor(options: ConnectionOptions = {}) {
    this.options = options;
    this.role = options.role ?? "client";
    this.containerId = options.containerId ?? randomUUID();
    this.#reader = new FrameReader(this, options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE);
    ignoreRejection(this.#opened.promise);
    this.output.beforeFlush = () => {
      for (const s of this.#dispositionSessions) s.flushDispositions();
      this.#dispositionSessions.clear();
    };
    this.output.onDrain = () => {
      for (const s of this.#sessions) s?.resume();
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
    if (this.role === "client") {
      if (this.options.sasl) {
        this.#phase = "sasl";
        this.#saslClient = new SaslClientNegotiator(this.options.sasl, this.options.hostname);
        this.#writeRaw(protocolHeader(ProtocolId.Sasl));
      } else {
        this.#startAmqp();
      }
    }
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
    let ch = 0;
    while (this.#sessions[ch] !== undefined) ch++;
    if (ch > max) throw protocolError("amqp:resource-limit-exceeded", `no free channel (channel-max ${max})`);
    const s = new AmqpSession(this, ch, options);
    this.#sessions[ch] = s;
    s.writeBegin();
    return s;
  }

  /**
   * Closes the connection: sends CLOSE (with an error if given), fails everything pending, and
   * waits (bounded by `closeTimeoutMs`) for the peer's CLOSE before closing the transport.
   */
  close(error?: ErrorFields): Promise<void> {
    if (this.#phase === "closed") return Promise.resolve();
    if (!this.#closeSent) {
      // Settlements decided before the close go out before it.
      for (const s of this.#dispositionSessions) s.flushDispositions();
      this.#dispositionSessions.clear();
      this.#closeSent = true;
      const e = localCloseError("connection");
      this.#opened.reject(e);
      for (const s of this.#sessions) s?.terminate(e);
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
    for (const s of this.#sessions) s?.terminate(err);
    void this.close({ condition, description });
    // After a framing error the byte stream cannot be parsed: the peer's CLOSE cannot be read.
    if (condition === "amqp:connection:framing-error") this.#shutdown(err);
  }

  // ---- output --------------------------------------------------------------------------------

  /** @internal Writes one frame (held until the AMQP layer starts, during SASL). */
  writeFrame<T extends object>(channel: number, composite: CompositeType<T>, value: T): void {
    if (this.#phase === "closed") return;
    const amqpReady = this.#phase === "amqp" || this.#phase === "amqp-header";
    const w = amqpReady ? this.output.writer : this.#held;
    writeCompositeFrame(w, FrameType.Amqp, channel, composite, value);
    if (this.options.trace) this.traceOut(composite.code, channel, value, 0);
    if (amqpReady) this.output.frameWritten();
  }

  /** @internal */
  traceOut(code: number, channel: number, fields: object, payloadBytes: number): void {
    this.options.trace?.(traceLine("->", code, channel, fields, payloadBytes));
  }

  /** @internal A session has dispositions to write before the next flush. */
  needsDispositionFlush(session: AmqpSession): void {
    this.#dispositionSessions.add(session);
    this.output.frameWritten();
  }

  #writeSasl<T extends object>(composite: CompositeType<T>, value: T): void {
    writeCompositeFrame(this.output.writer, FrameType.Sasl, 0, composite, value);
    if (this.options.trace) this.traceOut(composite.code, 0, value, 0);
    this.output.frameWritten();
  }

  #writeRaw(bytes: Uint8Array): void {
    this.output.writer.bytes(bytes);
    this.output.frameWritten();
  }

  /** Connecting side: AMQP header, OPEN, then everything held during SASL. */
  #startAmqp(): void {
    this.#phase = "amqp-header";
    this.#writeRaw(protocolHeader(ProtocolId.Amqp));
    this.open();
    this.#releaseHeld();
  }

  #releaseHeld(): void {
    if (this.#held.pos > 0) {
      this.output.writer.bytes(this.#held.view());
      this.#held.reset();
      this.output.frameWritten();
    }
  }

  // ---- input ---------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    this.#lastReceivedMs = Date.now();
    if (this.#phase === "closed") return;
    try {
      this.#reader.push(chunk);
    } catch (e) {
      if (e instanceof FramingError) {
        this.closeWithError("amqp:connection:framing-error", e.description ?? e.message, e);
      } else if (e instanceof DecodeError) {
        this.closeWithError("amqp:decode-error", e.message, e);
      } else {
        this.closeWithError("amqp:internal-error", e instanceof Error ? e.message : String(e), e);
      }
      this.#reader.stop();
    }
  }

  onProtocolHeader(h: ProtocolHeader): void {
    if (this.role === "server") {
      this.#serverHeader(h);
      return;
    }
    if (this.#phase === "sasl") {
      if (!isVersion10(h, ProtocolId.Sasl)) return this.#headerMismatch(h);
      return;
    }
    if (!isVersion10(h, ProtocolId.Amqp)) return this.#headerMismatch(h);
    this.#phase = "amqp";
    this.#armTimers();
  }

  #headerMismatch(h: ProtocolHeader): void {
    const err =
      h.id === ProtocolId.Sasl && !this.options.sasl
        ? new AuthenticationException("the peer requires SASL authentication but no credentials were given", {
            condition: "amqp:unauthorized-access",
          })
        : protocolError(
            "amqp:connection:framing-error",
            `the peer answered with protocol header id ${h.id} version ${h.major}.${h.minor}.${h.revision}`,
          );
    this.#fail(err);
  }

  #serverHeader(h: ProtocolHeader): void {
    const sasl = this.options.saslServer;
    if (h.id === ProtocolId.Sasl && h.major === 1 && sasl && !this.#saslDone) {
      this.#phase = "sasl";
      this.#writeRaw(protocolHeader(ProtocolId.Sasl));
      this.#writeSasl(SaslMechanisms, { saslServerMechanisms: [...(sasl.mechanisms ?? ["ANONYMOUS"])] });
      return;
    }
    if (h.id === ProtocolId.Amqp && h.major === 1) {
      const allowNoSasl =
        sasl === undefined || (sasl.allowNoSasl ?? (sasl.mechanisms ?? ["ANONYMOUS"]).includes("ANONYMOUS"));
      if (!this.#saslDone && !allowNoSasl) {
        // We require SASL: answer with the header we support and close (spec 2.2).
        this.#writeRaw(protocolHeader(ProtocolId.Sasl));
        this.output.flush();
        this.#fail(
          new AuthenticationException("client skipped the required SASL layer", {
            condition: "amqp:unauthorized-access",
          }),
        );
        return;
      }
      this.#phase = "amqp";
      this.#writeRaw(protocolHeader(ProtocolId.Amqp));
      this.#releaseHeld();
      this.#armTimers();
      return;
    }
    // Unsupported protocol or version: answer with what we support and close.
    this.#writeRaw(protocolHeader(sasl ? ProtocolId.Sasl : ProtocolId.Amqp));
    this.output.flush();
    this.#fail(
      protocolError(
        "amqp:connection:framing-error",
        `unsupported protocol header id ${h.id} version ${h.major}.${h.minor}.${h.revision}`,
      ),
    );
  }

  onFrame(type: number, channel: number, buf: Buffer, start: number, end: number): void {
    if (start === end) {
      if (this.options.trace) this.options.trace(traceLine("<-", undefined, channel, undefined, 0));
      return; // heartbeat
    }
    const d = this.#decoder;
    d.reset(buf, start, end);
    const code = readPerformativeCode(d);
    if (type === FrameType.Sasl) {
      if (this.#phase !== "sasl") throw new DecodeError("SASL frame outside the SASL layer", start);
      this.#onSaslFrame(code, d);
      return;
    }
    if (type !== FrameType.Amqp) throw new FramingError(`unknown frame type ${type}`, start);
    if (this.#phase !== "amqp") throw new DecodeError("AMQP frame before the AMQP layer", start);
    this.#onAmqpFrame(code, channel, d, end);
  }

  #onSaslFrame(code: number, d: Decoder): void {
    const trace = this.options.trace;
    if (this.role === "server") {
      if (code !== P.SaslInit && code !== P.SaslResponse)
        throw new DecodeError(`unexpected SASL frame 0x${code.toString(16)}`, d.pos);
      if (code === P.SaslResponse) {
        if (trace) trace(traceLine("<-", code, 0, {}, 0));
        this.#writeSasl(SaslOutcome, { code: SaslCode.Auth });
        return;
      }
      const init = SaslInit.decodeBody(d);
      if (trace) trace(traceLine("<-", code, 0, init, 0));
      const cert = this.#transport?.peerCertificate;
      void authenticateInit(this.options.saslServer ?? {}, init, cert).then((r) => {
        if (this.#phase !== "sasl") return;
        this.#writeSasl(SaslOutcome, { code: r.ok ? SaslCode.Ok : r.code });
        if (r.ok) {
          this.#saslDone = true;
          this.saslIdentity = r.identity;
          this.#reader.expectProtocolHeader();
        } else {
          this.output.flush();
          this.#fail(
            new AuthenticationException(`SASL ${init.mechanism} authentication failed`, {
              condition: "amqp:unauthorized-access",
            }),
          );
        }
      });
      return;
    }
    const neg = this.#saslClient!;
    let step: SaslClientStep;
    switch (code) {
      case P.SaslMechanisms: {
        const f = SaslMechanisms.decodeBody(d);
        if (trace) trace(traceLine("<-", code, 0, f, 0));
        step = neg.onMechanisms(f);
        break;
      }
      case P.SaslChallenge: {
        const f = SaslChallenge.decodeBody(d);
        if (trace) trace(traceLine("<-", code, 0, {}, 0));
        step = neg.onChallenge(f);
        break;
      }
      case P.SaslOutcome: {
        const f = SaslOutcome.decodeBody(d);
        if (trace) trace(traceLine("<-", code, 0, f, 0));
        step = neg.onOutcome(f);
        break;
      }
      default:
        throw new DecodeError(`unexpected SASL frame 0x${code.toString(16)}`, d.pos);
    }
    if ("error" in step) {
      this.#fail(step.error);
    } else if ("done" in step) {
      this.#saslDone = true;
      this.#reader.expectProtocolHeader();
      this.#startAmqp();
    } else if (step.send === "init") {
      this.#writeSasl(SaslInit, step.frame);
    } else {
      this.#writeSasl(SaslResponse, step.frame);
    }
  }

  #onAmqpFrame(code: number, channel: number, d: Decoder, end: number): void {
    const trace = this.options.trace;
    if (code === P.Transfer) {
      const t = decodeTransferBody(d);
      const payload = d.buf.subarray(d.pos, end);
      if (trace) trace(traceLine("<-", code, channel, t, payload.length));
      this.#session(channel).handleTransfer(t, payload);
      return;
    }
    switch (code) {
      case P.Open: {
        const f = Open.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#handleOpen(f);
      }
      case P.Begin: {
        const f = Begin.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#handleBegin(channel, f);
      }
      case P.Attach: {
        const f = Attach.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#session(channel).handleAttach(f);
      }
      case P.Flow: {
        const f = Flow.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#session(channel).handleFlow(f);
      }
      case P.Disposition: {
        const f = Disposition.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#session(channel).handleDisposition(f);
      }
      case P.Detach: {
        const f = Detach.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#session(channel).handleDetach(f);
      }
      case P.End: {
        const f = End.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        const s = this.#session(channel);
        this.#byRemoteChannel.delete(channel);
        return s.handleEnd(f);
      }
      case P.Close: {
        const f = Close.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#handleClose(f.error);
      }
      default:
        throw new DecodeError(
          `performative 0x${code.toString(16)} is not valid on an AMQP connection`,
          d.pos,
        );
    }
  }

  #session(remoteChannel: number): AmqpSession {
    const s = this.#byRemoteChannel.get(remoteChannel);
    if (!s) throw new UnattachedChannel(remoteChannel);
    return s;
  }

  #handleOpen(f: OpenFields): void {
    if (this.remote) throw new DecodeError("second OPEN on the connection", 0);
    this.remote = f;
    this.remoteMaxFrameSize = Math.max(512, Math.min(f.maxFrameSize ?? 0xffffffff, 0x7fffffff));
    const remoteIdle = f.idleTimeOut ?? 0;
    if (remoteIdle > 0) {
      const ratio = this.options.remoteIdleTimeoutEmptyFrameSendRatio ?? 0.5;
      this.#heartbeatMs = Math.max(10, Math.floor(remoteIdle * ratio));
      this.#armTimers();
    }
    if (this.role === "server") this.open();
    this.#opened.resolve(f);
    for (const s of this.#sessions) if (s) for (const l of [s]) l.resume();
  }

  #handleBegin(channel: number, f: BeginFields): void {
    if (f.remoteChannel !== undefined) {
      const s = this.#sessions[f.remoteChannel];
      if (!s || s.remoteChannel !== undefined)
        throw new DecodeError(`BEGIN answers unknown channel ${f.remoteChannel}`, 0);
      s.remoteChannel = channel;
      this.#byRemoteChannel.set(channel, s);
      s.handleBegin(f);
      return;
    }
    // The peer begins a session: create ours and answer.
    if (this.#byRemoteChannel.has(channel)) throw new DecodeError(`channel ${channel} is already in use`, 0);
    let ch = 0;
    while (this.#sessions[ch] !== undefined) ch++;
    const s = new AmqpSession(this, ch);
    this.#sessions[ch] = s;
    s.remoteChannel = channel;
    this.#byRemoteChannel.set(channel, s);
    s.writeBegin();
    s.handleBegin(f);
    this.onRemoteBegin?.(s, f);
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
    for (const s of this.#sessions) s?.terminate(failure);
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.writeFrame(0, Close, {});
      this.output.flush();
    }
    this.#shutdown(err);
  }

  /** @internal */
  forgetSession(s: AmqpSession): void {
    if (this.#sessions[s.channel] === s) this.#sessions[s.channel] = undefined;
    if (s.remoteChannel !== undefined && this.#byRemoteChannel.get(s.remoteChannel) === s) {
      this.#byRemoteChannel.delete(s.remoteChannel);
    }
    this.#dispositionSessions.delete(s);
  }

  // ---- timers and teardown --------------------------------------------------------------------

  #armTimers(): void {
    if (this.#idleTimer || this.#phase === "closed") return;
    const localIdle = this.options.idleTimeoutMs ?? 0;
    const heartbeat = this.#heartbeatMs;
    if (localIdle <= 0 && heartbeat <= 0) return;
    const tick = Math.max(
      5,
      Math.min(localIdle > 0 ? localIdle / 4 : Infinity, heartbeat > 0 ? heartbeat / 2 : Infinity),
    );
    this.#idleTimer = setInterval(() => {
      this.#onTimer();
    }, tick);
    this.#idleTimer.unref();
  }

  #onTimer(): void {
    const now = Date.now();
    const localIdle = this.options.idleTimeoutMs ?? 0;
    if (localIdle > 0 && now - this.#lastReceivedMs > localIdle) {
      this.closeWithError(
        "amqp:resource-limit-exceeded",
        `local-idle-timeout expired: nothing received for ${localIdle} ms`,
      );
      return;
    }
    if (
      this.#heartbeatMs > 0 &&
      this.#phase === "amqp" &&
      now - this.output.lastWriteMs >= this.#heartbeatMs
    ) {
      writeEmptyFrame(this.output.writer);
      if (this.options.trace) this.options.trace(traceLine("->", undefined, 0, undefined, 0));
      this.output.flush();
    }
  }

  #fail(error: AMQPError): void {
    this.error ??= error;
    this.#opened.reject(error);
    for (const s of this.#sessions) s?.terminate(error);
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
      for (const s of this.#sessions) s?.terminate(err);
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
    this.#phase = "closed";
    this.#reader.stop();
    this.output.close();
    if (this.#idleTimer) clearInterval(this.#idleTimer);
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#idleTimer = undefined;
    this.#closeTimer = undefined;
    this.#closed.resolve(error);
    this.onClose?.(error);
  }
}

/** A frame arrived for a channel with no session: connection error. */
class UnattachedChannel extends DecodeError {
  constructor(channel: number) {
    super(`frame on channel ${channel}, which has no session`, 0);
  }
}

function errorComposite(e: ErrorFields): {
  condition: string;
  description?: string;
  info?: Record<string, AMQPValue>;
} {
  const out: { condition: string; description?: string; info?: Record<string, AMQPValue> } = {
    condition: e.condition,
  };
  if (e.description !== undefined) out.description = e.description;
  if (e.info !== undefined) out.info = e.info as Record<string, AMQPValue>;
  return out;
}
