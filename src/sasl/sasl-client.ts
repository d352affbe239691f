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
import { SaslCode, type SaslMechanism, type SaslMechanismChoice } from "./mechanisms.js";

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

/**
 * The connecting side's negotiation. Given several mechanisms (in order of preference), it uses the
 * first one the server offers.
 */
export class SaslClientNegotiator {
  readonly #preferred: readonly SaslMechanism[];
  readonly #hostname: string | undefined;
  /** The mechanism in use, once the server's mechanisms arrived (the first preferred one before). */
  #mechanism: SaslMechanism | undefined;

  constructor(mechanism: SaslMechanismChoice, hostname: string | undefined) {
    this.#preferred = Array.isArray(mechanism)
      ? [...(mechanism as readonly SaslMechanism[])]
      : [mechanism as SaslMechanism];
    this.#mechanism = this.#preferred[0];
    this.#hostname = hostname;
  }

  /** The name of the mechanism in use (the chosen one once the server's mechanisms arrived). */
  get mechanismName(): string | undefined {
    return this.#mechanism?.name;
  }

  onMechanisms(f: SaslMechanismsFields): SaslClientStep {
    const offered = f.saslServerMechanisms;
    const chosen = this.#preferred.find((m) => offered.includes(m.name));
    if (chosen === undefined) {
      const names = this.#preferred.map((m) => m.name);
      const ours =
        names.length === 1
          ? `SASL mechanism ${names[0] ?? ""} is not`
          : `None of the SASL mechanisms ${names.join(", ") || "(none given)"} is`;
      return {
        error: new AuthenticationException(
          `${ours} offered by the server (it offers ${offered.join(", ") || "none"})`,
          { condition: "amqp:unauthorized-access", info: { offered: offered.join(" ") } },
        ),
      };
    }
    this.#mechanism = chosen;
    const frame: SaslInitFields = { mechanism: chosen.name };
    const initial = chosen.initialResponse();
    if (initial !== undefined) frame.initialResponse = initial;
    if (this.#hostname !== undefined) frame.hostname = this.#hostname;
    return { send: "init", frame };
  }

  onChallenge(f: SaslChallengeFields): SaslClientStep {
    const response = this.#mechanism?.respond?.(f.challenge) ?? new Uint8Array(0);
    return { send: "response", frame: { response } };
  }

  onOutcome(f: SaslOutcomeFields): SaslClientStep {
    if (f.code === SaslCode.Ok) return { done: true };
    const text = CODE_TEXT[f.code] ?? `authentication failed with sasl-code ${f.code}`;
    return {
      error: new AuthenticationException(`${text} (mechanism ${this.#mechanism?.name ?? "none"})`, {
        condition: "amqp:unauthorized-access",
        description: text,
        info: { saslCode: f.code },
        retryable: f.code === SaslCode.SysTemp,
      }),
    };
  }
}
