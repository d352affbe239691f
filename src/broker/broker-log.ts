/**
 * The broker's log: `uamqp:broker` lines for connections, links and denials (never messages, outcomes or
 * `$management`/`$cbs` requests: those carry payloads and tokens), and the frame traces of its
 * connections under `uamqp:broker:frames`. See docs/debugging.md.
 */
import type { ConnectionOptions } from "../engine/options.js";
import { describeError, frameTrace, framesTraced, log, logEnabled, type LogLevel } from "../util/log.js";
import type { BrokerEvent } from "./options.js";

/** A broker connection's id in log lines and frame traces (`broker-conn-N`, N its `connectionId`). */
export function brokerConnectionLogId(connectionId: number): string {
  return `broker-conn-${connectionId}`;
}

/** The frame trace of broker connection `connectionId`, when `DEBUG` asks for it. */
export function brokerTraceOption(connectionId: number): Pick<ConnectionOptions, "trace"> {
  return framesTraced("uamqp:broker:frames")
    ? { trace: frameTrace("uamqp:broker:frames", brokerConnectionLogId(connectionId)) }
    : {};
}

/** The level and text of a connection or link event; undefined for the events that are not logged. */
function lineOf(event: BrokerEvent): [LogLevel, string] | undefined {
  switch (event.type) {
    case "connection-open": {
      const who =
        event.mechanism === undefined
          ? "without SASL"
          : `SASL ${event.mechanism}${event.identity !== undefined ? ` as ${JSON.stringify(event.identity)}` : ""}`;
      return ["info", `${brokerConnectionLogId(event.connectionId)} open (${who})`];
    }
    case "connection-close":
      return event.error === undefined
        ? ["debug", `${brokerConnectionLogId(event.connectionId)} closed`]
        : ["info", `${brokerConnectionLogId(event.connectionId)} closed: ${describeError(event.error)}`];
    case "attach": {
      const what = event.role === "sender" ? "producer" : "consumer";
      const where =
        event.address === undefined
          ? ""
          : ` ${event.role === "sender" ? "to" : "from"} ${JSON.stringify(event.address)}`;
      return [
        "info",
        `${brokerConnectionLogId(event.connectionId)} ${what} link ${JSON.stringify(event.linkName)}${where} attached`,
      ];
    }
    case "denied": {
      // Names and rights only: no payload, no token.
      const what = event.what === "request" ? "management request" : event.what;
      const where = event.address === undefined ? "" : ` for ${JSON.stringify(event.address)}`;
      return [
        "warn",
        `${brokerConnectionLogId(event.connectionId)} denied ${what}${where}: ${event.condition}: ${event.description}`,
      ];
    }
    default:
      // Messages, outcomes and requests: payloads and tokens stay out of the log.
      return undefined;
  }
}

/**
 * The most severe level of each event that is logged: when that level is off, so are the milder
 * ones, and the line is not built.
 */
const MOST_SEVERE: Partial<Record<BrokerEvent["type"], LogLevel>> = {
  "connection-open": "info",
  "connection-close": "info",
  attach: "info",
  denied: "warn",
};

/** Logs a connection or link event of the broker; other events are not logged. */
export function logBrokerEvent(event: BrokerEvent): void {
  const most = MOST_SEVERE[event.type];
  if (most === undefined || !logEnabled("uamqp:broker", most)) return;
  const line = lineOf(event);
  if (line !== undefined) log("uamqp:broker", line[0], line[1]);
}

/** A connection dropped on arrival: its source address holds `max` connections already. */
export function logRefusedConnection(source: string, max: number): void {
  if (!logEnabled("uamqp:broker", "debug")) return;
  log(
    "uamqp:broker",
    "debug",
    `connection from ${source} dropped: it has ${max} connections open (limits.maxConnectionsPerSource)`,
  );
}
