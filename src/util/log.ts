/**
 * The library's log: lines in namespaces per layer (`uamqp:frames`, `uamqp:connection`,
 * `uamqp:link`, `uamqp:client`, `uamqp:broker`, `uamqp:broker:frames`), each line
 * `<ISO time> <namespace> <text>`. They go to the logger set with `setLogger()` (at their level),
 * or, when none is set, to stderr for the namespaces the environment switches on: `DEBUG`
 * (patterns as the `debug` package reads them) and `UAMQP_LOG_LEVEL` (a level for every
 * namespace but the frame traces). See docs/debugging.md.
 *
 * The logger is resolved when a line is written, not when a connection is created, so `setLogger()`
 * applies to every line written afterwards. Nothing here runs on a hot path while logging is off:
 * frame traces are built only for connections that trace (`debug: true`, or `DEBUG` naming the
 * frames namespace), and the other lines are rare (lifecycle events).
 */

/** What the library logs through (a subset of `console`). */
export interface AMQPLogger {
  /** Debug-level messages. */
  debug(message: string, ...args: unknown[]): void;
  /** Info-level messages, among them the frame traces (`uamqp:frames` lines). */
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

/** The levels of lines, most severe first (the values `UAMQP_LOG_LEVEL` accepts). */
export type LogLevel = "error" | "warn" | "info" | "debug";

/** The namespaces of the library's lines. */
export type LogNamespace =
  /** Frame traces of client connections (one line per frame, in wire order). */
  | "uamqp:frames"
  /** Client connections: open, close, loss. */
  | "uamqp:connection"
  /** Client links: attach, detach. */
  | "uamqp:link"
  /** High-level clients: recovery (one line per `status()` event). */
  | "uamqp:client"
  /** The embedded broker: connections, links. */
  | "uamqp:broker"
  /** Frame traces of the embedded broker's connections. */
  | "uamqp:broker:frames";

const NAMESPACES: readonly LogNamespace[] = [
  "uamqp:frames",
  "uamqp:connection",
  "uamqp:link",
  "uamqp:client",
  "uamqp:broker",
  "uamqp:broker:frames",
];

/** The namespaces of frame traces: switched on by name only (`DEBUG`, `debug: true`), never by a level. */
type FramesNamespace = "uamqp:frames" | "uamqp:broker:frames";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

// ---- the environment switches ------------------------------------------------------------------------

/** One `DEBUG` pattern as a regular expression: `*` matches anything, the rest literally. */
function patternRegExp(pattern: string): RegExp {
  const body = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*?");
  return new RegExp(`^${body}$`);
}

/**
 * The namespaces a `DEBUG` value switches on: comma- or space-separated patterns, `*` a wildcard,
 * a leading `-` excluding what it matches (exclusions win, as in the `debug` package).
 */
export function namespacesFromDebug(value: string | undefined): Set<LogNamespace> {
  const on = new Set<LogNamespace>();
  if (value === undefined) return on;
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  for (const p of value.split(/[\s,]+/)) {
    if (p === "") continue;
    if (p.startsWith("-")) exclude.push(patternRegExp(p.slice(1)));
    else include.push(patternRegExp(p));
  }
  for (const ns of NAMESPACES) {
    if (include.some((r) => r.test(ns)) && !exclude.some((r) => r.test(ns))) on.add(ns);
  }
  return on;
}

/** The level a `UAMQP_LOG_LEVEL` value names (case-insensitive; `warning` for `warn`), or undefined. */
export function levelFromEnv(value: string | undefined): LogLevel | undefined | "invalid" {
  if (value === undefined || value.trim() === "") return undefined;
  const v = value.trim().toLowerCase();
  if (v === "warning") return "warn";
  return Object.hasOwn(RANK, v) ? (v as LogLevel) : "invalid";
}

/** Namespaces `DEBUG` switched on (read once, when the library loads). */
let envNamespaces: Set<LogNamespace> = new Set();
/** Rank of `UAMQP_LOG_LEVEL` (-1: not set). */
let envRank = -1;

/**
 * Reads the environment switches. Done once when the library loads; exported for tests.
 * @internal
 */
export function readLogEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  envNamespaces = namespacesFromDebug(env["DEBUG"]);
  const level = levelFromEnv(env["UAMQP_LOG_LEVEL"]);
  if (level === "invalid") {
    // An unknown level must not stop the application; say once why it has no effect.
    envRank = -1;
    process.stderr.write(
      `uamqp: UAMQP_LOG_LEVEL=${JSON.stringify(env["UAMQP_LOG_LEVEL"])} is not one of error, warn, info, debug; ignored\n`,
    );
  } else {
    envRank = level === undefined ? -1 : RANK[level];
  }
}

readLogEnvironment();

// ---- the logger ------------------------------------------------------------------------------------

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
 * Sets the logger every line goes to from now on, whatever created the connection or client and
 * when (default: none, and lines go to stderr only where `DEBUG`, `UAMQP_LOG_LEVEL` or `debug: true`
 * asks for them). Levels the logger lacks stay silent; `warning()` stands in for a missing `warn()`;
 * a logger that throws loses its line and nothing else. `setLogger(undefined)` removes it.
 * @example
 * ```ts
 * setLogger(console); // frame traces of connections created with `debug: true` go to console.info
 * ```
 */
export function setLogger(logger: AMQPLoggerLike | undefined): void {
  current =
    logger === undefined || logger === silent
      ? silent
      : {
          debug: level(logger, "debug"),
          info: level(logger, "info"),
          warn: level(logger, "warn", "warning"),
          error: level(logger, "error"),
        };
}

/** The logger set with {@link setLogger} (a silent one when none is set). */
export function getLogger(): AMQPLogger {
  return current;
}

// ---- writing lines -----------------------------------------------------------------------------------

function write(namespace: LogNamespace, lvl: LogLevel, text: string): void {
  const line = `${new Date().toISOString()} ${namespace} ${text}`;
  if (current !== silent) {
    current[lvl](line);
    return;
  }
  try {
    process.stderr.write(`${line}\n`);
  } catch {
    // stderr closed: the line is lost, nothing else.
  }
}

/**
 * Whether a line of `lvl` in `namespace` goes anywhere: always with a logger set (it filters by
 * level itself); else when `DEBUG` names the namespace or `UAMQP_LOG_LEVEL` admits the level.
 * @internal
 */
export function logEnabled(namespace: Exclude<LogNamespace, FramesNamespace>, lvl: LogLevel): boolean {
  return current !== silent || envNamespaces.has(namespace) || RANK[lvl] <= envRank;
}

/**
 * Writes one line of `namespace` at `lvl`, if {@link logEnabled}. Call sites on paths that run per
 * message check `logEnabled` first, so the text is not built for nothing.
 * @internal
 */
export function log(namespace: Exclude<LogNamespace, FramesNamespace>, lvl: LogLevel, text: string): void {
  if (logEnabled(namespace, lvl)) write(namespace, lvl, text);
}

/**
 * Whether the environment asks for the frame traces of `namespace` (`DEBUG` names it), for every
 * connection whatever its `debug` option.
 * @internal
 */
export function framesTraced(namespace: FramesNamespace): boolean {
  return envNamespaces.has(namespace);
}

/** Process-wide sequence of connection ids in log lines. */
let nextConnection = 0;

/**
 * A new connection id for log lines, `conn-1`, `conn-2`… (unique in the process).
 * @internal
 */
export function newConnectionLogId(): string {
  return `conn-${++nextConnection}`;
}

/**
 * The frame trace of one connection: each line `<ISO time> <namespace> <connectionId> <frame>`,
 * at info level to the logger set at the time of the line, else to stderr.
 * @internal
 */
export function frameTrace(namespace: FramesNamespace, connectionId: string): (line: string) => void {
  return (line) => {
    write(namespace, "info", `${connectionId} ${line}`);
  };
}

/**
 * An error in a log line: its message and code (an `AMQPError`'s message holds the AMQP condition).
 * @internal
 */
export function describeError(error: Error & { readonly code?: unknown }): string {
  return typeof error.code === "string" ? `${error.message} (${error.code})` : error.message;
}
