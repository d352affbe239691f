/**
 * The option names of the spec's TypeScript shape, accepted beside uamqp's: `timeoutMs` for
 * `timeout`, `msgTimeoutMs` for `msgTimeout`, `inactivityTimeoutMs` for a `ReceiveClient`'s
 * `timeout`, `networkTrace` for `debug`, `idleTimeoutMs`, `keepAliveIntervalMs` and
 * `connectionProperties`. Both names of a pair mean the same thing, in milliseconds; giving both with
 * different values is a `RangeError`, so a typo in one of them never goes unnoticed.
 */
import type { AMQPClientOptions } from "./client-options.js";

/**
 * The value of option `name`, or of its other name `alias`.
 *
 * @throws {RangeError} when both are given with different values.
 * @internal
 */
export function aliased<O extends object, K extends keyof O>(
  o: O,
  name: K,
  alias: keyof O,
): O[K] | undefined {
  const a = o[name];
  const b = o[alias] as O[K] | undefined;
  if (a !== undefined && b !== undefined && a !== b) {
    throw new RangeError(
      `'${String(name)}' and '${String(alias)}' are the same option: give one of them ` +
        `(got ${String(a)} and ${String(b)})`,
    );
  }
  return a ?? b;
}

/**
 * `options` with the spec's names of {@link AMQPClientOptions} folded into uamqp's.
 *
 * @throws {RangeError} when both names of an option are given with different values.
 * @internal
 */
export function withClientAliases<O extends AMQPClientOptions>(options: O): O {
  const debug = aliased(options, "debug", "networkTrace");
  const idleTimeout = aliased(options, "idleTimeout", "idleTimeoutMs");
  const keepAliveInterval = aliased(options, "keepAliveInterval", "keepAliveIntervalMs");
  const properties = aliased(options, "properties", "connectionProperties");
  const openTimeout = aliased(options, "openTimeout", "openTimeoutMs");
  return { ...options, debug, idleTimeout, keepAliveInterval, properties, openTimeout };
}
