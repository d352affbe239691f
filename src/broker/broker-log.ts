/**
 * The broker's log: `uamqp:broker` lines for connections and links (never messages, outcomes or
 * `$management`/`$cbs` requests: those carry payloads and tokens), and the frame traces of its
 * connections under `uamqp:broker:frames`. See docs/debugging.md.
 */
import type { ConnectionOptions } from "../engine/options.js";
import { describeError, frameTrace, framesTraced, log } from "../util/log.js";
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

/** Logs a connection or link event of the broker; other events are not logged. */
export function logBrokerEvent(event: BrokerEvent): void {
  switch (event.type) {
    case "connection-open": {
      const who =
        event.mechanism === undefined
          ? "without SASL"
          : `SASL ${event.mechanism}${event.identity !== undefined ? ` as ${JSON.stringify(event.identity)}` : ""}`;
      log("uamqp:broker", "info", `${brokerConnectionLogId(event.connectionId)} open (${who})`);
      return;
    }
    case "connection-close":
      if (event.error === undefined)
        log("uamqp:broker", "debug", `${brokerConnectionLogId(event.connectionId)} closed`);
      else
        log(
          "uamqp:broker",
          "info",
          `${brokerConnectionLogId(event.connectionId)} closed: ${describeError(event.error)}`,
        );
      return;
    case "attach": {
      const what = event.role === "sender" ? "producer" : "consumer";
      const where =
        event.address === undefined
          ? ""
          : ` ${event.role === "sender" ? "to" : "from"} ${JSON.stringify(event.address)}`;
      log(
        "uamqp:broker",
        "info",
        `${brokerConnectionLogId(event.connectionId)} ${what} link ${JSON.stringify(event.linkName)}${where} attached`,
      );
      return;
    }
    default:
      // Messages, outcomes and requests: payloads and tokens stay out of the log.
      return;
  }
}
