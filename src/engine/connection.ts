/**
 * A connection (AMQP 1.0 §2.4), and the single owner of its protocol state. Frames are handled
 * synchronously in arrival order; public async methods only write frames and await what the frame
 * handler settles. Symmetric: the same class runs the connecting side and the accepting side.
 *
 * The file reads in the order a connection lives:
 * - the phase of the byte stream and the protocol-header steps that move it (AMQP 1.0 §2.2, §5.3.1;
 *   the pure decisions are in `protocol-header-exchange.ts`); AMQP frames written before the AMQP
 *   layer is up (a pipelined OPEN, BEGIN or ATTACH) are held until it is;
 * - the SASL layer on either side (AMQP 1.0 §5.3);
 * - OPEN, and the channel table: our sessions by our channel and by the peer's (AMQP 1.0 §2.5.1),
 *   and the routing of each incoming AMQP frame to the session on its channel;
 * - CLOSE and teardown.
 *
 * Beside it, owning nothing of it: `idle-timeout.ts` (idle time-outs both ways), `frame-output.ts`
 * (the write side), `remote-errors.ts` (the errors it raises).
 */
import { randomUUID } from "node:crypto";
import type { CompositeType } from "../codec/composite.js";
import { Decoder } from "../codec/decoder.js";
import type { AMQPError } from "../errors/amqp-error.js";
import { DecodeError } from "../errors/decode-error.js";
import { AuthenticationException } from "../errors/exceptions.js";
import { FrameReader, FrameType, type FrameSink } from "../frames/frame-reader.js";
import { writeCompositeFrame } from "../frames/frame-writer.js";
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
  PerformativeName,
  readPerformativeCode,
  SaslChallenge,
  SaslInit,
  SaslMechanisms,
  SaslOutcome,
  SaslResponse,
  type BeginFields,
  type OpenFields,
} from "../frames/performatives.js";
import {
  parseProtocolHeader,
  protocolHeader,
  ProtocolId,
  type ProtocolHeader,
} from "../frames/protocol-header.js";
import { blankTransfer, decodeTransferBody, transferTag } from "../frames/transfer-decoder.js";
import { SaslCode } from "../sasl/mechanisms.js";
import { SaslClientNegotiator, type SaslClientStep } from "../sasl/sasl-client.js";
import { authenticateInit } from "../sasl/sasl-server.js";
import type { Transport } from "../transport/transport.js";
import { ByteWriter } from "../util/byte-writer.js";
import { deferred, ignoreRejection, type Deferred } from "../util/deferred.js";
import { FrameOutput } from "./frame-output.js";
import { IdleTimeout } from "./idle-timeout.js";
import {
  DEFAULT_CHANNEL_MAX,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_INPUT_SLICE_MS,
  DEFAULT_MAX_FRAME_SIZE,
  type ConnectionOptions,
} from "./options.js";
import { writesFullPerformatives } from "./performative-form.js";
import { clientHeaderStep, serverHeaderStep } from "./protocol-header-exchange.js";
import {
  connectionLostError,
  errorComposite,
  inputErrorReason,
  localCloseError,
  protocolError,
  remoteCloseError,
  type ErrorFields,
} from "./remote-errors.js";
import { AmqpSession, type SessionOptions } from "./session.js";
import { traceHeaderLine, traceLine } from "./trace.js";

/**
 * Where a connection's byte stream is: nothing sent or received yet, in the SASL layer, AMQP header
 * sent (the connecting side may write AMQP frames), AMQP layer up, or closed.
 */
export type ConnectionPhase = "idle" | "sasl" | "amqp-header" | "amqp" | "closed";

/**
 * The rest of a frame being assembled is read straight into its memory once at least this much of
 * it is missing (a transport that asks, see `FrameReader.readInto`); less is copied, so that a
 * read is not cut short at the end of a frame for a few bytes.
 */
const READ_IN_PLACE_BYTES = 8 * 1024;

export class AmqpConnection implements FrameSink {
  readonly options: Readonly<ConnectionOptions>;
  readonly role: "client" | "server";
  /** Performatives go out in full, every field written (see `performative-form.ts`). */
  readonly fullPerformatives: boolean;
  readonly containerId: string;
  readonly output = new FrameOutput();
  /** Accepting side: called for each session the peer begins (default: accepted). */
  onRemoteBegin: ((session: AmqpSession, begin: BeginFields) => void) | undefined;
  /** Called once when the connection is gone (error undefined for a clean close). */
  onClose: ((error: AMQPError | undefined) => void) | undefined;

  #phase: ConnectionPhase = "idle";
  #remote: OpenFields | undefined;
  #remoteMaxFrameSize = 512;
  #error: AMQPError | undefined;
  #transport: Transport | undefined;
  readonly #reader: FrameReader;
  readonly #decoder = new Decoder(Buffer.alloc(0));
  /** The fields of the TRANSFER being handled, rewritten for every one (its handlers keep none). */
  readonly #transferIn = blankTransfer();
  readonly #idle: IdleTimeout;
  /** AMQP frames written before the AMQP layer starts (pipelined open), released behind our AMQP header. */
  readonly #held = new ByteWriter(1024);
  /** The trace lines of the held frames, traced when the frames are released (wire order). */
  readonly #heldTrace: string[] = [];
  /** Connecting side: the SASL negotiator, while the SASL layer runs. */
  #saslClient: SaslClientNegotiator | undefined;
  /** The SASL layer succeeded (a second SASL header is then refused). */
  #saslDone = false;
  /** A sasl-init arrived (accepting side): a second one is refused. */
  #saslInitSeen = false;
  #saslIdentity: string | undefined;
  /** Our sessions by our channel; a free channel is undefined. */
  readonly #sessions: (AmqpSession | undefined)[] = [];
  /** Our sessions by the peer's channel (once the peer's BEGIN arrived). */
  readonly #byRemoteChannel = new Map<number, AmqpSession>();
  /** Sessions with dispositions to write before the next flush. */
  readonly #dispositionSessions = new Set<AmqpSession>();
  readonly #opened: Deferred<OpenFields> = deferred();
  readonly #closed: Deferred<AMQPError | undefined> = deferred();
  #openSent = false;
  #closeSent = false;
  #closeReceived = false;
  #closeTimer: NodeJS.Timeout | undefined;
  /** The frame reader's time slice ended: the transport is paused until the next turn. */
  #inputYielded = false;

  constructor(options: ConnectionOptions = {}) {
    this.options = options;
    this.role = options.role ?? "client";
    this.fullPerformatives = writesFullPerformatives(this.role);
    this.containerId = options.containerId ?? randomUUID();
    this.#reader = new FrameReader(this, options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, {
      ms: options.inputSliceMs ?? DEFAULT_INPUT_SLICE_MS,
    });
    this.#idle = new IdleTimeout(options, this.output, (description) => {
      this.closeWithError("amqp:resource-limit-exceeded", description);
    });
    ignoreRejection(this.#opened.promise);
    this.output.beforeFlush = () => {
      this.#flushDispositions();
    };
    this.output.onDrain = () => {
      this.#resumeAll();
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

  /** The peer's OPEN. */
  get remote(): OpenFields | undefined {
    return this.#remote;
  }

  /** Largest frame we may send (the peer's max-frame-size, at most 2^31). */
  get remoteMaxFrameSize(): number {
    return this.#remoteMaxFrameSize;
  }

  /** The error that ended the connection, if any. */
  get error(): AMQPError | undefined {
    return this.#error;
  }

  /** Accepting side: the authenticated SASL identity. */
  get saslIdentity(): string | undefined {
    return this.#saslIdentity;
  }

  get isOpen(): boolean {
    return this.#phase === "amqp" && this.#remote !== undefined && !this.#closeSent && !this.#closeReceived;
  }

  /** @internal Closing or closed: no new work is accepted. */
  get isClosing(): boolean {
    return this.#closeSent || this.#phase === "closed";
  }

  /** @internal Transfers may be written (the AMQP layer is up). */
  get canSendTransfers(): boolean {
    return this.#phase === "amqp" && this.#remote !== undefined && !this.#closeSent;
  }

  get transport(): Transport | undefined {
    return this.#transport;
  }

  /**
   * Starts the connection over `transport`. The connecting side sends its protocol header at once
   * (SASL with credentials, else AMQP followed by OPEN); the accepting side waits for the peer's.
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
      // (A stopped reader offers nothing.)
      readInto: () => this.#reader.readInto(READ_IN_PLACE_BYTES),
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
    if (this.role === "client") {
      const sasl = this.options.sasl;
      if (sasl) {
        this.#phase = "sasl";
        this.#saslClient = new SaslClientNegotiator(sasl, this.options.hostname);
        this.#writeRaw(protocolHeader(ProtocolId.Sasl));
      } else {
        this.#startAmqp();
      }
    }
  }

  // ---- protocol headers (AMQP 1.0 §2.2, §5.3.1) ----------------------------------------------------

  /** The peer's protocol header (from the frame reader): the next layer starts, or the connection fails. */
  onProtocolHeader(h: ProtocolHeader): void {
    this.options.trace?.(traceHeaderLine("<-", h));
    const step =
      this.role === "server"
        ? serverHeaderStep(h, this.options.saslServer, this.#saslDone)
        : clientHeaderStep(h, this.#phase === "sasl" ? ProtocolId.Sasl : ProtocolId.Amqp, this.options.sasl);
    if (step.answer !== undefined) this.#writeRaw(protocolHeader(step.answer));
    switch (step.next) {
      case "none":
        return;
      case "sasl":
        this.#phase = "sasl";
        this.#writeSasl(SaslMechanisms, {
          saslServerMechanisms: [...(this.options.saslServer?.mechanisms ?? ["ANONYMOUS"])],
        });
        return;
      case "amqp":
        this.#phase = "amqp";
        // Our AMQP header just went out: the frames held behind it follow.
        if (step.answer !== undefined) this.#releaseHeld();
        this.#idle.arm();
        return;
      case "fail":
        if (step.answer !== undefined) this.output.flush();
        this.#fail(step.error);
        return;
    }
  }

  /** Connecting side: AMQP header, OPEN, then everything held during SASL. */
  #startAmqp(): void {
    this.#phase = "amqp-header";
    this.#writeRaw(protocolHeader(ProtocolId.Amqp));
    this.open();
    this.#releaseHeld();
  }

  #writeRaw(bytes: Uint8Array): void {
    const trace = this.options.trace;
    if (trace) trace(traceHeaderLine("->", parseProtocolHeader(bytes)!));
    this.output.writer.bytes(bytes);
    this.output.frameWritten();
  }

  #releaseHeld(): void {
    if (this.#held.pos > 0) {
      this.output.writer.bytes(this.#held.view());
      this.#held.reset();
      this.output.frameWritten();
    }
    const trace = this.options.trace;
    if (trace) for (const line of this.#heldTrace.splice(0)) trace(line);
  }

  // ---- SASL (AMQP 1.0 §5.3) -------------------------------------------------------------------------

  /** One SASL frame whose descriptor `code` was read from `d` (the SASL layer is running). */
  #onSaslFrame(code: number, d: Decoder): void {
    if (this.role === "server") this.#onSaslServerFrame(code, d);
    else this.#onSaslClientFrame(code, d);
  }

  /** Accepting side: authenticates the sasl-init and answers with the outcome. */
  #onSaslServerFrame(code: number, d: Decoder): void {
    const trace = this.options.trace;
    if (code !== P.SaslInit && code !== P.SaslResponse)
      throw new DecodeError(`unexpected SASL frame 0x${code.toString(16)}`, d.pos);
    if (code === P.SaslResponse) {
      // We never send a challenge: a response is a protocol violation; refuse and close.
      if (trace) trace(traceLine("<-", code, 0, {}, 0));
      this.#writeSasl(SaslOutcome, { code: SaslCode.Auth });
      this.output.flush();
      this.#fail(
        new AuthenticationException("unexpected sasl-response (no challenge was sent)", {
          condition: "amqp:unauthorized-access",
        }),
      );
      return;
    }
    const init = SaslInit.decodeBody(d);
    if (trace) trace(traceLine("<-", code, 0, init, 0));
    if (this.#saslInitSeen) {
      // One sasl-init per exchange (AMQP 1.0 section 5.3.2). A second is no bad credential but a
      // broken exchange, which no retry repairs: sys-perm, and the connection ends.
      this.#writeSasl(SaslOutcome, { code: SaslCode.SysPerm });
      this.output.flush();
      this.#fail(
        new AuthenticationException("second sasl-init in one SASL exchange", {
          condition: "amqp:not-allowed",
        }),
      );
      return;
    }
    this.#saslInitSeen = true;
    const cert = this.#transport?.peerCertificate;
    void authenticateInit(this.options.saslServer ?? {}, init, cert).then((r) => {
      // Authentication is asynchronous: the connection may have failed meanwhile.
      if (this.#phase !== "sasl") return;
      this.#writeSasl(SaslOutcome, { code: r.ok ? SaslCode.Ok : r.code });
      if (r.ok) {
        this.#saslDone = true;
        this.#saslIdentity = r.identity;
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
  }

  /** Connecting side: answers the server's mechanisms and challenges, and reads its outcome. */
  #onSaslClientFrame(code: number, d: Decoder): void {
    const trace = this.options.trace;
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

  /** SASL frames go straight out (AMQP frames written meanwhile are held). */
  #writeSasl<T extends object>(composite: CompositeType<T>, value: T): void {
    writeCompositeFrame(this.output.writer, FrameType.Sasl, 0, composite, value, this.fullPerformatives);
    const trace = this.options.trace;
    if (trace) trace(traceLine("->", composite.code, 0, value, 0));
    this.output.frameWritten();
  }

  // ---- OPEN and sessions ---------------------------------------------------------------------------

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
    // Half of our threshold, as AMQP 1.0 section 2.4.5 advises: a peer that heartbeats at half of what
    // we announce still has room when its process is slow to get a core.
    if (o.idleTimeoutMs !== undefined && o.idleTimeoutMs > 0)
      open.idleTimeOut = Math.ceil(o.idleTimeoutMs / 2);
    if (o.offeredCapabilities !== undefined) open.offeredCapabilities = o.offeredCapabilities;
    if (o.desiredCapabilities !== undefined) open.desiredCapabilities = o.desiredCapabilities;
    if (o.properties !== undefined) open.properties = o.properties;
    this.writeFrame(0, Open, open);
  }

  /**
   * Begins a session on the lowest free channel (BEGIN goes out at once, pipelined; await
   * `session.begun()`).
   *
   * @throws AMQPConnectionError (`amqp:resource-limit-exceeded`) when every channel up to the
   *   channel-max of both sides is taken
   */
  createSession(options?: SessionOptions): AmqpSession {
    if (this.isClosing) throw this.#error ?? localCloseError("connection");
    const max = Math.min(this.options.channelMax ?? DEFAULT_CHANNEL_MAX, this.#remote?.channelMax ?? 65535);
    const ch = this.#freeChannel();
    if (ch > max) throw protocolError("amqp:resource-limit-exceeded", `no free channel (channel-max ${max})`);
    const s = new AmqpSession(this, ch, options, undefined);
    this.#sessions[ch] = s;
    s.writeBegin();
    return s;
  }

  #freeChannel(): number {
    let ch = 0;
    while (this.#sessions[ch] !== undefined) ch++;
    return ch;
  }

  /** @internal Removes an ended session from the channel table. */
  forgetSession(s: AmqpSession): void {
    if (this.#sessions[s.channel] === s) this.#sessions[s.channel] = undefined;
    const remote = s.remoteChannel;
    if (remote !== undefined && this.#byRemoteChannel.get(remote) === s) this.#byRemoteChannel.delete(remote);
    this.#dispositionSessions.delete(s);
  }

  /** Fails every session with `error`. */
  #terminateAll(error: AMQPError): void {
    for (const s of this.#sessions) s?.terminate(error);
  }

  /** Lets every session write again (the peer's OPEN arrived, or the transport drained). */
  #resumeAll(): void {
    for (const s of this.#sessions) s?.resume();
  }

  // ---- output ----------------------------------------------------------------------------------------

  /** @internal Writes one AMQP frame (held until the AMQP layer starts, during SASL). */
  writeFrame<T extends object>(channel: number, composite: CompositeType<T>, value: T): void {
    if (this.#phase === "closed") return;
    const amqpReady = this.#phase === "amqp" || this.#phase === "amqp-header";
    const w = amqpReady ? this.output.writer : this.#held;
    writeCompositeFrame(w, FrameType.Amqp, channel, composite, value, this.fullPerformatives);
    const trace = this.options.trace;
    if (trace) {
      // A held frame is traced when it is released, so the trace keeps the wire's order.
      const line = traceLine("->", composite.code, channel, value, 0);
      if (amqpReady) trace(line);
      else this.#heldTrace.push(line);
    }
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

  /** Writes the dispositions the sessions collected (just before a flush, or before CLOSE). */
  #flushDispositions(): void {
    for (const s of this.#dispositionSessions) s.flushDispositions();
    this.#dispositionSessions.clear();
  }

  // ---- input -----------------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    this.#idle.received();
    if (this.#phase === "closed") return;
    this.#readInput(chunk);
  }

  /**
   * Hands bytes to the frame reader (`chunk`), or lets it read on what it held back (undefined).
   * When its time slice ends (see `frame-reader.ts`), the transport stops reading and the rest
   * waits for the next turn of the event loop, so one peer's flood of frames cannot starve the
   * other connections of the process.
   */
  #readInput(chunk: Buffer | undefined): void {
    const reader = this.#reader;
    try {
      if (chunk === undefined) reader.resume();
      else reader.push(chunk);
    } catch (e) {
      const { condition, description } = inputErrorReason(e);
      this.closeWithError(condition, description, e);
      reader.stop();
      return;
    }
    if (reader.yielded && !this.#inputYielded) {
      this.#inputYielded = true;
      this.#transport?.pause();
      setImmediate(() => {
        this.#inputYielded = false;
        if (this.#phase === "closed") return;
        this.#readInput(undefined);
        // Yielded again: the next turn reads on (and resumes the transport) instead.
        if (!reader.yielded) this.#transport?.resume();
      });
    }
  }

  /** One frame from the frame reader; its body is `buf[start, end)`. */
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
        this.#onSaslFrame(code, d);
        return;
      }
      if (this.#phase !== "amqp") {
        // During SASL (or before any header was answered) no AMQP CLOSE can be sent: the socket closes.
        throw protocolError("amqp:not-allowed", "AMQP frame before the AMQP layer started");
      }
      // After our CLOSE only the peer's CLOSE matters (AMQP 1.0 §2.4.3).
      if (this.#closeSent && code !== P.Close) return;
      this.#dispatch(code, channel, d, end);
    } catch (e) {
      // The frame boundaries are intact: close with the error and keep reading for the peer's CLOSE.
      if (e instanceof FramingError) throw e;
      const { condition, description } = inputErrorReason(e);
      this.closeWithError(condition, description, e);
    }
  }

  /**
   * Routes one AMQP frame whose performative code was read from `d`; the frame's body ends at `end`
   * (a transfer's payload runs from the decoder's position to `end`). OPEN and CLOSE are the
   * connection's own; every other frame goes to the session on its channel. A transfer of which
   * nothing kept a view (its link copied the payload) releases the frame to the reader.
   *
   * @throws DecodeError for a performative that is not valid on a connection
   * @throws AMQPConnectionError (`amqp:not-allowed`) for a frame on a channel with no session
   */
  #dispatch(code: number, channel: number, d: Decoder, end: number): void {
    const trace = this.options.trace;
    // The first frame in either direction is an OPEN (AMQP 1.0 §2.4.1, open): nothing the peer
    // sends before it is handled, so a peer that never opens costs nothing but its bytes. A CLOSE
    // is taken all the same: its error says more than ours would.
    if (this.#remote === undefined && code !== P.Open && code !== P.Close) {
      throw protocolError(
        "amqp:not-allowed",
        `${PerformativeName[code] ?? `performative 0x${code.toString(16)}`} before OPEN: the first frame must be an OPEN`,
      );
    }
    // A channel above the channel-max we announced closes the connection (AMQP 1.0 §2.7.1, open).
    const channelMax = this.options.channelMax ?? DEFAULT_CHANNEL_MAX;
    if (channel > channelMax) {
      throw protocolError(
        "amqp:connection:framing-error",
        `frame on channel ${channel}, above the channel-max ${channelMax}`,
      );
    }
    if (code === P.Transfer) {
      const t = decodeTransferBody(d, this.#transferIn);
      // The payload is d.buf[d.pos, end): no view of it unless a reader asks for one.
      if (trace) {
        // The performative's fields, the tag a view of the frame (the range is the decoder's own).
        const { tagStart: _, tagEnd: __, ...fields } = t;
        fields.deliveryTag = transferTag(t, d.buf);
        trace(traceLine("<-", code, channel, fields, end - d.pos));
      }
      if (!this.#sessionOn(channel).handleTransfer(t, d.buf, d.pos, end)) this.#reader.releaseFrame();
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
        return this.#sessionOn(channel).handleAttach(f);
      }
      case P.Flow: {
        const f = Flow.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#sessionOn(channel).handleFlow(f);
      }
      case P.Disposition: {
        const f = Disposition.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#sessionOn(channel).handleDisposition(f);
      }
      case P.Detach: {
        const f = Detach.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        this.output.holdForTurn();
        return this.#sessionOn(channel).handleDetach(f);
      }
      case P.End: {
        const f = End.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        this.output.holdForTurn();
        const s = this.#sessionOn(channel);
        this.#byRemoteChannel.delete(channel);
        return s.handleEnd(f);
      }
      case P.Close: {
        const f = Close.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        this.output.holdForTurn();
        return this.#handleClose(f.error);
      }
      default:
        throw new DecodeError(
          `performative 0x${code.toString(16)} is not valid on an AMQP connection`,
          d.pos,
        );
    }
  }

  /** The session on the peer's channel `remoteChannel`; a frame for a channel with no session is a connection error. */
  #sessionOn(remoteChannel: number): AmqpSession {
    const s = this.#byRemoteChannel.get(remoteChannel);
    if (!s)
      throw protocolError("amqp:not-allowed", `frame on channel ${remoteChannel}, which has no session`);
    return s;
  }

  #handleOpen(f: OpenFields): void {
    if (this.#remote) throw protocolError("amqp:not-allowed", "second OPEN on the connection");
    // MIN-MAX-FRAME-SIZE (AMQP 1.0 section 2.7.1, open): no peer may announce less than 512.
    if (f.maxFrameSize !== undefined && f.maxFrameSize < 512) {
      throw protocolError("amqp:invalid-field", `OPEN max-frame-size ${f.maxFrameSize} is below 512`);
    }
    this.#remote = f;
    this.#remoteMaxFrameSize = Math.min(f.maxFrameSize ?? 0xffffffff, 0x7fffffff);
    this.#idle.remoteIdleTimeout(f.idleTimeOut ?? 0);
    if (this.role === "server") this.open();
    this.#opened.resolve(f);
    this.#resumeAll();
  }

  /** The peer's BEGIN: the answer to one of ours (it names our channel), or a session the peer begins. */
  #handleBegin(channel: number, f: BeginFields): void {
    if (f.remoteChannel !== undefined) {
      const s = this.#sessions[f.remoteChannel];
      if (!s || s.remoteChannel !== undefined)
        throw protocolError("amqp:not-allowed", `BEGIN answers unknown channel ${f.remoteChannel}`);
      this.#byRemoteChannel.set(channel, s);
      s.handleBegin(channel, f);
      return;
    }
    // The peer begins a session: create ours and answer.
    if (this.#byRemoteChannel.has(channel))
      throw protocolError("amqp:not-allowed", `channel ${channel} is already in use`);
    const ch = this.#freeChannel();
    const s = new AmqpSession(this, ch, undefined, channel);
    this.#sessions[ch] = s;
    this.#byRemoteChannel.set(channel, s);
    s.writeBegin();
    s.handleBegin(channel, f);
    this.onRemoteBegin?.(s, f);
  }

  // ---- CLOSE and teardown ------------------------------------------------------------------------------

  /**
   * Closes the connection: sends CLOSE (with an error if given), fails everything pending, and
   * waits (bounded by `closeTimeoutMs`) for the peer's CLOSE before closing the transport.
   */
  close(error?: ErrorFields): Promise<void> {
    if (this.#phase === "closed") return Promise.resolve();
    if (!this.#closeSent) {
      // Settlements decided before the close go out before it.
      this.#flushDispositions();
      // A CLOSE is never the first frame (AMQP 1.0 §2.4.1, open): an accepting side that has not
      // answered the peer's OPEN yet (closing because of what came instead) sends its OPEN first.
      if (this.#phase === "amqp" && !this.#openSent) this.open();
      this.#closeSent = true;
      const e = localCloseError("connection");
      this.#opened.reject(e);
      this.#terminateAll(e);
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

  /** @internal Closes because the peer broke the protocol (or our idle time-out expired). */
  closeWithError(condition: string, description: string, cause?: unknown): void {
    if (this.#closeSent) return;
    const err = protocolError(condition, description, cause);
    this.#error ??= err;
    this.#opened.reject(err);
    this.#terminateAll(err);
    void this.close({ condition, description });
    // After a framing error the byte stream cannot be parsed: the peer's CLOSE cannot be read.
    if (condition === "amqp:connection:framing-error") this.#shutdown(err);
  }

  #handleClose(error: ErrorFields | undefined): void {
    this.#closeReceived = true;
    const err = error ? remoteCloseError(error) : undefined;
    if (err) this.#error ??= err;
    const failure =
      err ??
      remoteCloseError({
        condition: "amqp:connection:forced",
        description: "the peer closed the connection",
      });
    this.#opened.reject(failure);
    this.#terminateAll(failure);
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.writeFrame(0, Close, {});
      this.output.flush();
    }
    this.#shutdown(err);
  }

  #fail(error: AMQPError): void {
    this.#error ??= error;
    this.#opened.reject(error);
    this.#terminateAll(error);
    this.#closeSent = true;
    this.#shutdown(error);
  }

  #onTransportClosed(cause: Error | undefined): void {
    if (this.#phase === "closed") return;
    if (!this.#drainInput()) return;
    // After our CLOSE, a peer that drops the socket instead of answering still closed cleanly.
    const clean = this.#closeSent && (this.#closeReceived || this.#error === undefined);
    const err = clean ? undefined : (this.#error ?? connectionLostError(cause));
    if (err) {
      this.#error ??= err;
      this.#opened.reject(err);
      this.#terminateAll(err);
    }
    this.#finish(
      this.#closeSent && !this.#closeReceived && this.#error === undefined ? undefined : this.#error,
    );
  }

  /**
   * Handles what the frame reader held back, at once: what arrived before the transport closed is
   * handled before the close (a CLOSE the peer sent last, say). False when that ended the connection.
   */
  #drainInput(): boolean {
    if (!this.#reader.yielded) return true;
    try {
      this.#reader.drain();
    } catch (e) {
      const { condition, description } = inputErrorReason(e);
      this.closeWithError(condition, description, e);
      this.#reader.stop();
    }
    return this.#phase !== "closed";
  }

  #shutdown(error: AMQPError | undefined): void {
    if (this.#phase === "closed") return;
    this.output.flush();
    this.#transport?.end();
    this.#finish(error ?? this.#error);
  }

  #finish(error: AMQPError | undefined): void {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.#reader.stop();
    this.output.close();
    this.#idle.stop();
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.#closed.resolve(error);
    this.onClose?.(error);
  }
}
