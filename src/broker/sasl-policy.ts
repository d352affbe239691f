/**
 * The broker's SASL policy: which mechanisms are offered, who gets in, and how fast a source address
 * may keep guessing passwords. One instance per broker; it owns the failed-login counters. Each
 * connection gets a `SaslAdmission`, which remembers how its client got in.
 *
 * With PLAIN users configured the door is locked: ANONYMOUS is not offered and a client that skips
 * SASL is refused, unless `allowAnonymous` says otherwise. MSSBCBS (Azure's token authentication:
 * no credentials in SASL, a token put on `$cbs` afterwards) is offered wherever anonymous clients are
 * allowed, and next to users only when `$cbs` verifies tokens (`cbs.keys` or `cbs.validateJwt`); such
 * a client then reaches only what its verified tokens grant (docs/broker.md, "Authentication").
 */
import type { SaslAuthRequest, SaslServerOptions } from "../sasl/sasl-server.js";
import type { Transport } from "../transport/transport.js";
import { sleep } from "../policy/wait.js";
import { BrokerError } from "./errors.js";
import { BROKER_DEFAULTS, type BrokerOptions, type BrokerSaslOptions } from "./options.js";

/** The mechanism of clients that authorize themselves with `$cbs` tokens (Azure's token authentication). */
export const CBS_MECHANISM = "MSSBCBS";

/** Mechanisms that carry no credentials: their successes do not reset a source's failed logins. */
const CREDENTIAL_FREE = new Set(["ANONYMOUS", CBS_MECHANISM]);

/** First delay after a failed login from one source address; it doubles with each failure. */
const FIRST_FAILURE_DELAY_MS = 50;
/** A source address's failures are forgotten after this long without another failure. */
const FAILURE_MEMORY_MS = 10 * 60_000;
/** Bound of the failure table, so that many source addresses cannot grow it without end. */
const MAX_TRACKED_SOURCES = 10_000;

interface FailureRecord {
  count: number;
  lastAtMs: number;
}

export class BrokerSaslPolicy {
  readonly #options: BrokerSaslOptions | false | undefined;
  readonly #requestCert: boolean;
  readonly #allowAnonymous: boolean;
  /** Whether MSSBCBS is offered and accepted. */
  readonly #allowCbs: boolean;
  readonly #maxDelayMs: number;
  readonly #failures = new Map<string, FailureRecord>();

  /** @throws {BrokerError} a configuration that would let anonymous clients past configured users by accident. */
  constructor(options: BrokerOptions) {
    const s = options.sasl;
    this.#options = s;
    this.#requestCert = options.tls?.requestCert === true;
    const hasUsers = s !== false && s?.users !== undefined;
    this.#allowAnonymous = s === false ? true : (s?.allowAnonymous ?? !hasUsers);
    const cbsVerifies = options.cbs?.keys !== undefined || options.cbs?.validateJwt !== undefined;
    this.#allowCbs = this.#allowAnonymous || cbsVerifies;
    this.#maxDelayMs = Math.max(
      0,
      (s === false ? undefined : s?.failedLoginDelayMs) ?? BROKER_DEFAULTS.sasl.failedLoginDelayMs,
    );
    if (s !== false && s !== undefined && !this.#allowAnonymous) {
      if (s.mechanisms?.includes("ANONYMOUS") === true) {
        throw new BrokerError(
          "sasl.mechanisms offers ANONYMOUS while users are configured: set sasl.allowAnonymous to true to let anonymous clients in",
        );
      }
      if (s.mechanisms?.includes(CBS_MECHANISM) === true && !cbsVerifies) {
        throw new BrokerError(
          "sasl.mechanisms offers MSSBCBS while users are configured but $cbs verifies no token: configure cbs.keys (or cbs.validateJwt), or set sasl.allowAnonymous to true",
        );
      }
      if (s.allowNoSasl === true) {
        throw new BrokerError(
          "sasl.allowNoSasl is true while users are configured: set sasl.allowAnonymous to true to let clients without SASL in",
        );
      }
    }
  }

  /** Whether clients without credentials get in (ANONYMOUS, or no SASL layer at all). */
  get allowAnonymous(): boolean {
    return this.#allowAnonymous;
  }

  /** The SASL side of a new connection over `transport`. */
  admit(transport: Transport): SaslAdmission {
    // An MSSBCBS client is confined to its tokens where it would otherwise get more than an
    // anonymous client may.
    return new SaslAdmission(this.#serverOptions(transport), !this.#allowAnonymous);
  }

  /** The engine's `saslServer` options for a connection over `transport` (undefined: no SASL layer). */
  #serverOptions(transport: Transport): SaslServerOptions | undefined {
    const s = this.#options;
    if (s === false) return undefined;
    const external = transport.encrypted && this.#requestCert;
    const mechanisms = s?.mechanisms ?? [
      ...(external ? ["EXTERNAL"] : []),
      "PLAIN",
      ...(this.#allowCbs ? [CBS_MECHANISM] : []),
      ...(this.#allowAnonymous ? ["ANONYMOUS"] : []),
    ];
    const source = transport.remoteAddress ?? "unknown";
    return {
      mechanisms,
      allowNoSasl: s?.allowNoSasl ?? this.#allowAnonymous,
      authenticate: async (req) => {
        const ok = this.#check(req);
        if (ok) {
          if (!CREDENTIAL_FREE.has(req.mechanism)) this.#failures.delete(source);
          return true;
        }
        await this.#delayFailure(source);
        return false;
      },
    };
  }

  #check(req: SaslAuthRequest): boolean {
    const users = this.#options === false ? undefined : this.#options?.users;
    switch (req.mechanism) {
      case "ANONYMOUS":
        return this.#allowAnonymous;
      case CBS_MECHANISM:
        // No credentials here: `$cbs` decides what the connection may reach.
        return this.#allowCbs;
      case "PLAIN":
        // Without a user list any name and password is accepted (tests inspect the identity).
        return (
          users === undefined ||
          (req.username !== undefined &&
            Object.hasOwn(users, req.username) &&
            users[req.username] === req.password)
        );
      case "EXTERNAL":
        return req.peerCertificate?.subject !== undefined;
      default:
        return false;
    }
  }

  /** Counts a failure from `source` and waits the progressive delay before the outcome is sent. */
  async #delayFailure(source: string): Promise<void> {
    const now = Date.now();
    let record = this.#failures.get(source);
    if (record !== undefined && now - record.lastAtMs > FAILURE_MEMORY_MS) record = undefined;
    if (record === undefined) {
      if (this.#failures.size >= MAX_TRACKED_SOURCES) this.#forgetOldest();
      record = { count: 0, lastAtMs: now };
    }
    record.count++;
    record.lastAtMs = now;
    // Re-inserted so that the map's order is the order of the latest failures.
    this.#failures.delete(source);
    this.#failures.set(source, record);
    const delay = Math.min(this.#maxDelayMs, FIRST_FAILURE_DELAY_MS * 2 ** Math.min(record.count - 1, 16));
    if (delay > 0) await sleep(delay);
  }

  #forgetOldest(): void {
    const oldest = this.#failures.keys().next();
    if (oldest.done !== true) this.#failures.delete(oldest.value);
  }
}

/**
 * How one connection's client got past SASL. It wraps the policy's `authenticate` to remember the
 * mechanism, so the connection can tell whether it is confined to its `$cbs` tokens.
 */
export class SaslAdmission {
  /** The engine's `saslServer` options for this connection (undefined: no SASL layer). */
  readonly serverOptions: SaslServerOptions | undefined;
  readonly #confinesCbs: boolean;
  #mechanism: string | undefined;

  /** @param confinesCbs - whether an MSSBCBS client reaches only what its tokens grant. */
  constructor(options: SaslServerOptions | undefined, confinesCbs: boolean) {
    this.#confinesCbs = confinesCbs;
    const authenticate = options?.authenticate;
    this.serverOptions =
      options === undefined || authenticate === undefined
        ? options
        : {
            ...options,
            authenticate: async (req) => {
              const ok = await authenticate(req);
              if (ok) this.#mechanism = req.mechanism;
              return ok;
            },
          };
  }

  /** The mechanism the client authenticated with (undefined: not yet, or it skipped SASL). */
  get mechanism(): string | undefined {
    return this.#mechanism;
  }

  /**
   * Whether the connection reaches only the addresses (and `$management` entities) that the tokens
   * put on its `$cbs` grant, and only verified tokens are accepted there: an MSSBCBS client of a
   * broker that lets no anonymous client in.
   */
  get tokenOnly(): boolean {
    return this.#confinesCbs && this.#mechanism === CBS_MECHANISM;
  }
}
