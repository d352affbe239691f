/** Opening a link of the low-level API: its connection too (pipelined), bounded by a timeout. */
import { ClientTimeout } from "../errors/exceptions.js";
import type { Link } from "../engine/link.js";
import type { Connection } from "./connection.js";

/**
 * Resolves when the connection is open and the peer attached `link`.
 * @throws {ClientTimeout} after `timeoutMs` (when given and > 0); the link's error if refused.
 */
export async function openLink(
  connection: Connection,
  link: Link,
  timeoutMs: number | undefined,
): Promise<void> {
  // Opening a link opens its connection if nobody did (the frames are pipelined).
  const attached = Promise.all([connection.open(), link.attached()]);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    await attached;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ClientTimeout(`${link.role} attach timed out after ${timeoutMs} ms`, { retryable: true }));
    }, timeoutMs);
  });
  try {
    await Promise.race([attached, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
