/**
 * The library's logger: silent by default; set one with `setLogger()`. Network traces (uamqp's
 * `debug=True`) go to `logger.info` with the prefix `amqp:frames`.
 */

/** What the library logs through (a subset of `console`). */
export interface AMQPLogger {
  /** Debug-level messages. */
  debug(message: string, ...args: unknown[]): void;
  /** Info-level messages: the network trace (`amqp:frames …` lines of connections with `debug: true`). */
  info(message: string, ...args: unknown[]): void;
  /** Warning-level messages. */
  warn(message: string, ...args: unknown[]): void;
  /** Error-level messages. */
  error(message: string, ...args: unknown[]): void;
}

const silent: AMQPLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

let current: AMQPLogger = silent;

/**
 * Sets the logger used by every connection created afterwards (default: silent).
 * @example
 * ```ts
 * setLogger(console); // network traces of clients created with `debug: true` appear on the console
 * ```
 */
export function setLogger(logger: AMQPLogger | undefined): void {
  current = logger ?? silent;
}

/** The current logger. */
export function getLogger(): AMQPLogger {
  return current;
}
