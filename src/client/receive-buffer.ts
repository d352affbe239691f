/**
 * The buffer of a `ReceiveClient`: messages received and not yet handed to the application, in
 * arrival order, and the receive calls waiting for one to arrive (each woken with why its wait
 * ended).
 * @internal
 */
import type { Message } from "../message/message.js";
import { abortError, within } from "../policy/wait.js";

/** The ring's first size (a power of two). */
const INITIAL_SLOTS = 64;

/** Why a wait for a message ended. @internal */
export type WaitResult = "message" | "timeout" | "inactive" | "closed";

/** Received messages and the calls waiting for them. @internal */
export class ReceiveBuffer {
  /** The messages, oldest at `#head`, in a ring that doubles when full (no allocation per message). */
  #ring: (Message | undefined)[] = new Array<Message | undefined>(INITIAL_SLOTS).fill(undefined);
  #head = 0;
  #count = 0;
  readonly #wakers = new Set<(r: WaitResult) => void>();

  /** Messages buffered. */
  get count(): number {
    return this.#count;
  }

  /** Calls waiting. */
  get waiting(): number {
    return this.#wakers.size;
  }

  /** Buffers `m` (callers then wake the waiting calls). */
  push(m: Message): void {
    let ring = this.#ring;
    if (this.#count === ring.length) ring = this.#grow();
    ring[(this.#head + this.#count) & (ring.length - 1)] = m;
    this.#count++;
  }

  /** Takes the oldest message, if there is one. */
  shift(): Message | undefined {
    if (this.#count === 0) return undefined;
    const ring = this.#ring;
    const m = ring[this.#head];
    ring[this.#head] = undefined;
    this.#head = (this.#head + 1) & (ring.length - 1);
    this.#count--;
    return m;
  }

  /** Takes up to `max` messages, oldest first. */
  take(max: number): Message[] {
    const out: Message[] = [];
    while (out.length < max && this.#count > 0) out.push(this.shift()!);
    return out;
  }

  #grow(): (Message | undefined)[] {
    const old = this.#ring;
    const ring = new Array<Message | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.#count; i++) ring[i] = old[(this.#head + i) & (old.length - 1)];
    this.#ring = ring;
    this.#head = 0;
    return ring;
  }

  /** Drops every buffered message. */
  clear(): void {
    this.#ring = new Array<Message | undefined>(INITIAL_SLOTS).fill(undefined);
    this.#head = 0;
    this.#count = 0;
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
