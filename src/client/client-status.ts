/** The lifecycle of a client (owned by `AMQPClient`): its states, its events and their log lines. */
import type { AMQPError, RecoveryFailure } from "../errors/amqp-error.js";
import { describeError, log, type LogLevel } from "../util/log.js";

/** Lifecycle of a client. */
export type ClientState = "idle" | "opening" | "open" | "recovering" | "failed" | "closing" | "closed";

/** One lifecycle event of a client, discriminated by `type`. */
export type ClientStatus =
  /** The connection dropped (or was closed by the peer) while the client was open. */
  | { readonly type: "disconnected"; readonly error: AMQPError }
  /** The client's link was detached by the peer while its connection stayed up. */
  | { readonly type: "linkDetached"; readonly error: AMQPError }
  /** A recovery attempt starts after `delayMs` (attempt counts from 1). */
  | {
      readonly type: "reconnecting";
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: AMQPError;
    }
  /** The client follows an `amqp:link:redirect` / `amqp:connection:redirect`. */
  | {
      readonly type: "redirected";
      readonly hostname: string;
      readonly port: number;
      readonly address: string | undefined;
      readonly error: AMQPError;
    }
  /** Connection and link are back; `resent` messages were sent again (at-least-once). */
  | { readonly type: "reconnected"; readonly attempt: number; readonly resent: number }
  /** A token auth's token was refreshed on its timer; `expiresAt`: ms since the epoch. */
  | { readonly type: "tokenRefreshed"; readonly expiresAt: number }
  /** A token refresh failed; the next is at `retryAt`. None before `expiresAt`: `TokenExpired`. */
  | {
      readonly type: "tokenRefreshFailed";
      readonly error: AMQPError;
      readonly expiresAt: number;
      readonly retryAt: number;
    }
  /**
   * The client closed (`error` set when a failure ended it; `recoveryFailure`: why a recovery gave
   * up). The last event of the stream.
   */
  | {
      readonly type: "closed";
      readonly error: AMQPError | undefined;
      readonly recoveryFailure?: RecoveryFailure | undefined;
    };

/**
 * Logs a lifecycle event in the `uamqp:client` namespace after `label` (the client's name and
 * address, password masked). @internal
 */
export function logStatus(label: string, status: ClientStatus): void {
  const [level, text] = statusLine(status);
  log("uamqp:client", level, `${label} ${text}`);
}

function statusLine(status: ClientStatus): [LogLevel, string] {
  switch (status.type) {
    case "disconnected":
      return ["warn", `connection lost: ${describeError(status.error)}`];
    case "linkDetached":
      return ["warn", `link detached: ${describeError(status.error)}`];
    case "reconnecting":
      return ["warn", `reconnecting (attempt ${status.attempt}) in ${status.delayMs} ms`];
    case "redirected":
      return ["info", `redirected to ${status.hostname}:${status.port} ${status.address ?? ""}`.trimEnd()];
    case "reconnected":
      return ["info", `recovered (attempt ${status.attempt}, ${status.resent} messages sent again)`];
    case "tokenRefreshed":
      return ["debug", `token refreshed (expires ${new Date(status.expiresAt).toISOString()})`];
    case "tokenRefreshFailed": {
      const next = new Date(status.retryAt).toISOString();
      return ["warn", `token refresh failed: ${describeError(status.error)}; next attempt ${next}`];
    }
    case "closed": {
      if (!status.error) return ["debug", "closed"];
      const why = status.recoveryFailure;
      const gaveUp = why ? ` (recovery gave up: ${why.reason} after ${why.attempts} attempts)` : "";
      return ["error", `failed: ${describeError(status.error)}${gaveUp}`];
    }
  }
}
