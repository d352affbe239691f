/**
 * The connecting side of the SASL layer: choose the mechanism the server offers, send sasl-init,
 * answer challenges, and read the outcome.
 */
import { AuthenticationException } from "../errors/exceptions.js";
import type {
  SaslChallengeFields,
  SaslInitFields,
  SaslMechanismsFields,
  SaslOutcomeFields,
  SaslResponseFields,
} from "../frames/performatives.js";
import { SaslCode, type SaslMechanism } from "./mechanisms.js";

/** What the negotiator wants the connection to do next. */
export type SaslClientStep =
  | { readonly send: "init"; readonly frame: SaslInitFields }
  | { readonly send: "response"; readonly frame: SaslResponseFields }
  | { readonly done: true }
  | { readonly error: AuthenticationException };

const CODE_TEXT: Record<number, string> = {
  [SaslCode.Auth]: "authentication failed (bad credentials)",
  [SaslCode.Sys]: "authentication failed: system error",
  [SaslCode.SysPerm]: "authentication failed: permanent system error",
  [SaslCode.SysTemp]: "authentication failed: temporary system error",
};

export class SaslClientNegotiator {
  readonly #mechanism: SaslMechanism;
  readonly #hostname: string | undefined;

  constructor(mechanism: SaslMechanism, hostname: string | undefined) {
    this.#mechanism = mechanism;
    this.#hostname = hostname;
  }

  onMechanisms(f: SaslMechanismsFields): SaslClientStep {
    const offered = f.saslServerMechanisms;
    const name = this.#mechanism.name;
    if (!offered.includes(name)) {
      return {
        error: new AuthenticationException(
          `SASL mechanism ${name} is not offered by the server (it offers ${offered.join(", ") || "none"})`,
          { condition: "amqp:unauthorized-access", info: { offered: offered.join(" ") } },
        ),
      };
    }
    const frame: SaslInitFields = { mechanism: name };
    const initial = this.#mechanism.initialResponse();
    if (initial !== undefined) frame.initialResponse = initial;
    if (this.#hostname !== undefined) frame.hostname = this.#hostname;
    return { send: "init", frame };
  }

  onChallenge(f: SaslChallengeFields): SaslClientStep {
    const response = this.#mechanism.respond?.(f.challenge) ?? new Uint8Array(0);
    return { send: "response", frame: { response } };
  }

  onOutcome(f: SaslOutcomeFields): SaslClientStep {
    if (f.code === SaslCode.Ok) return { done: true };
    const text = CODE_TEXT[f.code] ?? `authentication failed with sasl-code ${f.code}`;
    return {
      error: new AuthenticationException(`${text} (mechanism ${this.#mechanism.name})`, {
        condition: "amqp:unauthorized-access",
        description: text,
        info: { saslCode: f.code },
        retryable: f.code === SaslCode.SysTemp,
      }),
    };
  }
}
