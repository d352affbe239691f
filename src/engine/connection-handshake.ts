/**
 * The handshake chain of a connection's byte stream (spec 2.2, 5.3): which layer the stream is in,
 * the protocol headers each side sends, the SASL layer between them, and the AMQP frames written
 * early (a pipelined OPEN, BEGIN or ATTACH) that are held until the AMQP layer is up.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import type { CompositeType } from "../codec/composite.js";
import type { Decoder } from "../codec/decoder.js";
import { FrameType } from "../frames/frame-reader.js";
import { writeCompositeFrame } from "../frames/frame-writer.js";
import { protocolHeader, ProtocolId, type ProtocolHeader } from "../frames/protocol-header.js";
import type { PeerCertificate } from "../transport/transport.js";
import { ByteWriter } from "../util/byte-writer.js";
import type { FrameOutput } from "./frame-output.js";
import type { ConnectionOptions } from "./options.js";
import { clientHeaderStep, serverHeaderStep } from "./protocol-header-exchange.js";
import { SaslPhase } from "./sasl-phase.js";
import { traceLine } from "./trace.js";

/**
 * Where a connection's byte stream is: nothing sent or received yet, in the SASL layer, AMQP header
 * sent (the connecting side may write AMQP frames), AMQP layer up, or closed.
 */
export type ConnectionPhase = "idle" | "sasl" | "amqp-header" | "amqp" | "closed";

/** What the handshake needs from its connection. */
export interface ConnectionHandshakeHost {
  /** Connecting side ("client") or accepting side ("server"). */
  readonly role: "client" | "server";
  /** Frames are written in full (every field; see `performative-form.ts`). */
  readonly fullPerformatives: boolean;
  /** `sasl`, `saslServer`, `hostname` and `trace` are read from here. */
  readonly options: Readonly<ConnectionOptions>;
  /** Where headers and frames are written. */
  readonly output: FrameOutput;
  /** Accepting side: the peer's TLS certificate (for SASL EXTERNAL). */
  peerCertificate(): PeerCertificate | undefined;
  /** Accepting side: the peer authenticated as `identity`. */
  authenticated(identity: string | undefined): void;
  /** The next protocol header is expected (the SASL layer is done). */
  expectProtocolHeader(): void;
  /** Connecting side: sends our OPEN (right after our AMQP header). */
  sendOpen(): void;
  /** The AMQP layer is up (idle timers may start). */
  amqpLayerUp(): void;
  /** Fails the connection. */
  fail(error: AMQPError): void;
}

/**
 * One connection's handshake chain, on either side.
 *
 * @example
 * ```ts
 * const handshake = new ConnectionHandshake(host);
 * handshake.start(); // connecting side: SASL header (with credentials) or AMQP header + OPEN
 * handshake.writeFrame(0, Begin, begin); // held until the AMQP layer is up
 * ```
 */
export class ConnectionHandshake {
  /** Which layer the byte stream is in. */
  phase: ConnectionPhase = "idle";
  readonly #host: ConnectionHandshakeHost;
  readonly #sasl: SaslPhase;
  /** AMQP frames written before the AMQP layer starts (pipelined open). */
  readonly #held = new ByteWriter(1024);

  constructor(host: ConnectionHandshakeHost) {
    this.#host = host;
    this.#sasl = new SaslPhase({
      role: host.role,
      fullPerformatives: host.fullPerformatives,
      options: host.options,
      output: host.output,
      peerCertificate: () => host.peerCertificate(),
      inSaslPhase: () => this.phase === "sasl",
      authenticated: (identity) => host.authenticated(identity),
      expectProtocolHeader: () => host.expectProtocolHeader(),
      startAmqp: () => this.#startAmqp(),
      fail: (error) => host.fail(error),
    });
  }

  /** Connecting side: sends the first protocol header (SASL with credentials; else AMQP, then OPEN). */
  start(): void {
    const sasl = this.#host.options.sasl;
    if (sasl) {
      this.phase = "sasl";
      this.#sasl.startClient(sasl);
      this.#writeRaw(protocolHeader(ProtocolId.Sasl));
    } else {
      this.#startAmqp();
    }
  }

  /** Writes one AMQP frame, or holds it until the AMQP layer starts (during SASL). */
  writeFrame<T extends object>(channel: number, composite: CompositeType<T>, value: T): void {
    if (this.phase === "closed") return;
    const { options, output, fullPerformatives } = this.#host;
    const amqpReady = this.phase === "amqp" || this.phase === "amqp-header";
    const w = amqpReady ? output.writer : this.#held;
    writeCompositeFrame(w, FrameType.Amqp, channel, composite, value, fullPerformatives);
    if (options.trace) options.trace(traceLine("->", composite.code, channel, value, 0));
    if (amqpReady) output.frameWritten();
  }

  /** Handles the peer's protocol header: the next layer starts, or the connection fails. */
  onProtocolHeader(h: ProtocolHeader): void {
    const host = this.#host;
    const step =
      host.role === "server"
        ? serverHeaderStep(h, host.options.saslServer, this.#sasl.done)
        : clientHeaderStep(h, this.phase === "sasl" ? ProtocolId.Sasl : ProtocolId.Amqp, host.options.sasl);
    if (step.answer !== undefined) this.#writeRaw(protocolHeader(step.answer));
    switch (step.next) {
      case "none":
        return;
      case "sasl":
        this.phase = "sasl";
        this.#sasl.offerMechanisms();
        return;
      case "amqp":
        this.phase = "amqp";
        // Our AMQP header just went out: the frames held behind it follow.
        if (step.answer !== undefined) this.#releaseHeld();
        host.amqpLayerUp();
        return;
      case "fail":
        if (step.answer !== undefined) host.output.flush();
        host.fail(step.error);
        return;
    }
  }

  /** Handles one SASL frame (the connection checked that the SASL layer is running). */
  onSaslFrame(code: number, d: Decoder): void {
    this.#sasl.onFrame(code, d);
  }

  #writeRaw(bytes: Uint8Array): void {
    this.#host.output.writer.bytes(bytes);
    this.#host.output.frameWritten();
  }

  /** Connecting side: AMQP header, OPEN, then everything held during SASL. */
  #startAmqp(): void {
    this.phase = "amqp-header";
    this.#writeRaw(protocolHeader(ProtocolId.Amqp));
    this.#host.sendOpen();
    this.#releaseHeld();
  }

  #releaseHeld(): void {
    const output = this.#host.output;
    if (this.#held.pos > 0) {
      output.writer.bytes(this.#held.view());
      this.#held.reset();
      output.frameWritten();
    }
  }
}
