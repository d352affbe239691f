/** Opening a link of the low-level API: its connection too (pipelined), bounded by a timeout. */
import { ClientTimeout } from "../errors/exceptions.js";
import { abortError } from "./waits.js";
import type { Link } from "../engine/link.js";
import type { Connection } from "./connection.js";

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
  if (signal?.aborted === true) throw abortError(signal);
  // Opening a link opens its connection if nobody did (the frames are pipelined).
  const attached = Promise.all([connection.open(), link.attached()]);
  const timed = timeoutMs !== undefined && timeoutMs > 0;
  if (!timed && !signal) {
    await attached;
    return;
  }
  attached.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    if (timed) {
      timer = setTimeout(() => {
        reject(new ClientTimeout(`${link.role} attach timed out after ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
    }
    if (signal) {
      onAbort = () => reject(abortError(signal));
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  try {
    await Promise.race([attached, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}
