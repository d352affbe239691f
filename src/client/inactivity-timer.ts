import { tickNow } from "../util/tick-clock.js";

/**
 * The inactivity timeout of a `ReceiveClient` (uamqp's `timeout`): fires once no message arrived
 * for `timeoutMs` while a receive call was waiting; the timer only runs while a call waits.
 * @internal
 */
export class InactivityTimer {
  readonly #timeoutMs: number;
  readonly #isWaiting: () => boolean;
  readonly #onInactive: () => void;
  #lastActivity = Date.now();
  #timer: NodeJS.Timeout | undefined;

  /** @param timeoutMs - the timeout (0 = none) */
  constructor(timeoutMs: number, isWaiting: () => boolean, onInactive: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#isWaiting = isWaiting;
    this.#onInactive = onInactive;
  }

  /** Something happened: the timeout counts from now. */
  touch(): void {
    // Read only by the timer: no clock reading per message without a timeout, and one per tick with.
    if (this.#timeoutMs > 0) this.#lastActivity = tickNow();
  }

  /** Starts the timer, unless there is no timeout, it runs already, or no call waits. */
  arm(): void {
    const timeoutMs = this.#timeoutMs;
    if (timeoutMs <= 0 || this.#timer || !this.#isWaiting()) return;
    const delay = Math.max(0, this.#lastActivity + timeoutMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#isWaiting()) return;
      if (Date.now() - this.#lastActivity < timeoutMs) {
        this.arm();
        return;
      }
      this.#onInactive();
    }, delay);
  }

  /** Stops the timer (close, failure). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
