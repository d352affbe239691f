/**
 * SASL mechanisms of the connecting side: ANONYMOUS, PLAIN, EXTERNAL, MSSBCBS.
 * Secrets (passwords) are held in non-enumerable fields and never appear in `toString()`, traces
 * or errors.
 */
import { asBuffer } from "../util/buffer-view.js";

/** A client-side SASL mechanism. */
export interface SaslMechanism {
  /** The mechanism name sent in sasl-init, e.g. `PLAIN`. */
  readonly name: string;
  /** The initial response of sasl-init, if any. */
  initialResponse(): Uint8Array | undefined;
  /** Answers a server challenge (default: empty response). */
  respond?(challenge: Uint8Array): Uint8Array;
}

/** SASL ANONYMOUS (RFC 4505): optional trace information. */
export class SaslAnonymousMechanism implements SaslMechanism {
  readonly name = "ANONYMOUS";
  readonly #trace: string;
  constructor(trace = "") {
    this.#trace = trace;
  }
  initialResponse(): Uint8Array {
    return Buffer.from(this.#trace, "utf8");
  }
}

/** SASL PLAIN (RFC 4616): `authzid NUL authcid NUL password`. */
export class SaslPlainMechanism implements SaslMechanism {
  readonly name = "PLAIN";
  readonly username: string;
  readonly #password: string;
  readonly #authzid: string;
  constructor(username: string, password: string, authzid = "") {
    this.username = username;
    this.#password = password;
    this.#authzid = authzid;
  }
  initialResponse(): Uint8Array {
    return Buffer.from(`${this.#authzid}\0${this.username}\0${this.#password}`, "utf8");
  }
  toString(): string {
    return `PLAIN(${this.username})`;
  }
}

/** SASL EXTERNAL (RFC 4422 appendix A): identity from the TLS client certificate. */
export class SaslExternalMechanism implements SaslMechanism {
  readonly name = "EXTERNAL";
  readonly #authzid: string;
  constructor(authzid = "") {
    this.#authzid = authzid;
  }
  initialResponse(): Uint8Array {
    return Buffer.from(this.#authzid, "utf8");
  }
}

/**
 * SASL MSSBCBS: the mechanism of Azure Service Bus / Event Hubs token authentication. The SASL
 * exchange carries no credentials (no initial response at all, as Azure's uamqp-C sends it); the
 * client authorizes itself afterwards with a token put on the `$cbs` node (docs/broker.md, "CBS").
 */
export class SaslMssbcbsMechanism implements SaslMechanism {
  readonly name = "MSSBCBS";
  initialResponse(): undefined {
    return undefined;
  }
}

/**
 * The mechanism of a connecting side: one mechanism, or several in order of preference (the first
 * one the server offers is used; a token auth prefers MSSBCBS and falls back to ANONYMOUS).
 */
export type SaslMechanismChoice = SaslMechanism | readonly SaslMechanism[];

/** Decoded SASL PLAIN response (accepting side). */
export interface PlainCredentials {
  readonly authzid: string;
  readonly username: string;
  readonly password: string;
}

/** Parses a PLAIN initial response; undefined if malformed. */
export function parsePlainResponse(bytes: Uint8Array | undefined): PlainCredentials | undefined {
  if (!bytes) return undefined;
  const b = asBuffer(bytes);
  const first = b.indexOf(0);
  if (first < 0) return undefined;
  const second = b.indexOf(0, first + 1);
  if (second < 0) return undefined;
  return {
    authzid: b.toString("utf8", 0, first),
    username: b.toString("utf8", first + 1, second),
    password: b.toString("utf8", second + 1),
  };
}

/** SASL outcome codes. */
export const SaslCode = {
  Ok: 0,
  Auth: 1,
  Sys: 2,
  SysPerm: 3,
  SysTemp: 4,
} as const;
export type SaslCode = (typeof SaslCode)[keyof typeof SaslCode];
