/**
 * How a link client (`SendClient`, `ReceiveClient`) plugs into `AMQPClient`, which owns the
 * lifecycle; the link client owns its link and what waits on it (docs/architecture.md, "The link
 * interface").
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
  /** Creates the link on `session` (the previous one was detached) and resolves once attached. */
  attach(session: Session, signal: AbortSignal): Promise<void>;
  /** Detaches the link (the client bounds the wait). Never rejects. */
  detach(): Promise<void>;
  /** Reacts to a lifecycle event; returns how many messages it sent again (`resent` of `reconnected`). */
  on(event: ClientLinkEvent): number;
}

/** What a link tells its client (given to it when it plugs in). */
export interface ClientLinkHost {
  /** The link failed (`error` undefined: the peer's DETACH carried none); the client recovers or fails. */
  failed(error: AMQPError | undefined): void;
  /** The link made progress (an outcome or a message arrived): the reconnect attempt budget starts over. */
  progressed(): void;
  /** The client is closing, closed or failed: calls end with {@link ClientLinkHost.closedError}. */
  stopped(): boolean;
  /** The error of a call on a client that is closed or failed. */
  closedError(): AMQPError;
}
