/**
 * Token authentication over CBS (uamqp's `CBSAuthMixin`, `SASTokenAuth`, `JWTTokenAuth`): the
 * connection authenticates with SASL MSSBCBS or ANONYMOUS, then puts a token to the `$cbs` node
 * before attaching its links, and puts a new one before the old one expires. The put-token exchange
 * and its timers belong to the connection (one `$cbs` link pair per connection); these classes hold
 * what it needs: audience, token type, the current token and when to refresh it, the put-token
 * timeout and retry policy. docs/auth.md describes the whole flow.
 *
 * An auth object holds no per-connection state, only the current token (shared with the copies
 * `withHost` makes), so several clients and connections can use one. Tokens and keys live in
 * private fields and closures: `util.inspect`, `JSON.stringify` and `toString()` never show them.
 */
import type { SaslMechanism } from "../sasl/mechanisms.js";
import { SaslAnonymousMechanism, SaslMssbcbsMechanism } from "../sasl/mechanisms.js";
import { AuthenticationException, TokenExpired } from "../errors/exceptions.js";
import { AMQPAuth, REDACTED, type TransportOptions } from "./amqp-auth.js";
import {
  DEFAULT_SAS_EXPIRY_MS,
  expirySeconds,
  quotePlus,
  sasTokenAt,
  sasTokenExpiresAtMs,
} from "./sas-token.js";
import {
  TokenCache,
  tokenCallbackFailure,
  type AccessToken,
  type TokenFetchOptions,
  type TokenFetcher,
} from "./token-cache.js";
import { TokenRetryPolicy, type TokenRetryPolicyOptions } from "./token-retry-policy.js";
import { maskUri, unquotePlus, urlWithHost, withoutUserInfo } from "./uri.js";

/** The `type` of a SAS token put-token (uamqp's default for `SASTokenAuth`). */
export const SAS_TOKEN_TYPE = "servicebus.windows.net:sastoken";
/** The `type` of a JWT put-token (uamqp's default for `JWTTokenAuth`). */
export const JWT_TOKEN_TYPE = "jwt";
/** Default bound on a put-token (and on obtaining a token), in ms: uamqp's 10 s. */
export const DEFAULT_PUT_TOKEN_TIMEOUT_MS = 10_000;

/** The longest delay a Node.js timer can wait. */
const MAX_TIMER_MS = 2_147_483_647;

/** Options of every token auth: the CBS settings and every transport option of the SASL auths. */
export interface CBSAuthOptions extends TransportOptions {
  /**
   * The put-token `type` application property.
   * @defaultValue `"servicebus.windows.net:sastoken"` (SASTokenAuth), `"jwt"` (JWTTokenAuth)
   */
  tokenType?: string | undefined;
  /**
   * Refresh the token this many ms before it expires (uamqp's `refresh_window`, in seconds there).
   * @defaultValue 10 % of each token's lifetime (for a one-hour token: 6 minutes)
   */
  refreshWindow?: number | undefined;
  /**
   * Bound on one put-token exchange, and on obtaining one token, in ms; a put-token without an answer
   * in time fails with `ClientTimeout`. @defaultValue 10000 (uamqp's 10 s)
   */
  timeout?: number | undefined;
  /** Retries of a refused put-token. @defaultValue `new TokenRetryPolicy()` (3 retries, no backoff) */
  retryPolicy?: TokenRetryPolicy | TokenRetryPolicyOptions | undefined;
}

/** Options of the {@link SASTokenAuth} constructor. */
export interface SASTokenAuthOptions extends CBSAuthOptions {
  /**
   * When the given token expires, in ms since the epoch (or a `Date`).
   * @defaultValue the token's own `se` field (else `expiresIn` is needed)
   */
  expiresAt?: number | Date | undefined;
  /**
   * The token's lifetime from now, in ms; also the lifetime of the tokens made on refresh.
   * @defaultValue `expiresAt` − now (the token's remaining lifetime, as uamqp; one hour when that is
   *   under a second)
   */
  expiresIn?: number | undefined;
  /**
   * The key (policy) name; with `sharedAccessKey`, a new token is made for each refresh (uamqp's
   * `username`).
   * @defaultValue the user name of `uri`, if any
   */
  keyName?: string | undefined;
  /**
   * The shared access key (uamqp's `password`): a string is used as its UTF-8 bytes, a `Uint8Array`
   * as raw bytes. Kept private. @defaultValue the password of `uri`, if any
   */
  sharedAccessKey?: string | Uint8Array | undefined;
}

/** Options of {@link SASTokenAuth.fromSharedAccessKey}. */
export interface SharedAccessKeyOptions extends CBSAuthOptions {
  /** Lifetime of each token made, in ms (whole seconds count). @defaultValue 3600000 (one hour) */
  expiry?: number | undefined;
}

/**
 * `getToken` of a {@link JWTTokenAuth}: returns (or resolves to) a token and its expiry. The
 * argument carries an `abortSignal` that aborts when the auth's `timeout` elapses; it has the shape
 * of `@azure/core-auth`'s `GetTokenOptions`, so a credential's `getToken(scope, options)` takes it.
 * `null`/`undefined` means "no token" (an `AuthenticationException`).
 */
export type GetTokenCallback = (
  options: TokenFetchOptions,
) => AccessToken | null | undefined | Promise<AccessToken | null | undefined>;

/** What a token auth keeps; shared between an auth and its `withHost` copies (all of it read-only). */
export interface CBSState {
  readonly audience: string;
  readonly uri: string;
  readonly tokenType: string;
  readonly refreshWindow: number | undefined;
  readonly timeout: number;
  readonly retryPolicy: TokenRetryPolicy;
  readonly cache: TokenCache;
}

/** What the {@link CBSAuth} constructor takes; made by the token auth classes of this package. */
export interface CBSAuthSetup {
  readonly hostname: string;
  readonly transport: TransportOptions;
  readonly state: CBSState;
}

/** `user:password@` of a URI, as uamqp reads it (`unquote_plus`). */
interface UriParts {
  readonly hostname: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

function parseUri(what: string, uri: unknown): UriParts {
  if (typeof uri !== "string") throw new TypeError(`${what}: uri must be a string, got ${typeof uri}`);
  const parsed = urlWithHost(uri);
  if (parsed === undefined) {
    throw new TypeError(
      `${what}: uri must be an absolute URL with a host, e.g. sb://ns.servicebus.windows.net/hub (got "${maskUri(uri)}")`,
    );
  }
  const { url, host } = parsed;
  return {
    hostname: host,
    username: url.username !== "" ? unquotePlus(url.username) : undefined,
    password: url.password !== "" ? unquotePlus(url.password) : undefined,
  };
}

/** Checks a duration in ms: positive, finite, and at most `max` (timers: 2^31 - 1). */
function positiveMs(what: string, name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new RangeError(`${what}: ${name} must be a number of ms in (0, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Checks the CBS settings and splits them from the transport options. */
function prepare(
  what: string,
  audience: unknown,
  uri: unknown,
  options: CBSAuthOptions,
  defaultTokenType: string,
  token: (parts: UriParts) => { fetch: TokenFetcher | undefined; initial?: AccessToken },
): CBSAuthSetup {
  if (typeof audience !== "string" || audience === "") {
    throw new TypeError(`${what}: audience must be a non-empty string`);
  }
  const parts = parseUri(what, uri);
  const { tokenType, refreshWindow, timeout, retryPolicy, ...transport } = options;
  if (tokenType !== undefined && (typeof tokenType !== "string" || tokenType === "")) {
    throw new TypeError(`${what}: tokenType must be a non-empty string`);
  }
  const window = refreshWindow === undefined ? undefined : positiveMs(what, "refreshWindow", refreshWindow);
  const putTimeout =
    timeout === undefined ? DEFAULT_PUT_TOKEN_TIMEOUT_MS : positiveMs(what, "timeout", timeout, MAX_TIMER_MS);
  const policy = retryPolicy instanceof TokenRetryPolicy ? retryPolicy : new TokenRetryPolicy(retryPolicy);
  const source = token(parts);
  return {
    hostname: parts.hostname,
    transport,
    state: {
      audience,
      uri: uri as string,
      tokenType: tokenType ?? defaultTokenType,
      refreshWindow: window,
      timeout: putTimeout,
      retryPolicy: policy,
      cache: new TokenCache({
        what,
        fetch: source.fetch,
        refreshWindow: window,
        timeout: putTimeout,
        initial: source.initial,
      }),
    },
  };
}

/**
 * Base of the token auth classes (uamqp's `CBSAuthMixin`): everything the connection's CBS step
 * needs. Not constructed directly: use {@link SASTokenAuth} or {@link JWTTokenAuth}.
 *
 * @example
 * ```ts
 * const auth: CBSAuth = SASTokenAuth.fromSharedAccessKey(uri, "RootManageSharedAccessKey", key);
 * const { token, expiresOnTimestamp } = await auth.getToken();
 * auth.refreshAtMs(); // 6 minutes before expiresOnTimestamp
 * ```
 */
export abstract class CBSAuth extends AMQPAuth {
  readonly #state: CBSState;

  /** @param setup - made by the subclasses of this package */
  protected constructor(setup: CBSAuthSetup) {
    super(setup.hostname, setup.transport);
    this.#state = setup.state;
  }

  /** The setup of a copy of `source` for another host: same token cache, same settings. */
  protected static copySetup(source: CBSAuth, hostname: string, transport: TransportOptions): CBSAuthSetup {
    return { hostname, transport, state: source.#state };
  }

  /** The put-token `name`: the resource the token grants access to (usually the URI). */
  get audience(): string {
    return this.#state.audience;
  }
  /** The endpoint URI given to the constructor (its host is {@link hostname}). */
  get uri(): string {
    return this.#state.uri;
  }
  /** The put-token `type` (`servicebus.windows.net:sastoken`, `jwt`). */
  get tokenType(): string {
    return this.#state.tokenType;
  }
  /** The configured refresh window in ms; undefined = 10 % of each token's lifetime. */
  get refreshWindow(): number | undefined {
    return this.#state.refreshWindow;
  }
  /** Bound on one put-token exchange (and on obtaining one token), in ms. */
  get timeout(): number {
    return this.#state.timeout;
  }
  /** Retries of a refused put-token. */
  get retryPolicy(): TokenRetryPolicy {
    return this.#state.retryPolicy;
  }

  /** The current token string (undefined before a {@link JWTTokenAuth} obtained one). Secret: never log it. */
  get token(): string | undefined {
    return this.#state.cache.current?.token;
  }

  /** When the current token expires, in ms since the epoch (undefined before the first token). */
  get expiresAtMs(): number | undefined {
    return this.#state.cache.current?.expiresOnTimestamp;
  }

  /** Whether a new token can be obtained (false for a {@link SASTokenAuth} given a token but no key). */
  get canRefresh(): boolean {
    return this.#state.cache.canRefresh;
  }

  /**
   * When the current token should be refreshed, in ms since the epoch: `refreshWindow` before its
   * expiry (default 10 % of its lifetime; an earlier `refreshAfterTimestamp` of the issuer wins).
   * Undefined before the first token, and when the token cannot be refreshed ({@link canRefresh}).
   * It is in the past when the window exceeds the token's lifetime: the caller paces its retries.
   */
  refreshAtMs(): number | undefined {
    return this.canRefresh ? this.#state.cache.current?.refreshAtMs : undefined;
  }

  /** Whether the current token has expired at `now` (false before the first token). */
  isExpired(now: number = Date.now()): boolean {
    const expires = this.expiresAtMs;
    return expires !== undefined && now >= expires;
  }

  /**
   * The token to put: the current one while no refresh is due, else a new one. Calls made at the
   * same time (several connections) share one fetch, bounded by {@link timeout}.
   * @param options - `signal` stops this call's wait (an `AMQPAbortError`)
   * @throws {TokenExpired} when the token expired and cannot be renewed, or a new one has already expired.
   * @throws {ClientTimeout} when no token came within `timeout`.
   * @throws {AuthenticationException} when a `JWTTokenAuth` callback failed or returned nothing.
   * @throws {TypeError} when a callback returned something other than `{ token, expiresOnTimestamp }`.
   */
  async getToken(options: { readonly signal?: AbortSignal | undefined } = {}): Promise<AccessToken> {
    const t = await this.#state.cache.get({ signal: options.signal });
    return { token: t.token, expiresOnTimestamp: t.expiresOnTimestamp };
  }

  /**
   * A new token now, whether or not a refresh is due (uamqp's `update_token`); a `SASTokenAuth`
   * without a key returns its token until it expires. Errors as {@link getToken}.
   */
  async updateToken(options: { readonly signal?: AbortSignal | undefined } = {}): Promise<AccessToken> {
    const t = await this.#state.cache.get({ signal: options.signal, force: true });
    return { token: t.token, expiresOnTimestamp: t.expiresOnTimestamp };
  }

  /**
   * The SASL mechanisms of a token auth, in order of preference: the connection uses the first one
   * the server offers. Azure offers MSSBCBS ("authentication follows over CBS"); ANONYMOUS works
   * with Azure and with any broker that runs a `$cbs` node.
   */
  saslMechanisms(): readonly SaslMechanism[] {
    return [new SaslMssbcbsMechanism(), new SaslAnonymousMechanism()];
  }

  /**
   * The one mechanism for a connection that cannot choose from a list: ANONYMOUS, which every
   * server that offers a `$cbs` node accepts (Azure included). See {@link saslMechanisms}.
   */
  mechanism(): SaslMechanism {
    return new SaslAnonymousMechanism();
  }

  /** The same token source and settings for another host (redirects); the token cache is shared. */
  abstract override withHost(hostname: string, transport?: TransportOptions): CBSAuth;

  /** Adds the CBS settings; the token shows as `<redacted>`. */
  protected override inspectFields(): Record<string, unknown> {
    const current = this.#state.cache.current;
    return {
      ...super.inspectFields(),
      audience: maskUri(this.audience),
      uri: maskUri(this.uri),
      tokenType: this.tokenType,
      token: current === undefined ? undefined : REDACTED,
      expiresAt: current === undefined ? undefined : new Date(current.expiresOnTimestamp).toISOString(),
      refreshWindow: this.refreshWindow,
      timeout: this.timeout,
      retryPolicy: { retries: this.retryPolicy.retries, backoff: this.retryPolicy.backoff },
    };
  }
}

/** The key name and key of a SAS auth: the options', else the URI's user name and password. */
function sasCredentials(
  parts: UriParts,
  options: SASTokenAuthOptions,
): { keyName: string | undefined; key: string | Uint8Array | undefined } {
  const keyName = options.keyName ?? parts.username;
  const key = options.sharedAccessKey ?? parts.password;
  if (keyName !== undefined && (typeof keyName !== "string" || keyName === "")) {
    throw new TypeError("SASTokenAuth: keyName must be a non-empty string");
  }
  return { keyName, key };
}

function toMs(value: number | Date): number {
  return value instanceof Date ? value.getTime() : value;
}

/** The expiry of the given token and the lifetime of later ones (uamqp's `_set_expiry`), in ms. */
function sasExpiry(
  token: string,
  options: SASTokenAuthOptions,
  now: number,
): { expiresAt: number; lifetime: number } {
  const what = "SASTokenAuth";
  if (options.expiresIn !== undefined) positiveMs(what, "expiresIn", options.expiresIn);
  let expiresAt: number | undefined;
  if (options.expiresAt !== undefined) {
    expiresAt = toMs(options.expiresAt);
    if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) {
      throw new TypeError(`${what}: expiresAt must be ms since the epoch or a valid Date`);
    }
  } else if (options.expiresIn !== undefined) {
    expiresAt = now + options.expiresIn;
  } else {
    expiresAt = sasTokenExpiresAtMs(token);
    if (expiresAt === undefined) {
      throw new TypeError(`${what}: the token has no se= field; give expiresAt or expiresIn`);
    }
  }
  const remaining = expiresAt - now;
  return {
    expiresAt,
    lifetime: options.expiresIn ?? (remaining >= 1000 ? remaining : DEFAULT_SAS_EXPIRY_MS),
  };
}

/**
 * CBS authentication with shared access signature tokens (uamqp's `SASTokenAuth`). With a key name
 * and key (options or `uri`'s user name and password, or {@link SASTokenAuth.fromSharedAccessKey}),
 * a new token is made for every refresh; without, the given token serves until it expires.
 *
 * @example
 * ```ts
 * const uri = "sb://ns.servicebus.windows.net/orders";
 * const auth = SASTokenAuth.fromSharedAccessKey(uri, "RootManageSharedAccessKey", process.env.SB_KEY!, {
 *   expiry: 30 * 60_000,
 * });
 * // or a token made elsewhere (its se= field gives the expiry):
 * const fixed = new SASTokenAuth(uri, uri, tokenFromMyService);
 * ```
 */
export class SASTokenAuth extends CBSAuth {
  /** The key (policy) name used to make new tokens, if any (uamqp's `username`). */
  readonly keyName: string | undefined;

  /**
   * @param audience - the put-token `name`, usually `uri`
   * @param uri - the endpoint, e.g. `sb://ns.servicebus.windows.net/orders`: its host is connected to
   * @param token - the SAS token to put first (secret; kept private)
   * @param options - expiry, key name and key, CBS settings and transport options
   * @throws {TypeError} for an empty audience or token, a `uri` without a host, or no expiry to be
   *   found (no `expiresAt`, `expiresIn` or `se=` field).
   * @throws {RangeError} for a `timeout`, `refreshWindow` or `expiresIn` that is not a positive number of ms.
   * @throws {TokenExpired} when the token expires within a second and there is no key to renew it.
   */
  constructor(audience: string, uri: string, token: string, options?: SASTokenAuthOptions);
  /** @internal A copy for another host sharing the token cache (see withHost). */
  constructor(source: SASTokenAuth, hostname: string, transport: TransportOptions);
  constructor(
    first: string | SASTokenAuth,
    second: string,
    third: string | TransportOptions,
    options: SASTokenAuthOptions = {},
  ) {
    super(
      first instanceof SASTokenAuth
        ? CBSAuth.copySetup(first, second, third as TransportOptions)
        : SASTokenAuth.#setup(first, second, third as string, options),
    );
    this.keyName =
      first instanceof SASTokenAuth
        ? first.keyName
        : sasCredentials(parseUri("SASTokenAuth", second), options).keyName;
  }

  static #setup(audience: string, uri: string, token: string, options: SASTokenAuthOptions): CBSAuthSetup {
    const what = "SASTokenAuth";
    const { expiresAt: _a, expiresIn: _i, keyName: _n, sharedAccessKey: _k, ...rest } = options;
    return prepare(what, audience, uri, rest, SAS_TOKEN_TYPE, (parts) => {
      if (typeof token !== "string" || token === "")
        throw new TypeError(`${what}: token must be a non-empty string`);
      const now = Date.now();
      const { expiresAt, lifetime } = sasExpiry(token, options, now);
      const { keyName, key } = sasCredentials(parts, options);
      const initial: AccessToken = { token, expiresOnTimestamp: expiresAt };
      if (keyName === undefined || key === undefined) {
        // As uamqp: a token with less than a second to live is refused ("Token has already
        // expired."). With a key it is merely replaced at the first getToken().
        if (expiresAt - now < 1000) {
          throw new TokenExpired(
            `${what}: the token has already expired (at ${new Date(expiresAt).toISOString()}) and there is no key to renew it`,
          );
        }
        return { fetch: undefined, initial };
      }
      const seconds = expirySeconds(lifetime, what);
      // uamqp signs quote_plus(uri) with key name quote_plus(keyName) (sas-token.ts); user info in
      // the uri (uamqp's way to pass the key) is left out, or the key would travel in the token.
      const scope = quotePlus(withoutUserInfo(uri));
      const skn = quotePlus(keyName);
      sasTokenAt(skn, key, scope, 0); // checks the key now rather than at the first refresh
      const fetch: TokenFetcher = () => {
        const se = Math.floor(Date.now() / 1000) + seconds;
        return Promise.resolve({ token: sasTokenAt(skn, key, scope, se), expiresOnTimestamp: se * 1000 });
      };
      return { fetch, initial };
    });
  }

  /**
   * A SAS auth that makes its tokens from a shared access key (uamqp's `from_shared_access_key`):
   * the first token now, a new one for each refresh, each living `expiry` ms. The token is byte for
   * byte uamqp's for the same arguments at the same second (`quote_plus` of `uri` and `keyName`).
   *
   * @param uri - the endpoint and audience, e.g. `sb://ns.servicebus.windows.net/orders`
   * @param keyName - the key (policy) name, e.g. `RootManageSharedAccessKey`
   * @param sharedAccessKey - the shared access key: a string as its UTF-8 bytes (as Azure shows it),
   *   or raw bytes
   * @param options - `expiry` (ms, default one hour), CBS settings (`refreshWindow` is honoured,
   *   unlike uamqp) and transport options
   * @throws {TypeError} for an empty key name or key, or a `uri` without a host.
   * @throws {RangeError} for an `expiry` below one second, or a bad `timeout`/`refreshWindow`.
   *
   * @example
   * ```ts
   * const auth = SASTokenAuth.fromSharedAccessKey(
   *   "sb://ns.servicebus.windows.net/orders", "RootManageSharedAccessKey", process.env.SB_KEY!,
   *   { expiry: 30 * 60_000, retryPolicy: new TokenRetryPolicy({ retries: 5, backoff: 1_000 }) },
   * );
   * ```
   */
  static fromSharedAccessKey(
    uri: string,
    keyName: string,
    sharedAccessKey: string | Uint8Array,
    options: SharedAccessKeyOptions = {},
  ): SASTokenAuth {
    const what = "SASTokenAuth.fromSharedAccessKey";
    const { expiry = DEFAULT_SAS_EXPIRY_MS, ...rest } = options;
    const seconds = expirySeconds(expiry, what);
    parseUri(what, uri);
    if (typeof keyName !== "string" || keyName === "")
      throw new TypeError(`${what}: keyName must be a non-empty string`);
    const se = Math.floor(Date.now() / 1000) + seconds;
    const token = sasTokenAt(quotePlus(keyName), sharedAccessKey, quotePlus(uri), se);
    return new SASTokenAuth(uri, uri, token, {
      ...rest,
      expiresAt: se * 1000,
      expiresIn: seconds * 1000,
      keyName,
      sharedAccessKey,
    });
  }

  /** The same key or token for another host (redirects); the token cache is shared. */
  withHost(hostname: string, transport: TransportOptions = this.transport): SASTokenAuth {
    return new SASTokenAuth(this, hostname, transport);
  }

  /** Adds the key name (never the key). */
  protected override inspectFields(): Record<string, unknown> {
    return { ...super.inspectFields(), keyName: this.keyName };
  }
}

/**
 * CBS authentication with JSON web tokens from a callback (uamqp's `JWTTokenAuth`): `getToken` is
 * called for the first put-token and for each refresh, and returns `{ token, expiresOnTimestamp }`
 * (ms since the epoch), the `@azure/core-auth` `AccessToken` shape. An `@azure/identity` credential
 * plugs in with one line (docs/auth.md).
 *
 * @example
 * ```ts
 * import { DefaultAzureCredential } from "@azure/identity";
 * const credential = new DefaultAzureCredential();
 * const uri = "sb://ns.servicebus.windows.net/orders";
 * const scope = "https://servicebus.azure.net//.default";
 * const auth = new JWTTokenAuth(uri, uri, (options) => credential.getToken(scope, options));
 * ```
 */
export class JWTTokenAuth extends CBSAuth {
  /**
   * @param audience - the put-token `name`, usually `uri`
   * @param uri - the endpoint, e.g. `sb://ns.servicebus.windows.net/orders`: its host is connected to
   * @param getToken - returns or resolves `{ token, expiresOnTimestamp }`; receives `{ abortSignal }`
   * @param options - CBS settings (`tokenType` default `"jwt"`) and transport options
   * @throws {TypeError} when `getToken` is not a function, for an empty audience, or a `uri` without a host.
   * @throws {RangeError} for a `timeout` or `refreshWindow` that is not a positive number of ms.
   */
  constructor(audience: string, uri: string, getToken: GetTokenCallback, options?: CBSAuthOptions);
  /** @internal A copy for another host sharing the token cache (see withHost). */
  constructor(source: JWTTokenAuth, hostname: string, transport: TransportOptions);
  constructor(
    first: string | JWTTokenAuth,
    second: string,
    third: GetTokenCallback | TransportOptions,
    options: CBSAuthOptions = {},
  ) {
    super(
      first instanceof JWTTokenAuth
        ? CBSAuth.copySetup(first, second, third as TransportOptions)
        : JWTTokenAuth.#setup(first, second, third as GetTokenCallback, options),
    );
  }

  static #setup(
    audience: string,
    uri: string,
    callback: GetTokenCallback,
    options: CBSAuthOptions,
  ): CBSAuthSetup {
    const what = "JWTTokenAuth";
    if (typeof callback !== "function") {
      throw new TypeError(`${what}: getToken must be a function returning { token, expiresOnTimestamp }`);
    }
    return prepare(what, audience, uri, options, JWT_TOKEN_TYPE, () => ({
      fetch: async (fetchOptions) => {
        let result: AccessToken | null | undefined;
        try {
          result = await callback(fetchOptions);
        } catch (e) {
          throw tokenCallbackFailure(what, e);
        }
        if (result === null || result === undefined) {
          throw new AuthenticationException(`${what}: getToken() returned no token`, { retryable: true });
        }
        return result;
      },
    }));
  }

  /** The same callback for another host (redirects); the token cache is shared. */
  withHost(hostname: string, transport: TransportOptions = this.transport): JWTTokenAuth {
    return new JWTTokenAuth(this, hostname, transport);
  }
}
