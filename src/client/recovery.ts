/**
 * Automatic recovery of a client (beyond uamqp): after a dropped connection or a detached link,
 * reconnect / re-attach with exponential backoff and jitter, bounded by the reconnect options and
 * the error policy, following redirects; or give up with the error.
 * @internal
 */
import type { AMQPAuth, TransportOptions } from "../auth/amqp-auth.js";
import type { AMQPError } from "../errors/amqp-error.js";
import { ConnectionRedirect, LinkRedirect } from "../errors/exceptions.js";
import { computeBackoffMs } from "../policy/backoff.js";
import type { ErrorAction } from "../policy/error-action.js";
import type { ClientStatus } from "./client-status.js";
import type { ResolvedReconnect } from "./client-options.js";
import { abortError, asAMQPError } from "./waits.js";

/** A redirect error (link or connection). */
export type RedirectError = LinkRedirect | ConnectionRedirect;

/** Whether `e` asks the client to go elsewhere. */
export function isRedirect(e: unknown): e is RedirectError {
  return e instanceof LinkRedirect || e instanceof ConnectionRedirect;
}

/**
 * The auth to use after a redirect: `auth` when given (its port filled in from the redirect when it
 * has none), else the current credentials for the redirect's host, port and network host.
 */
export function redirectAuth(current: AMQPAuth, error: RedirectError, auth?: AMQPAuth): AMQPAuth {
  if (auth) {
    if (auth.transport.port !== undefined || error.port === undefined) return auth;
    return auth.withHost(auth.hostname, { ...auth.transport, port: error.port });
  }
  const host = error.hostname ?? error.networkHost ?? current.hostname;
  const transport: TransportOptions = { ...current.transport };
  if (error.port !== undefined) transport.port = error.port;
  if (error.networkHost !== undefined && error.networkHost !== host) {
    transport.customEndpointHostname = error.networkHost;
  } else {
    delete transport.customEndpointHostname;
  }
  return current.withHost(host, transport);
}

/**
 * Waits `ms`, or rejects when `signal` aborts. Unlike the policy module's `sleep`, the timer keeps the
 * process alive: a recovering client has work pending (bounded by the reconnect attempts).
 */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** What the recovery loop needs from its client. */
export interface RecoveryHost {
  readonly reconnect: ResolvedReconnect;
  /** The client runs on a connection it does not own (it cannot reconnect or redirect it). */
  readonly external: boolean;
  /** Aborted when the client closes or another recovery/redirect supersedes this one. */
  readonly signal: AbortSignal;
  actionFor(error: AMQPError): ErrorAction;
  connectionAlive(): boolean;
  /**
   * The number of the next attempt, or undefined when the budget is spent (attempts are counted
   * across recoveries until the link makes progress).
   */
  nextAttempt(): number | undefined;
  emit(status: ClientStatus): void;
  /** Switches host/address for a redirect (emits `redirected`), dropping a connection to another host. */
  applyRedirect(error: RedirectError): Promise<void>;
  /** Reconnects what is down (connection, session) and re-attaches the link. */
  establish(timeoutMs: number): Promise<void>;
  /** Closes a half-dead connection before the next attempt. */
  dropConnection(): Promise<void>;
  /** Success: the client is open again. */
  recovered(attempt: number): void;
  /** Failure for good. */
  fail(error: AMQPError): Promise<void>;
}

/** Runs one recovery after `error`; resolves when the client is back, failed, or closed. */
export async function recover(host: RecoveryHost, error: AMQPError): Promise<void> {
  const signal = host.signal;
  host.emit(host.connectionAlive() ? { type: "linkDetached", error } : { type: "disconnected", error });
  let redirect = isRedirect(error) ? error : undefined;
  let action = redirect ? undefined : host.actionFor(error);
  const cannot =
    !host.reconnect.enabled ||
    (action !== undefined && !action.retry) ||
    (host.external && (redirect !== undefined || !host.connectionAlive()));
  if (cannot) {
    await host.fail(error);
    return;
  }
  let last = error;
  for (let attempt = host.nextAttempt(); attempt !== undefined; attempt = host.nextAttempt()) {
    const delayMs = redirect
      ? 0
      : Math.max(action?.backoffMs ?? 0, computeBackoffMs(attempt - 1, host.reconnect.backoff));
    host.emit({ type: "reconnecting", attempt, delayMs, error: last });
    try {
      await delay(delayMs, signal);
    } catch {
      return; // closed or superseded
    }
    try {
      if (redirect) {
        await host.applyRedirect(redirect);
        redirect = undefined;
      }
      await host.establish(host.reconnect.attemptTimeout);
      if (signal.aborted) return;
      host.recovered(attempt);
      return;
    } catch (e) {
      if (signal.aborted) return;
      last = asAMQPError(e);
      if (isRedirect(last) && !host.external) {
        redirect = last;
        continue;
      }
      const a = host.actionFor(last);
      if (!a.retry) {
        await host.fail(last);
        return;
      }
      action = a;
      if (!host.connectionAlive()) await host.dropConnection();
    }
  }
  await host.fail(last);
}
