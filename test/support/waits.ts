/**
 * Bounded waits for tests: every wait fails with a message naming what it waited for instead of
 * hanging. Progress that has an event or a promise is awaited with `within`; state that can only be
 * observed by reading it is polled with `until`; batches are collected with `gather`.
 */

/** Default bound of a wait. Generous, because a passing test never waits it out. */
export const WAIT_MS = 10_000;

/** How often `until` looks again. */
const POLL_MS = 5;

/** Settles like `p`, or rejects with a "hang" error when `p` does not settle within `ms`. */
export async function within<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`hang: ${what} did not settle within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it holds; throws after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Calls `next` (e.g. one `receiveMessageBatch`) until `n` items arrived, each call bounded by what is
 * left of `timeoutMs`; throws when the time is up.
 */
export async function gather<T>(
  n: number,
  next: () => Promise<readonly T[]>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<T[]> {
  const got: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < n) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what}: ${got.length} of ${n}`);
    got.push(...(await within(next(), `${what} (${got.length} of ${n} so far)`, left)));
  }
  return got;
}

/** Marks `p` as handled now (it may reject before the test looks at it) and returns it. */
export function observe<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** The rejection reason of `p` (fails when `p` resolves, or hangs). */
export async function rejectionOf(p: Promise<unknown>, what: string, ms = WAIT_MS): Promise<unknown> {
  const r = await within(
    p.then(
      () => ({ resolved: true as const }),
      (error: unknown) => ({ resolved: false as const, error }),
    ),
    what,
    ms,
  );
  if (r.resolved) throw new Error(`${what} resolved; expected a rejection`);
  return r.error;
}
