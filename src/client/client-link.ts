/**
 * How a link client (`SendClient`, `ReceiveClient`) plugs into `AMQPClient`, which owns the
 * lifecycle: state, connection and session, open sharing, recovery, redirects and status. The link
 * client owns its link and what waits on it (pending messages, received buffer).
 *
 * `AMQPClient` calls the link: `attach()` whenever connection and session are (re)established,
 * `detach()` when it tears them down, and `on()` for each lifecycle event. The link answers through
 * the {@link ClientLinkHost} it got when it plugged in. See docs/architecture.md, "The client".
 * @internal
 */
import type { AMQPError } from "../errors/amqp-error.js";
import type { Session } from "./session.js";

/** A lifecycle event of the client, told to its link. */
export type ClientLinkEvent =
  /** The first `open()` completed: connection, session and link are up. */
  | { readonly type: "opened" }
  /** The link or its connection was lost; a recovery starts (the link is attached again later). */
  | { readonly type: "lost"; readonly error: AMQPError }
  /** A recovery (or a redirect) re-established connection, session and link. */
  | { readonly type: "recovered" }
  /** The client failed for good with `error`: every pending call ends with it. */
  | { readonly type: "fatal"; readonly error: AMQPError }
  /** `close()` was called: every pending call ends. */
  | { readonly type: "closing" }
  /** A redirect names a new node address for the link (used from the next attach on). */
  | { readonly type: "redirected"; readonly address: string };

/** The link of a client, as `AMQPClient` drives it. */
export interface ClientLink {
  /**
   * Creates the link on `session` and resolves when the peer attached it; `signal` aborts the
   * wait (the client gave up on this attempt). The previous link, if any, was detached before.
   */
  attach(session: Session, signal: AbortSignal): Promise<void>;
  /** Detaches the link (the client bounds the wait). Never rejects. */
  detach(): Promise<void>;
  /**
   * Reacts to a lifecycle event. Returns how many messages the event made the link send again:
   * reported as `resent` in the `reconnected` status (non-zero only for `recovered`).
   */
  on(event: ClientLinkEvent): number;
}

/** What a link tells its client (given to it when it plugs in). */
export interface ClientLinkHost {
  /**
   * The link failed: the peer detached it (`error` undefined when the DETACH carried none), or its
   * session or connection ended. The client starts a recovery, or fails.
   */
  failed(error: AMQPError | undefined): void;
  /** The link made progress (an outcome or a message arrived): the reconnect attempt budget starts over. */
  progressed(): void;
  /** The error of a call on a client that is closed or failed. */
  closedError(): AMQPError;
}
