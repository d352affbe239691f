import type { Message } from "../message/message.js";
import { abortError, within } from "../policy/wait.js";
import { Fifo } from "../util/fifo.js";

/** Why a wait for a message ended. @internal */
export type WaitResult = "message" | "timeout" | "inactive" | "closed";

/**
 * The buffer of a `ReceiveClient`: messages not yet handed to the application, oldest first, and
 * the receive calls waiting for one (each woken with why its wait ended). @internal
 */
export class ReceiveBuffer extends Fifo<Message> {
  readonly #wakers = new Set<(r: WaitResult) => void>();

  /** Calls waiting. */
  get waiting(): number {
    return this.#wakers.size;
  }

  /** Takes up to `max` messages, oldest first. */
  take(max: number): Message[] {
    const out: Message[] = [];
    while (out.length < max && this.length > 0) out.push(this.shift()!);
    return out;
  }

  /**
   * Waits until {@link ReceiveBuffer.wakeAll} is called, or `"timeout"` at `deadline` (epoch ms;
   * undefined = none). Rejects with an `AMQPAbortError` when `signal` aborts.
   */
  async wait(deadline: number | undefined, signal: AbortSignal | undefined): Promise<WaitResult> {
    if (signal?.aborted === true) throw abortError(signal);
    let wake!: (r: WaitResult) => void;
    const woken = new Promise<WaitResult>((resolve) => {
      wake = resolve;
    });
    this.#wakers.add(wake);
    try {
      const ms = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
      return (await within(woken, ms, signal)) ?? "timeout";
    } finally {
      this.#wakers.delete(wake);
    }
  }

  /** Ends every wait with `r` (a woken call waits no more: the messages of a burst wake it once). */
  wakeAll(r: WaitResult): void {
    if (this.#wakers.size === 0) return;
    const woken = [...this.#wakers];
    this.#wakers.clear();
    for (const w of woken) w(r);
  }
}
