/**
 * The lifecycle lines of the low-level classes: `uamqp:connection` and `uamqp:link`, each after the
 * connection's log id so that they read together with its frame trace (docs/debugging.md,
 * "Lifecycle lines"). Names, addresses and errors only: no message content, no secret.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { AMQPClientShutdown } from "../errors/exceptions.js";
import type { Link } from "../engine/link.js";
import { describeError, log, logEnabled, type LogLevel } from "../util/log.js";

/** What happened to a link, as its line says it. */
export type LinkEvent = "attached" | "not attached" | "detached" | "closed";

/** Our terminus's peer: the node a sender sends to, or a receiver receives from. */
function nodeAddress(link: Link): string | undefined {
  const node = link.role === "sender" ? link.local.target : link.local.source;
  return node !== undefined && "address" in node && typeof node.address === "string"
    ? node.address
    : undefined;
}

function levelOf(event: LinkEvent, error: AMQPError | undefined): LogLevel {
  if (event === "attached") return "info";
  if (event === "closed") return "debug";
  // A detach without an error came from the peer; one of our own closes is not a fault.
  if (error === undefined) return "info";
  return error instanceof AMQPClientShutdown ? "debug" : "warn";
}

/** Logs one link event, e.g. `conn-2 ch=0 sender "sender-…" to "orders" attached`. */
export function logLinkEvent(connectionLogId: string, link: Link, event: LinkEvent, error?: AMQPError): void {
  const level = levelOf(event, error);
  if (!logEnabled("uamqp:link", level)) return;
  const address = nodeAddress(link);
  const where =
    address === undefined ? "" : ` ${link.role === "sender" ? "to" : "from"} ${JSON.stringify(address)}`;
  const why = error === undefined ? "" : `: ${describeError(error)}`;
  const line = `${link.role} ${JSON.stringify(link.name)}${where} ${event}${why}`;
  log("uamqp:link", level, `${connectionLogId} ch=${link.session.channel} ${line}`);
}
