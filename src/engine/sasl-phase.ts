/**
 * The SASL layer of a connection (spec 5.3), on either side. The connecting side answers the
 * server's mechanisms, challenges and outcome through `SaslClientNegotiator`; the accepting side
 * offers its mechanisms, authenticates the sasl-init and sends the outcome. SASL frames go straight
 * to the output (AMQP frames written meanwhile are held by the connection until its AMQP layer starts).
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { AuthenticationException } from "../errors/exceptions.js";
import { DecodeError } from "../errors/decode-error.js";
import type { CompositeType } from "../codec/composite.js";
import type { Decoder } from "../codec/decoder.js";
import { FrameType } from "../frames/frame-reader.js";
import { writeCompositeFrame } from "../frames/frame-writer.js";
import {
  PerformativeCode as P,
  SaslChallenge,
  SaslInit,
  SaslMechanisms,
  SaslOutcome,
  SaslResponse,
} from "../frames/performatives.js";
import { SaslCode, type SaslMechanismChoice } from "../sasl/mechanisms.js";
import { SaslClientNegotiator, type SaslClientStep } from "../sasl/sasl-client.js";
import { authenticateInit } from "../sasl/sasl-server.js";
import type { PeerCertificate } from "../transport/transport.js";
import type { FrameOutput } from "./frame-output.js";
import type { ConnectionOptions } from "./options.js";
import { traceLine, type TraceSink } from "./trace.js";

/** What the SASL layer needs from its connection. */
export interface SaslPhaseHost {
  /** Connecting side ("client") or accepting side ("server"). */
  readonly role: "client" | "server";
  /** SASL frames are written in full (every field; see `performative-form.ts`). */
  readonly fullPerformatives: boolean;
  /** `saslServer`, `hostname` and `trace` are read from here. */
  readonly options: Readonly<ConnectionOptions>;
  /** Where SASL frames are written. */
  readonly output: FrameOutput;
  /** Accepting side: the peer's TLS certificate (for EXTERNAL), read when the sasl-init arrives. */
  peerCertificate(): PeerCertificate | undefined;
  /** True while the connection is still in its SASL phase (authentication is asynchronous). */
  inSaslPhase(): boolean;
  /** Accepting side: the peer authenticated as `identity`. */
  authenticated(identity: string | undefined): void;
  /** The SASL layer is done: the next protocol header is expected. */
  expectProtocolHeader(): void;
  /** Connecting side: the SASL layer succeeded, start the AMQP layer. */
  startAmqp(): void;
  /** Fails the connection (authentication failed). */
  fail(error: AMQPError): void;
}

/**
 * One connection's SASL layer. `ConnectionHandshake` sends and checks the protocol headers; this class
 * handles the SASL frames between them.
 *
 * @example
 * ```ts
 * const sasl = new SaslPhase(host);
 * sasl.startClient(new SaslPlainMechanism("user", "secret")); // connecting side, before the SASL header goes out
 * // for each SASL frame: sasl.onFrame(code, decoder)
 * ```
 */
export class SaslPhase {
  readonly #host: SaslPhaseHost;
  #client: SaslClientNegotiator | undefined;
  #done = false;

  constructor(host: SaslPhaseHost) {
    this.#host = host;
  }

  /** True once authentication succeeded (the SASL layer is over). */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Connecting side: authenticates with `mechanism` (or the first of several that the server
   * offers) once the server's mechanisms arrive.
   */
  startClient(mechanism: SaslMechanismChoice): void {
    this.#client = new SaslClientNegotiator(mechanism, this.#host.options.hostname);
  }

  /** Accepting side: sends sasl-mechanisms (after the SASL protocol header). */
  offerMechanisms(): void {
    const mechanisms = this.#host.options.saslServer?.mechanisms ?? ["ANONYMOUS"];
    this.#write(SaslMechanisms, { saslServerMechanisms: [...mechanisms] });
  }

  /** Handles one SASL frame whose descriptor `code` was read from `d`. */
  onFrame(code: number, d: Decoder): void {
    const trace = this.#host.options.trace;
    if (this.#host.role === "server") this.#onServerFrame(code, d, trace);
    else this.#onClientFrame(code, d, trace);
  }

  #onServerFrame(code: number, d: Decoder, trace: TraceSink | undefined): void {
    const host = this.#host;
    if (code !== P.SaslInit && code !== P.SaslResponse)
      throw new DecodeError(`unexpected SASL frame 0x${code.toString(16)}`, d.pos);
    if (code === P.SaslResponse) {
      // We never send a challenge: a response is a protocol violation; refuse and close.
      if (trace) trace(traceLine("<-", code, 0, {}, 0));
      this.#write(SaslOutcome, { code: SaslCode.Auth });
      host.output.flush();
      host.fail(
        new AuthenticationException("unexpected sasl-response (no challenge was sent)", {
          condition: "amqp:unauthorized-access",
        }),
      );
      return;
    }
    const init = SaslInit.decodeBody(d);
    if (trace) trace(traceLine("<-", code, 0, init, 0));
    const cert = host.peerCertificate();
    void authenticateInit(host.options.saslServer ?? {}, init, cert).then((r) => {
      if (!host.inSaslPhase()) return;
      this.#write(SaslOutcome, { code: r.ok ? SaslCode.Ok : r.code });
      if (r.ok) {
        this.#done = true;
        host.authenticated(r.identity);
        host.expectProtocolHeader();
      } else {
        host.output.flush();
        host.fail(
          new AuthenticationException(`SASL ${init.mechanism} authentication failed`, {
            condition: "amqp:unauthorized-access",
          }),
        );
      }
    });
  }

  #onClientFrame(code: number, d: Decoder, trace: TraceSink | undefined): void {
    const host = this.#host;
    const neg = this.#client!;
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
      host.fail(step.error);
    } else if ("done" in step) {
      this.#done = true;
      host.expectProtocolHeader();
      host.startAmqp();
    } else if (step.send === "init") {
      this.#write(SaslInit, step.frame);
    } else {
      this.#write(SaslResponse, step.frame);
    }
  }

  #write<T extends object>(composite: CompositeType<T>, value: T): void {
    const { options, output, fullPerformatives } = this.#host;
    writeCompositeFrame(output.writer, FrameType.Sasl, 0, composite, value, fullPerformatives);
    if (options.trace) options.trace(traceLine("->", composite.code, 0, value, 0));
    output.frameWritten();
  }
}
