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

/**
 * What {@link setLogger} accepts: any of the four levels (missing ones are silent), and `warning` as
 * uamqp's (Python logging's) name of `warn`, so `console`, a pino/winston logger or a uamqp-style logger all fit.
 */
export type AMQPLoggerLike = Partial<AMQPLogger> & {
  /** Python logging's (and uamqp's) name of `warn`; used when `warn` is missing. */
  warning?(message: string, ...args: unknown[]): void;
};

const silent: AMQPLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

let current: AMQPLogger = silent;

type Level = (message: string, ...args: unknown[]) => void;

/** The first of `names` the logger has, called on it; a throw never breaks the library's own work. */
function level(owner: AMQPLoggerLike, ...names: (keyof AMQPLoggerLike)[]): Level {
  const name = names.find((n) => typeof owner[n] === "function");
  if (name === undefined) return () => undefined;
  return (message, ...args) => {
    try {
      owner[name]?.(message, ...args);
    } catch {
      // A failing logger loses the line, not the connection.
    }
  };
}

/**
 * Sets the logger used by every connection created afterwards (default: silent). Levels the logger
 * lacks stay silent; `warning()` stands in for a missing `warn()`; a logger that throws loses its
 * line and nothing else.
 * @example
 * ```ts
 * setLogger(console); // network traces of clients created with `debug: true` appear on the console
 * ```
 */
export function setLogger(logger: AMQPLoggerLike | undefined): void {
  current =
    logger === undefined
      ? silent
      : {
          debug: level(logger, "debug"),
          info: level(logger, "info"),
          warn: level(logger, "warn", "warning"),
          error: level(logger, "error"),
        };
}

/** The current logger. */
export function getLogger(): AMQPLogger {
  return current;
}
