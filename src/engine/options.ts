/**
 * Connection options of the engine, with their defaults.
 */
import type { AMQPValue } from "../codec/values.js";
import type { SaslMechanismChoice } from "../sasl/mechanisms.js";
import type { SaslServerOptions } from "../sasl/sasl-server.js";
import type { TraceSink } from "./trace.js";

export interface ConnectionOptions {
  /** Connecting side ("client") or accepting side ("server"). @defaultValue "client" */
  role?: "client" | "server";
  /** @defaultValue a random uuid */
  containerId?: string;
  /** The OPEN hostname (virtual host) and SASL hostname. */
  hostname?: string;
  /** Largest frame we accept. @defaultValue 65536 */
  maxFrameSize?: number;
  /** @defaultValue 65535 */
  channelMax?: number;
  /**
   * Our idle time-out: if the peer sends nothing for this long, the connection is closed with
   * `amqp:resource-limit-exceeded`; OPEN announces half of it (AMQP 1.0 section 2.4.5). 0 = none.
   * @defaultValue 0
   */
  idleTimeoutMs?: number;
  /** Heartbeats go out at the peer's idle-time-out × this ratio. @defaultValue 0.5 */
  remoteIdleTimeoutEmptyFrameSendRatio?: number;
  properties?: Record<string, AMQPValue>;
  offeredCapabilities?: string[];
  desiredCapabilities?: string[];
  /**
   * Connecting side: the SASL mechanism, or several in order of preference (the first one the
   * server offers is used); undefined = no SASL layer.
   */
  sasl?: SaslMechanismChoice | undefined;
  /** Accepting side: SASL policy; undefined = no SASL layer required. */
  saslServer?: SaslServerOptions | undefined;
  /** How long `close()` waits for the peer's CLOSE. @defaultValue 5000 */
  closeTimeoutMs?: number;
  /**
   * Handling the peer's frames yields to the event loop after this much work (ms, and at least 64
   * frames): the rest of what arrived waits for the next turn (the transport is paused meanwhile),
   * so that one peer cannot starve the other connections of the process. @defaultValue 1
   */
  inputSliceMs?: number;
  /** Network trace: one line per frame. */
  trace?: TraceSink | undefined;
}

export const DEFAULT_MAX_FRAME_SIZE = 65536;
export const DEFAULT_CHANNEL_MAX = 65535;
export const DEFAULT_CLOSE_TIMEOUT_MS = 5000;
export const DEFAULT_INPUT_SLICE_MS = 1;
