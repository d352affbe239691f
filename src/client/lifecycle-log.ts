/**
 * The lifecycle lines of the low-level classes: `uamqp:connection` (open, close, loss of a
 * `Connection`) and `uamqp:link` (attach, detach, close of a `MessageSender` or
 * `MessageReceiver`). Each starts with the connection's id in log lines (`conn-N`, the id its frame
 * trace shows), so both read together. No message content, no secret: names, addresses, errors.
 * See docs/debugging.md.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { AMQPClientShutdown } from "../errors/exceptions.js";
import type { Link } from "../engine/link.js";
import { describeError, log, logEnabled, type LogLevel } from "../util/log.js";

/** What happened to a link, as its line says it. */
export type LinkEvent = "attached" | "not attached" | "detached" | "closed";

const LEVELS: Record<LinkEvent, LogLevel> = {
  attached: "info",
  "not attached": "warn",
  detached: "warn",
  closed: "debug",
};

/** Our terminus's peer: the node a sender sends to, or a receiver receives from. */
function nodeAddress(link: Link): string | undefined {
  const node = link.role === "sender" ? link.local.target : link.local.source;
  return node !== undefined && "address" in node && typeof node.address === "string"
    ? node.address
    : undefined;
}

/** The level of a link event: `detached` and `not attached` are warnings when an error ended the link. */
function levelOf(event: LinkEvent, error: AMQPError | undefined): LogLevel {
  if (event !== "detached" && event !== "not attached") return LEVELS[event];
  // No error: the peer detached it without one. Our own close of the session or connection: not a fault.
  if (error === undefined) return "info";
  return error instanceof AMQPClientShutdown ? "debug" : "warn";
}

/**
 * Logs one link event, e.g. `conn-2 ch=0 sender "sender-…" to "orders" attached`; `detached` (the
 * peer detached it, or its session or connection ended) is a warning with the error, info when the
 * peer gave none, debug when we closed its session or connection.
 */
export function logLinkEvent(connectionLogId: string, link: Link, event: LinkEvent, error?: AMQPError): void {
  const level = levelOf(event, error);
  if (!logEnabled("uamqp:link", level)) return;
  const address = nodeAddress(link);
  const where =
    address === undefined ? "" : ` ${link.role === "sender" ? "to" : "from"} ${JSON.stringify(address)}`;
  const why = error === undefined ? "" : `: ${describeError(error)}`;
  log(
    "uamqp:link",
    level,
    `${connectionLogId} ch=${link.session.channel} ${link.role} ${JSON.stringify(link.name)}${where} ${event}${why}`,
  );
}
