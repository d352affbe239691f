/**
 * The idle time-outs of a connection, both ways (spec 2.4.5): our own `idle-time-out` closes the
 * connection when the peer stays silent for longer, and the peer's makes us send empty frames
 * (heartbeats) often enough that it never expires. One unref'd interval serves both.
 */
import { writeEmptyFrame } from "../frames/frame-writer.js";
import type { FrameOutput } from "./frame-output.js";
import type { ConnectionOptions } from "./options.js";
import { traceLine } from "./trace.js";

/** What the idle timers need from their connection. */
export interface IdleTimeoutHost {
  /** `idleTimeoutMs`, `remoteIdleTimeoutEmptyFrameSendRatio` and `trace` are read from here. */
  readonly options: Readonly<ConnectionOptions>;
  /** Where heartbeats are written. */
  readonly output: FrameOutput;
  /** True once the connection is closed: the timer is not armed any more. */
  isClosed(): boolean;
  /** True while the AMQP layer is up: only then do heartbeats go out. */
  isAmqpLayer(): boolean;
  /** Closes the connection because our idle time-out expired. */
  closeWithError(condition: string, description: string): void;
}

/**
 * Watches one connection's traffic: `received()` on every inbound chunk, `arm()` once the AMQP
 * layer starts, `remoteIdleTimeout()` when the peer's OPEN arrives, `stop()` at teardown.
 *
 * @example
 * ```ts
 * const idle = new IdleTimeout(host);
 * idle.remoteIdleTimeout(open.idleTimeOut ?? 0); // heartbeats at half the peer's idle-time-out
 * idle.stop();
 * ```
 */
export class IdleTimeout {
  readonly #host: IdleTimeoutHost;
  #timer: NodeJS.Timeout | undefined;
  #tickMs = 0;
  #lastReceivedMs = Date.now();
  #heartbeatMs = 0;

  constructor(host: IdleTimeoutHost) {
    this.#host = host;
  }

  /** Something arrived from the peer. */
  received(): void {
    this.#lastReceivedMs = Date.now();
  }

  /**
   * The peer's OPEN announced its idle-time-out (0 = none): heartbeats then go out at that time
   * × `remoteIdleTimeoutEmptyFrameSendRatio` (at least every 10 ms), and the timer is armed.
   */
  remoteIdleTimeout(remoteIdleMs: number): void {
    if (remoteIdleMs > 0) {
      const ratio = this.#host.options.remoteIdleTimeoutEmptyFrameSendRatio ?? 0.5;
      this.#heartbeatMs = Math.max(10, Math.floor(remoteIdleMs * ratio));
      this.arm();
    }
  }

  /** Starts the timer if either time-out applies (idempotent; never after the connection closed). */
  arm(): void {
    if (this.#host.isClosed()) return;
    const localIdle = this.#host.options.idleTimeoutMs ?? 0;
    const heartbeat = this.#heartbeatMs;
    if (localIdle <= 0 && heartbeat <= 0) return;
    const tick = Math.max(
      5,
      Math.min(localIdle > 0 ? localIdle / 4 : Infinity, heartbeat > 0 ? heartbeat / 2 : Infinity),
    );
    // Already running at this pace; else (e.g. the peer's OPEN asked for heartbeats) re-arm.
    if (this.#timer && tick === this.#tickMs) return;
    if (this.#timer) clearInterval(this.#timer);
    this.#tickMs = tick;
    this.#timer = setInterval(() => {
      this.#onTimer();
    }, tick);
    this.#timer.unref();
  }

  /** Stops the timer for good (the connection is gone). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #onTimer(): void {
    const host = this.#host;
    const now = Date.now();
    const localIdle = host.options.idleTimeoutMs ?? 0;
    if (localIdle > 0 && now - this.#lastReceivedMs > localIdle) {
      host.closeWithError(
        "amqp:resource-limit-exceeded",
        `local-idle-timeout expired: nothing received for ${localIdle} ms`,
      );
      return;
    }
    if (this.#heartbeatMs > 0 && host.isAmqpLayer() && now - host.output.lastWriteMs >= this.#heartbeatMs) {
      writeEmptyFrame(host.output.writer);
      if (host.options.trace) host.options.trace(traceLine("->", undefined, 0, undefined, 0));
      host.output.flush();
    }
  }
}
