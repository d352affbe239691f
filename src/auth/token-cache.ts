/**
 * The current CBS token of a token auth, and the one place that obtains a new one: one fetch at a
 * time however many connections ask, bounded in time, checked before it is kept. The token lives in
 * a private field: it is never shown by `util.inspect` or `JSON.stringify`.
 */
import { AuthenticationException, ClientTimeout, TokenExpired } from "../errors/exceptions.js";
import { abortError, bounded } from "../policy/wait.js";

/**
 * A token and its expiry: the shape of `@azure/core-auth`'s `AccessToken` (milliseconds since the
 * epoch; uamqp's `expires_on` was in seconds), so `@azure/identity` credentials plug in directly.
 */
export interface AccessToken {
  /** The token string (the put-token body). */
  readonly token: string;
  /** When the token expires, in milliseconds since the epoch. */
  readonly expiresOnTimestamp: number;
  /** When the issuer advises a refresh, in milliseconds since the epoch (`@azure/core-auth`); optional. */
  readonly refreshAfterTimestamp?: number | undefined;
}

/** What a token source receives: a signal that aborts when the fetch exceeds the auth's `timeout`. */
export interface TokenFetchOptions {
  /** Aborted when the auth's `timeout` elapses before the token arrives. */
  readonly abortSignal: AbortSignal;
}

/** Obtains a new token (may return the same one when it cannot make a new one). */
export type TokenFetcher = (options: TokenFetchOptions) => Promise<AccessToken>;

/** A token kept by the cache, with when it should be refreshed. */
export interface CachedToken {
  readonly token: string;
  readonly expiresOnTimestamp: number;
  /** When a refresh is due, in milliseconds since the epoch. */
  readonly refreshAtMs: number;
}

/** Settings of a {@link TokenCache}. */
export interface TokenCacheOptions {
  /** The auth class name, for messages. */
  readonly what: string;
  /** Obtains a new token; undefined = the initial token cannot be replaced. */
  readonly fetch: TokenFetcher | undefined;
  /** Refresh this many ms before expiry; undefined = 10 % of each token's lifetime. */
  readonly refreshWindow: number | undefined;
  /** Bound on one fetch, in ms. */
  readonly timeout: number;
  /** A token to start with (SAS tokens given to the constructor). */
  readonly initial?: AccessToken | undefined;
}

/** Below this an `expiresOnTimestamp` is surely seconds, not milliseconds (1e11 ms is in 1973). */
const SECONDS_SUSPECT = 1e11;

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/**
 * When a token obtained at `obtainedAt` should be refreshed: `refreshWindow` before its expiry, or
 * 10 % of its lifetime before (uamqp's default), or the issuer's `refreshAfterTimestamp` if earlier.
 */
export function computeRefreshAtMs(
  token: AccessToken,
  obtainedAt: number,
  refreshWindow: number | undefined,
): number {
  const lifetime = Math.max(0, token.expiresOnTimestamp - obtainedAt);
  const window = refreshWindow ?? Math.floor(lifetime / 10);
  const at = token.expiresOnTimestamp - window;
  const hint = token.refreshAfterTimestamp;
  return hint !== undefined && Number.isFinite(hint) && hint < at ? hint : at;
}

/**
 * Checks what a token source returned.
 * @throws {TypeError} when it is not `{ token: non-empty string, expiresOnTimestamp: finite number }`.
 * @throws {TokenExpired} when it has already expired.
 */
function checkToken(what: string, value: unknown, now: number): AccessToken {
  const t = value as Partial<AccessToken> | null | undefined;
  if (typeof t !== "object" || t === null || typeof t.token !== "string" || t.token === "") {
    throw new TypeError(`${what}: a token must be { token: non-empty string, expiresOnTimestamp: number }`);
  }
  const expires = t.expiresOnTimestamp;
  if (typeof expires !== "number" || !Number.isFinite(expires)) {
    throw new TypeError(`${what}: expiresOnTimestamp must be a finite number (ms since the epoch)`);
  }
  if (expires <= now) {
    const hint =
      expires < SECONDS_SUSPECT
        ? " (expiresOnTimestamp is in milliseconds since the epoch, not seconds)"
        : "";
    throw new TokenExpired(`${what}: the token expired at ${iso(expires)}${hint}`);
  }
  const refreshAfter = t.refreshAfterTimestamp;
  return refreshAfter === undefined
    ? { token: t.token, expiresOnTimestamp: expires }
    : { token: t.token, expiresOnTimestamp: expires, refreshAfterTimestamp: refreshAfter };
}

/**
 * The token of a token auth (shared by the copies `withHost` makes). Not exported from the package
 * root; its type appears in the declarations of `CBSAuth`'s constructor argument.
 */
export class TokenCache {
  readonly #what: string;
  readonly #fetch: TokenFetcher | undefined;
  readonly #refreshWindow: number | undefined;
  readonly #timeout: number;
  #current: CachedToken | undefined;
  #pending: Promise<CachedToken> | undefined;

  constructor(options: TokenCacheOptions) {
    this.#what = options.what;
    this.#fetch = options.fetch;
    this.#refreshWindow = options.refreshWindow;
    this.#timeout = options.timeout;
    if (options.initial !== undefined) this.#keep(options.initial, Date.now());
  }

  /** The token kept now (possibly expired), if any. */
  get current(): CachedToken | undefined {
    return this.#current;
  }

  /** Whether a new token can be obtained (false: only the initial token exists). */
  get canRefresh(): boolean {
    return this.#fetch !== undefined;
  }

  /**
   * The kept token while no refresh is due, else a new one (`force`: always a new one). Concurrent
   * calls share one fetch; `signal` stops this caller's wait only.
   */
  get(
    options: { readonly signal?: AbortSignal | undefined; readonly force?: boolean } = {},
  ): Promise<CachedToken> {
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    const now = Date.now();
    const current = this.#current;
    if (this.#fetch === undefined) {
      if (current !== undefined && now < current.expiresOnTimestamp) return Promise.resolve(current);
      return Promise.reject(
        new TokenExpired(
          `${this.#what}: the token expired at ${iso(current?.expiresOnTimestamp ?? now)} and cannot be renewed (no key name and key)`,
        ),
      );
    }
    if (options.force !== true && current !== undefined && now < current.refreshAtMs) {
      return Promise.resolve(current);
    }
    this.#pending ??= this.#refresh(this.#fetch);
    return bounded(this.#pending, { signal, what: this.#what });
  }

  #keep(token: AccessToken, obtainedAt: number): CachedToken {
    const kept: CachedToken = {
      token: token.token,
      expiresOnTimestamp: token.expiresOnTimestamp,
      refreshAtMs: computeRefreshAtMs(token, obtainedAt, this.#refreshWindow),
    };
    this.#current = kept;
    return kept;
  }

  #refresh(fetch: TokenFetcher): Promise<CachedToken> {
    const controller = new AbortController();
    const timedOut = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason as Error), {
        once: true,
      });
    });
    const timer = setTimeout(() => {
      controller.abort(new ClientTimeout(`${this.#what}: no token within ${this.#timeout} ms`));
    }, this.#timeout);
    // Not unref'd: someone awaits this fetch, and the bound is short (the put-token timeout), so the
    // process stays up until the token or the ClientTimeout arrives rather than exiting mid-wait.
    const run = async (): Promise<CachedToken> => {
      try {
        const raw = await Promise.race([fetch({ abortSignal: controller.signal }), timedOut]);
        const now = Date.now();
        return this.#keep(checkToken(this.#what, raw, now), now);
      } finally {
        clearTimeout(timer);
        this.#pending = undefined;
      }
    };
    const pending = run();
    // Every waiter may have given up (aborted): the outcome must not become an unhandled rejection.
    pending.catch(() => undefined);
    timedOut.catch(() => undefined);
    return pending;
  }
}

/**
 * Wraps a user token callback's failure in an {@link AuthenticationException} (retryable: the
 * identity service may answer next time); library errors pass unchanged.
 * @internal
 */
export function tokenCallbackFailure(what: string, error: unknown): Error {
  if (error instanceof AuthenticationException || error instanceof ClientTimeout) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new AuthenticationException(`${what}: getToken() failed (${detail})`, {
    cause: error,
    retryable: true,
  });
}
