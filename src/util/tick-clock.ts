/**
 * The wall clock read once per tick: `Date.now()` is a call into the runtime (about 50 ns), and code
 * that stamps every message (arrival times, expiries, lock deadlines) would read it several times
 * per message. The first reading of a tick is kept until the microtasks of that tick have run, so
 * a value is at most as old as the synchronous work of one tick.
 */

let cached = 0;
let valid = false;
const invalidate = (): void => {
  valid = false;
};

/** `Date.now()` as read at the first call of the current tick (ms since the epoch). */
export function tickNow(): number {
  if (!valid) {
    cached = Date.now();
    valid = true;
    queueMicrotask(invalidate);
  }
  return cached;
}
