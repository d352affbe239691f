/**
 * Reports the peer's ATTACH of a client's link to the application's `onAttach` callback (uamqp's
 * `on_attach(source, target, properties, error)`).
 * @internal
 */
import { Source, Target } from "../address/index.js";
import { AMQPConnectionError } from "../errors/exceptions.js";
import type { Link } from "../engine/link.js";
import type { OnAttach } from "./client-options.js";

/**
 * Calls `callback` with the termini and properties of the peer's ATTACH of `link` (nothing when the
 * peer has not attached). `error` is an {@link AMQPConnectionError} when the ATTACH lacks the
 * terminus it must carry (the peer refuses the link; its DETACH follows). A throwing callback is
 * ignored.
 */
export function reportAttach(callback: OnAttach | undefined, link: Link): void {
  const remote = link.remote;
  if (!callback || !remote) return;
  let source: Source | undefined;
  let target: Target | undefined;
  try {
    source = remote.source ? Source.fromTerminus(remote.source) : undefined;
    target = remote.target?.type === "target" ? Target.fromTerminus(remote.target) : undefined;
  } catch {
    // An undecodable terminus is reported as missing.
  }
  const missing = link.role === "sender" ? "target" : "source";
  const error = link.remoteTerminusMissing
    ? new AMQPConnectionError(`The peer's ATTACH for link ${link.name} has no ${missing}.`, {
        condition: "amqp:invalid-field",
        retryable: false,
      })
    : undefined;
  try {
    callback(source, target, remote.properties, error);
  } catch {
    // A failing callback must not disturb the client.
  }
}
