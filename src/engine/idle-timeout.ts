/**
 * The idle time-outs of a connection, both ways (spec 2.4.5): our own `idle-time-out` closes the
 * connection when the peer stays silent for longer, and the peer's makes us send empty frames
 * (heartbeats) often enough that it never expires. Both timers are unref'd: they never keep the
 * process alive.
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
  /** Checks our own idle time-out, at a quarter of it. */
  #idleTimer: NodeJS.Timeout | undefined;
  /** Fires when a heartbeat is due (one-shot, re-armed from the last write). */
  #heartbeatTimer: NodeJS.Timeout | undefined;
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
   * The peer's OPEN announced its idle-time-out (0 = none): we then never stay silent for longer
   * than that time × `remoteIdleTimeoutEmptyFrameSendRatio` (at least 10 ms): an empty frame goes
   * out when nothing else was written for that long.
   */
  remoteIdleTimeout(remoteIdleMs: number): void {
    if (remoteIdleMs > 0 && !this.#host.isClosed()) {
      const ratio = this.#host.options.remoteIdleTimeoutEmptyFrameSendRatio ?? 0.5;
      this.#heartbeatMs = Math.max(10, Math.floor(remoteIdleMs * ratio));
      this.#armHeartbeat(this.#heartbeatMs);
    }
  }

  /** Starts watching our own idle time-out, if any (idempotent; never after the connection closed). */
  arm(): void {
    if (this.#host.isClosed() || this.#idleTimer) return;
    const localIdle = this.#host.options.idleTimeoutMs ?? 0;
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
    if (this.#idleTimer) clearInterval(this.#idleTimer);
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#idleTimer = undefined;
    this.#heartbeatTimer = undefined;
  }

  #checkIdle(localIdle: number): void {
    if (Date.now() - this.#lastReceivedMs > localIdle) {
      this.#host.closeWithError(
        "amqp:resource-limit-exceeded",
        `local-idle-timeout expired: nothing received for ${localIdle} ms`,
      );
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
    const host = this.#host;
    this.#heartbeatTimer = undefined;
    if (host.isClosed()) return;
    const silentMs = Date.now() - host.output.lastWriteMs;
    if (silentMs < this.#heartbeatMs && host.isAmqpLayer()) {
      // Something was written meanwhile: the next heartbeat is due that much later.
      this.#armHeartbeat(this.#heartbeatMs - silentMs);
      return;
    }
    if (host.isAmqpLayer()) {
      writeEmptyFrame(host.output.writer);
      if (host.options.trace) host.options.trace(traceLine("->", undefined, 0, undefined, 0));
      host.output.flush();
    }
    this.#armHeartbeat(this.#heartbeatMs);
  }
}
