/**
 * The idle time-outs of a connection, both ways (AMQP 1.0 §2.4.5): our own `idle-time-out` closes
 * the connection when the peer stays silent for longer, and the peer's makes us send empty frames
 * (heartbeats) often enough that it never expires. It owns only its timers: the connection tells it
 * what arrived and when to start and stop, and hears back through `expired`. Both timers are
 * unref'd: they never keep the process alive.
 */
import { writeEmptyFrame } from "../frames/frame-writer.js";
import type { FrameOutput } from "./frame-output.js";
import type { ConnectionOptions } from "./options.js";
import { traceLine } from "./trace.js";

/**
 * Watches one connection's traffic: `received()` on every inbound chunk, `arm()` when the
 * connection starts and again when its AMQP layer is up, `remoteIdleTimeout()` when the peer's OPEN
 * arrives (heartbeats are written only from then on), `stop()` at teardown (for good).
 *
 * @example
 * ```ts
 * const idle = new IdleTimeout(options, output, (why) => connection.closeWithError("amqp:resource-limit-exceeded", why));
 * idle.remoteIdleTimeout(open.idleTimeOut ?? 0); // heartbeats at half the peer's idle-time-out
 * idle.stop();
 * ```
 */
export class IdleTimeout {
  /** `idleTimeoutMs`, `remoteIdleTimeoutEmptyFrameSendRatio` and `trace` are read from here. */
  readonly #options: Readonly<ConnectionOptions>;
  /** Where heartbeats are written. */
  readonly #output: FrameOutput;
  /** Our idle time-out expired: the connection closes with this description. */
  readonly #expired: (description: string) => void;
  #stopped = false;
  /** Checks our own idle time-out, at a quarter of it. */
  #idleTimer: NodeJS.Timeout | undefined;
  /** Fires when a heartbeat is due (one-shot, re-armed from the last write). */
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #lastReceivedMs = Date.now();
  #heartbeatMs = 0;

  constructor(
    options: Readonly<ConnectionOptions>,
    output: FrameOutput,
    expired: (description: string) => void,
  ) {
    this.#options = options;
    this.#output = output;
    this.#expired = expired;
  }

  /** Something arrived from the peer. */
  received(): void {
    this.#lastReceivedMs = Date.now();
  }

  /**
   * The peer's OPEN announced its idle-time-out (0 = none): we then never stay silent for longer
   * than that time × `remoteIdleTimeoutEmptyFrameSendRatio` (at least 10 ms): an empty frame goes
   * out when nothing else was written for that long.
   */
  remoteIdleTimeout(remoteIdleMs: number): void {
    if (remoteIdleMs > 0 && !this.#stopped) {
      const ratio = this.#options.remoteIdleTimeoutEmptyFrameSendRatio ?? 0.5;
      this.#heartbeatMs = Math.max(10, Math.floor(remoteIdleMs * ratio));
      this.#armHeartbeat(this.#heartbeatMs);
    }
  }

  /** Starts watching our own idle time-out, if any (idempotent; never after `stop()`). */
  arm(): void {
    if (this.#stopped || this.#idleTimer) return;
    const localIdle = this.#options.idleTimeoutMs ?? 0;
    if (localIdle <= 0) return;
    this.#idleTimer = setInterval(
      () => {
        this.#checkIdle(localIdle);
      },
      Math.max(5, localIdle / 4),
    );
    this.#idleTimer.unref();
  }

  /** Stops the timers for good (the connection is gone). */
  stop(): void {
    this.#stopped = true;
    if (this.#idleTimer) clearInterval(this.#idleTimer);
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#idleTimer = undefined;
    this.#heartbeatTimer = undefined;
  }

  #checkIdle(localIdle: number): void {
    if (Date.now() - this.#lastReceivedMs > localIdle) {
      this.#expired(`local-idle-timeout expired: nothing received for ${localIdle} ms`);
    }
  }

  #armHeartbeat(delayMs: number): void {
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatDue();
    }, delayMs);
    this.#heartbeatTimer.unref();
  }

  #heartbeatDue(): void {
    this.#heartbeatTimer = undefined;
    if (this.#stopped) return;
    const output = this.#output;
    const silentMs = Date.now() - output.lastWriteMs;
    if (silentMs < this.#heartbeatMs) {
      // Something was written meanwhile: the next heartbeat is due that much later.
      this.#armHeartbeat(this.#heartbeatMs - silentMs);
      return;
    }
    writeEmptyFrame(output.writer);
    const trace = this.#options.trace;
    if (trace) trace(traceLine("->", undefined, 0, undefined, 0));
    output.flush();
    this.#armHeartbeat(this.#heartbeatMs);
  }
}
