/**
 * The token authentication of one connection (what uamqp's `create_authenticator` made, driven by
 * timers instead of pumping): one request/response link pair to `$cbs` per connection, shared by
 * every client on it; the put-token before any data link attaches; a refresh ahead of each token's
 * expiry, whatever the application does; `TokenExpired` when no new token could be put in time.
 *
 * The auth object (src/auth) holds the token source and the settings; this class holds what
 * belongs to the connection: the last token put here, its expiry, the link pair, the timer, and
 * the listeners (the `AMQPClient`s on the connection, which report to their `status()` stream).
 * docs/auth.md, "Token authentication (CBS)", describes the flow.
 */
import type { CBSAuth } from "../auth/cbs-auth.js";
import type { AccessToken } from "../auth/token-cache.js";
import { maskUri } from "../auth/uri.js";
import { AMQPError } from "../errors/amqp-error.js";
import {
  AMQPAbortError,
  AMQPClientShutdown,
  AuthenticationException,
  ClientTimeout,
  TokenAuthFailure,
  TokenExpired,
} from "../errors/exceptions.js";
import { Message } from "../message/message.js";
import { MAX_TIMER_MS, abortError, bounded, delay, type WaitOptions } from "../policy/wait.js";
import { getLogger } from "../util/log.js";
import { RequestResponseLink, isSuccess, responseStatus, type RequestSession } from "./request-response.js";

/** The node tokens are put to. */
export const CBS_NODE = "$cbs";

/** Where `$cbs` answers put the status: Azure's spelling first, Service Bus's `$management` style next. */
const STATUS_CODE_FIELDS = ["status-code", "statusCode"] as const;
const STATUS_DESCRIPTION_FIELDS = ["status-description", "statusDescription"] as const;

/** Bounds of the pause between two refresh attempts (see {@link refreshPaceMs}). */
const MIN_PACE_MS = 50;
const MAX_PACE_MS = 30_000;

/**
 * The pause before the next refresh attempt when `remaining` ms of the current token are left:
 * a quarter of what is left, within [50 ms, 30 s], and never shorter than the retry policy's
 * `backoff`. So a failing refresh is tried a few more times before the token expires, and a token
 * whose refresh window is longer than its lifetime is not put again in a tight loop.
 * @internal
 */
export function refreshPaceMs(remaining: number, backoff: number): number {
  return Math.max(backoff, Math.min(MAX_PACE_MS, Math.max(MIN_PACE_MS, remaining / 4)));
}

/** What the authenticator needs of its connection (the client's `Connection` is one). */
export interface CBSConnection {
  /** Begins a session for the `$cbs` link pair (a new one when the last pair died). */
  createSession(): RequestSession;
}

/** A connection as what waits for its token sees it (the client's `Connection` is one). */
export interface TokenConnection {
  /** Whether the connection authenticates with a token over CBS. */
  readonly usesTokenAuth: boolean;
  /** Resolves once the connection is open and, with a token auth, its token is in force. */
  open(): Promise<void>;
}

/**
 * With a token auth, a node accepts links (data links, management links) only once the token is in
 * force: waits for `connection`'s open, within `wait`. At once otherwise.
 * @throws the open's errors; `ClientTimeout` after `wait.timeout`; `AMQPAbortError` (at once for
 *   an aborted signal, without starting the open).
 * @internal
 */
export async function tokenInForce(connection: TokenConnection, wait: WaitOptions): Promise<void> {
  if (!connection.usesTokenAuth) return;
  if (wait.signal?.aborted === true) throw abortError(wait.signal);
  await bounded(connection.open(), { ...wait, what: "authorization" });
}

/** Where the token authentication of a connection is. */
export type CBSStatus =
  /** No token put yet (or the last authentication failed: the next `ensure()` tries again). */
  | "idle"
  /** The first put-token (or one after an expiry) is in progress. */
  | "authenticating"
  /** A token is in force. */
  | "ok"
  /** A token is in force and a new one is being put. */
  | "refreshing"
  /** The token expired before a new one could be put. */
  | "expired"
  /** The connection is gone. */
  | "closed";

/** What the authenticator tells the clients of its connection. */
export type CBSEvent =
  /** A token was put and accepted (the first one on the connection, or after an expiry). */
  | { readonly type: "authenticated"; readonly expiresAt: number }
  /** A new token replaced the one in force before it expired. */
  | { readonly type: "refreshed"; readonly expiresAt: number }
  /** A refresh failed; the next attempt is at `retryAt` (before `expiresAt`, when the token lapses). */
  | {
      readonly type: "refreshFailed";
      readonly error: AMQPError;
      readonly expiresAt: number;
      readonly retryAt: number;
    }
  /** The token expired: every operation that depends on it fails with `error`. */
  | { readonly type: "expired"; readonly error: TokenExpired };

/** `e` as an AMQPError (wrapped in an AuthenticationException when foreign). */
function asError(e: unknown): AMQPError {
  if (e instanceof AMQPError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new AuthenticationException(`token authentication failed: ${text}`, { cause: e });
}

/** `text` with every occurrence of `secret` replaced (a peer may quote the token it refused). */
function redact(text: string | undefined, secret: string): string | undefined {
  if (text === undefined || secret === "") return text;
  return text.split(secret).join("<redacted>");
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Runs the CBS put-token of one connection and keeps its token fresh. Made by the connection when
 * its auth is a token auth (`CBSAuth`).
 * @internal
 */
export class CBSAuthenticator {
  /** The token auth of the connection. */
  readonly auth: CBSAuth;
  readonly #connection: CBSConnection;
  #link: RequestResponseLink | undefined;
  #linkOpen: Promise<void> | undefined;
  #status: CBSStatus = "idle";
  /** The last token put on this connection (secret: never logged). */
  #lastToken: string | undefined;
  /** When the token in force expires (ms since the epoch). */
  #expiresAt: number | undefined;
  /** When the next refresh is due. */
  #refreshAt: number | undefined;
  /** The authentication in progress, shared by every `ensure()` meanwhile. */
  #running: Promise<void> | undefined;
  /** Aborts the refresh in progress (at expiry and close). */
  #round: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #refreshes = 0;
  #lastFailure: AMQPError | undefined;
  /** Why the token lapsed (while the status is `expired`). */
  #expiredError: TokenExpired | undefined;
  readonly #listeners = new Set<(event: CBSEvent) => void>();
  /** Aborted when the connection is gone. */
  readonly #stop = new AbortController();

  constructor(connection: CBSConnection, auth: CBSAuth) {
    this.#connection = connection;
    this.auth = auth;
  }

  /** Where the authentication is. */
  get status(): CBSStatus {
    return this.#status;
  }

  /** When the token in force expires (ms since the epoch); undefined before the first one. */
  get expiresAt(): number | undefined {
    return this.#expiresAt;
  }

  /** When the next refresh is due (ms since the epoch), while a token is in force and can be renewed. */
  get refreshAt(): number | undefined {
    return this.#inForce() ? this.#refreshAt : undefined;
  }

  /** Tokens put by refreshes so far. */
  get refreshes(): number {
    return this.#refreshes;
  }

  /** Whether the token put on this connection has expired at `now`. */
  isExpired(now = Date.now()): boolean {
    return this.#status === "expired" || (this.#expiresAt !== undefined && now >= this.#expiresAt);
  }

  /**
   * The `TokenExpired` error when the token in force has lapsed (undefined while it holds); when
   * its expiry passed and the timer has not fired yet, the expiry happens now (listeners hear
   * `expired`). For a link refused or detached at the very moment of the expiry: its failure is
   * the token's.
   */
  checkExpiry(): TokenExpired | undefined {
    this.#liveExpiry(Date.now());
    return this.#status === "expired" ? this.#expiredError : undefined;
  }

  /** Whether a token is in force (it may have lapsed a moment ago: see {@link #liveExpiry}). */
  #inForce(): boolean {
    return this.#status === "ok" || this.#status === "refreshing";
  }

  /**
   * The expiry of the token in force at `now`; undefined when none is. A token whose expiry has
   * passed expires now.
   */
  #liveExpiry(now: number): number | undefined {
    const expiresAt = this.#expiresAt;
    if (expiresAt === undefined || !this.#inForce()) return undefined;
    if (now < expiresAt) return expiresAt;
    this.#expire();
    return undefined;
  }

  /** Calls `listener` for every event from now on; returns the function that stops it. */
  subscribe(listener: (event: CBSEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Resolves once a token is in force on the connection: at once while one is, else after a
   * put-token (joined by concurrent calls). `signal` ends this call's wait only.
   * @throws {TokenAuthFailure} when `$cbs` refused the token `retryPolicy.retries + 1` times;
   *   {@link ClientTimeout} without an answer within the auth's `timeout`; the errors of
   *   `auth.getToken()` ({@link TokenExpired}, `AuthenticationException`); an
   *   `AuthenticationException` when the `$cbs` links cannot be attached; {@link AMQPAbortError}.
   */
  ensure(signal?: AbortSignal): Promise<void> {
    if (this.#status === "closed") {
      return Promise.reject(new AMQPClientShutdown("the connection is closed", { retryable: false }));
    }
    if (this.#liveExpiry(Date.now()) !== undefined) return Promise.resolve();
    if (!this.#running) {
      const running = this.#authenticate();
      this.#running = running;
      const done = (): void => {
        if (this.#running === running) this.#running = undefined;
      };
      running.then(done, done);
    }
    return signal ? bounded(this.#running, { signal, what: "authorization" }) : this.#running;
  }

  /** Stops the timers and the refresh in progress, and detaches the `$cbs` links. Never rejects. */
  async close(): Promise<void> {
    if (this.#status === "closed") return;
    this.#status = "closed";
    this.#clearTimer();
    this.#stop.abort(new AMQPClientShutdown("the connection is closed", { retryable: false }));
    this.#listeners.clear();
    const link = this.#link;
    this.#link = undefined;
    await link?.close();
  }

  // ---- putting tokens ----------------------------------------------------------------------------

  async #authenticate(): Promise<void> {
    this.#status = "authenticating";
    this.#clearTimer();
    try {
      const token = await this.auth.getToken({ signal: this.#stop.signal });
      await this.#put(token, this.#stop.signal);
      if (this.#is("closed")) return;
      this.#accepted(token);
      getLogger().debug(
        `amqp:cbs token for ${maskUri(this.auth.audience)} accepted; expires ${iso(token.expiresOnTimestamp)}`,
      );
      this.#emit({ type: "authenticated", expiresAt: token.expiresOnTimestamp });
    } catch (e) {
      if (!this.#is("closed")) this.#status = "idle";
      throw asError(e);
    }
  }

  /** Whether the status is `s` now (for checks after an await). */
  #is(s: CBSStatus): boolean {
    return this.#status === s;
  }

  /**
   * Puts `token` on `$cbs`, trying again as the retry policy says when it is refused (the count
   * starts over for every call). Resolves when a 2xx answer came.
   */
  async #put(token: AccessToken, signal: AbortSignal): Promise<void> {
    const auth = this.auth;
    const policy = auth.retryPolicy;
    for (let attempt = 0; ; attempt++) {
      const link = await this.#pair(signal);
      const request = new Message({ body: token.token, bodyType: "value" });
      const response = await link.request(request, {
        applicationProperties: {
          operation: "put-token",
          type: auth.tokenType,
          name: auth.audience,
          expiration: new Date(token.expiresOnTimestamp),
        },
        timeout: auth.timeout,
        signal,
        what: "authorization (put-token)",
      });
      const { statusCode, description } = responseStatus(
        response,
        STATUS_CODE_FIELDS,
        STATUS_DESCRIPTION_FIELDS,
      );
      if (isSuccess(statusCode)) return;
      const text = redact(description, token.token);
      const failure =
        statusCode === undefined
          ? new TokenAuthFailure(`the ${CBS_NODE} answer to put-token carried no status code`, {
              description: text,
            })
          : new TokenAuthFailure(statusCode, text);
      if (attempt >= policy.retries) throw failure;
      getLogger().warn(
        `amqp:cbs put-token for ${maskUri(auth.audience)} refused (${failure.message}); retry ${attempt + 1} of ${policy.retries}`,
      );
      if (policy.backoff > 0) await delay(policy.backoff, signal);
    }
  }

  /** The link pair to `$cbs`, attached (a new one when the last one died). */
  async #pair(signal: AbortSignal): Promise<RequestResponseLink> {
    let link = this.#link;
    if (!link || !link.usable) {
      void link?.close();
      const session = this.#connection.createSession();
      link = new RequestResponseLink(session, CBS_NODE);
      this.#link = link;
      const opening = link.open({ timeout: this.auth.timeout });
      opening.catch(() => undefined);
      this.#linkOpen = opening;
    }
    try {
      await bounded(this.#linkOpen ?? Promise.resolve(), { signal, what: "authorization" });
    } catch (e) {
      if (e instanceof AMQPAbortError || e instanceof ClientTimeout) throw e;
      const cause = asError(e);
      throw new AuthenticationException(
        `Failed to open the CBS authentication links to ${CBS_NODE}: ${cause.message}`,
        { cause, retryable: cause.retryable },
      );
    }
    return link;
  }

  /** `token` is in force: remember it and plan its refresh. */
  #accepted(token: AccessToken): void {
    const now = Date.now();
    const expiresAt = token.expiresOnTimestamp;
    this.#lastToken = token.token;
    this.#expiresAt = expiresAt;
    this.#lastFailure = undefined;
    // The auth's cache says when to refresh the token it holds (usually this one); for a token
    // another connection has already replaced there, 10 % of what is left (the default window).
    const planned =
      this.auth.token === token.token
        ? this.auth.refreshAtMs()
        : expiresAt - (this.auth.refreshWindow ?? (expiresAt - now) / 10);
    // A window longer than the lifetime puts the refresh in the past: pace it.
    const earliest = now + refreshPaceMs(expiresAt - now, this.auth.retryPolicy.backoff);
    this.#refreshAt = planned === undefined ? undefined : Math.min(expiresAt, Math.max(planned, earliest));
    this.#status = "ok";
    this.#arm();
  }

  // ---- timers ------------------------------------------------------------------------------------

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Arms the one timer: at the refresh (when the token can be renewed and no refresh is running),
   * else at the expiry.
   */
  #arm(): void {
    this.#clearTimer();
    const now = Date.now();
    const expiresAt = this.#liveExpiry(now);
    if (expiresAt === undefined) return;
    const refreshAt = this.#status === "ok" && this.auth.canRefresh ? this.#refreshAt : undefined;
    const at = refreshAt === undefined ? expiresAt : Math.min(refreshAt, expiresAt);
    // Timers wait at most 2^31 - 1 ms: a longer wait is chained (the timer re-arms when it fires).
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, at - now));
    // Unref'd: a client with nothing else to do lets the process exit.
    this.#timer = setTimeout(() => {
      this.#onTimer();
    }, wait);
    this.#timer.unref();
  }

  #onTimer(): void {
    this.#timer = undefined;
    const now = Date.now();
    const expiresAt = this.#liveExpiry(now);
    if (expiresAt === undefined) return;
    const refreshAt = this.#refreshAt;
    if (
      this.#status === "refreshing" ||
      !this.auth.canRefresh ||
      refreshAt === undefined ||
      refreshAt > now
    ) {
      this.#arm(); // a chained wait
      return;
    }
    void this.#refresh(expiresAt);
  }

  /** One refresh attempt: a new token, put unless it is the one in force; on failure, the next try. */
  async #refresh(expiresAt: number): Promise<void> {
    this.#status = "refreshing";
    this.#arm(); // the expiry still ends a refresh that takes too long
    const round = new AbortController();
    this.#round = round;
    const signal = AbortSignal.any([this.#stop.signal, round.signal]);
    // The expiry or a close ended this round while it awaited.
    const ended = (): boolean => !this.#is("refreshing") || signal.aborted;
    try {
      const token = await this.auth.getToken({ signal });
      if (ended()) return;
      if (token.token === this.#lastToken) {
        // Nothing new (a callback returning the same token, or a refresh not due yet): no
        // put-token; ask again when the auth says, or after a pause.
        const now = Date.now();
        const next = this.auth.refreshAtMs();
        this.#refreshAt =
          next !== undefined && next > now
            ? next
            : now + refreshPaceMs(expiresAt - now, this.auth.retryPolicy.backoff);
        this.#status = "ok";
        this.#arm();
        return;
      }
      await this.#put(token, signal);
      if (ended()) return;
      this.#refreshes++;
      this.#accepted(token);
      getLogger().debug(
        `amqp:cbs token for ${maskUri(this.auth.audience)} refreshed; expires ${iso(token.expiresOnTimestamp)}`,
      );
      this.#emit({ type: "refreshed", expiresAt: token.expiresOnTimestamp });
    } catch (e) {
      if (ended()) return;
      const error = asError(e);
      this.#lastFailure = error;
      const now = Date.now();
      const retryAt = Math.min(
        expiresAt,
        now + refreshPaceMs(expiresAt - now, this.auth.retryPolicy.backoff),
      );
      this.#refreshAt = retryAt;
      this.#status = "ok";
      getLogger().warn(
        `amqp:cbs refresh of the token for ${maskUri(this.auth.audience)} failed (${error.message}); next attempt ${iso(retryAt)}, expiry ${iso(expiresAt)}`,
      );
      this.#emit({ type: "refreshFailed", error, expiresAt, retryAt });
      this.#arm();
    } finally {
      if (this.#round === round) this.#round = undefined;
    }
  }

  /** The token lapsed: stop refreshing and tell the clients. */
  #expire(): void {
    if (this.#status === "expired" || this.#status === "closed") return;
    this.#status = "expired";
    this.#clearTimer();
    this.#round?.abort();
    const expiresAt = this.#expiresAt ?? Date.now();
    const last = this.#lastFailure;
    const error = new TokenExpired(
      `the CBS token for ${maskUri(this.auth.audience)} expired at ${iso(expiresAt)}` +
        (last ? ` (the last refresh failed: ${last.message})` : " (it could not be renewed)"),
      { retryable: false, ...(last ? { cause: last } : {}) },
    );
    this.#expiredError = error;
    getLogger().warn(`amqp:cbs ${error.message}`);
    this.#emit({ type: "expired", error });
  }

  #emit(event: CBSEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A failing listener must not stop the others or the refresh.
      }
    }
  }
}
