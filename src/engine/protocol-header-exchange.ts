/**
 * The protocol-header exchange that opens each layer of a connection (AMQP 1.0 §2.2, §5.3.1):
 * given the header the peer sent, which layer comes next, which header we answer with, and the
 * error when the two sides do not agree. Pure decisions; the connection carries them out.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { AuthenticationException } from "../errors/exceptions.js";
import { isVersion10, ProtocolId, type ProtocolHeader } from "../frames/protocol-header.js";
import type { SaslMechanismChoice } from "../sasl/mechanisms.js";
import type { SaslServerOptions } from "../sasl/sasl-server.js";
import { protocolError } from "./remote-errors.js";

/**
 * What to do after the peer's protocol header. `answer` is the header to send back first
 * (the accepting side always answers; the connecting side already sent its own).
 */
export type HeaderStep =
  /** The SASL layer starts: the accepting side offers its mechanisms. */
  | { readonly next: "sasl"; readonly answer: ProtocolId }
  /** The AMQP layer starts. */
  | { readonly next: "amqp"; readonly answer: ProtocolId | undefined }
  /** Connecting side: the server confirmed the SASL layer; its sasl-mechanisms come next. */
  | { readonly next: "none"; readonly answer: undefined }
  /** The sides disagree: send `answer` (if any), flush, and fail the connection with `error`. */
  | { readonly next: "fail"; readonly answer: ProtocolId | undefined; readonly error: AMQPError };

/**
 * Connecting side: checks the server's answer to the header we sent (`sent`).
 *
 * @param sasl - our SASL mechanism, if we authenticate (a server asking for SASL without it is an
 *   authentication failure, not a framing error)
 * @example
 * ```ts
 * clientHeaderStep(peerHeader, ProtocolId.Amqp, undefined); // { next: "amqp", answer: undefined }
 * ```
 */
export function clientHeaderStep(
  h: ProtocolHeader,
  sent: ProtocolId,
  sasl: SaslMechanismChoice | undefined,
): HeaderStep {
  if (!isVersion10(h, sent)) return { next: "fail", answer: undefined, error: headerMismatchError(h, sasl) };
  return sent === ProtocolId.Sasl ? { next: "none", answer: undefined } : { next: "amqp", answer: undefined };
}

/**
 * Accepting side: answers the client's header. A SASL header starts the SASL layer (when we have
 * a SASL policy and it has not run yet); an AMQP header starts the AMQP layer unless our policy
 * requires SASL first; anything else is answered with the header we support and refused.
 *
 * @param sasl - our SASL policy (undefined: no SASL layer required)
 * @param saslDone - the SASL layer already succeeded on this connection
 * @example
 * ```ts
 * serverHeaderStep(peerHeader, { mechanisms: ["PLAIN"] }, false); // { next: "sasl", answer: ProtocolId.Sasl }
 * ```
 */
export function serverHeaderStep(
  h: ProtocolHeader,
  sasl: SaslServerOptions | undefined,
  saslDone: boolean,
): HeaderStep {
  if (isVersion10(h, ProtocolId.Sasl) && sasl && !saslDone) {
    return { next: "sasl", answer: ProtocolId.Sasl };
  }
  if (isVersion10(h, ProtocolId.Amqp)) {
    const allowNoSasl =
      sasl === undefined || (sasl.allowNoSasl ?? (sasl.mechanisms ?? ["ANONYMOUS"]).includes("ANONYMOUS"));
    if (!saslDone && !allowNoSasl) {
      // We require SASL: answer with the header we support and close (AMQP 1.0 §2.2).
      return {
        next: "fail",
        answer: ProtocolId.Sasl,
        error: new AuthenticationException("client skipped the required SASL layer", {
          condition: "amqp:unauthorized-access",
        }),
      };
    }
    return { next: "amqp", answer: ProtocolId.Amqp };
  }
  // Unsupported protocol or version: answer with what we support and close.
  return {
    next: "fail",
    answer: sasl ? ProtocolId.Sasl : ProtocolId.Amqp,
    error: protocolError(
      "amqp:connection:framing-error",
      `unsupported protocol header id ${h.id} version ${h.major}.${h.minor}.${h.revision}`,
    ),
  };
}

/** Connecting side: the server answered with another header than ours. */
function headerMismatchError(h: ProtocolHeader, sasl: SaslMechanismChoice | undefined): AMQPError {
  return h.id === ProtocolId.Sasl && !sasl
    ? new AuthenticationException("the peer requires SASL authentication but no credentials were given", {
        condition: "amqp:unauthorized-access",
      })
    : protocolError(
        "amqp:connection:framing-error",
        `the peer answered with protocol header id ${h.id} version ${h.major}.${h.minor}.${h.revision}`,
      );
}
