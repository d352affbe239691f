/** Opening a link of the low-level API: its connection too (pipelined), bounded by a timeout. */
import type { Link } from "../engine/link.js";
import type { Connection } from "./connection.js";
import { abortError, bounded } from "./waits.js";

/**
 * Resolves when the connection is open and the peer attached `link`.
 * @throws {ClientTimeout} after `timeoutMs` (when given and > 0); {@link AMQPAbortError} when
 *   `signal` aborts (the link stays as it is: close it); the link's error if refused.
 */
export async function openLink(
  connection: Connection,
  link: Link,
  timeoutMs: number | undefined,
  signal?: AbortSignal,
): Promise<void> {
  // An aborted signal connects nowhere.
  if (signal?.aborted === true) throw abortError(signal);
  // Opening a link opens its connection if nobody did (the frames are pipelined).
  const attached = Promise.all([connection.open(), link.attached()]);
  await bounded(attached, { timeoutMs, signal, what: `${link.role} attach` });
}
