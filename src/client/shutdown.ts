/**
 * The client's word for what it closed itself: the engine's local-close errors (`isLocalClose`)
 * become {@link AMQPClientShutdown}, as in uamqp (docs/architecture.md, "Local closes").
 * @internal
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { AMQPClientShutdown } from "../errors/exceptions.js";
import { isLocalClose } from "../engine/remote-errors.js";

/** One client error per engine error, so that a sticky `error` reads the same object every time. */
const translated = new WeakMap<AMQPError, AMQPClientShutdown>();

/**
 * `error`, or the {@link AMQPClientShutdown} it means when the engine raised it for a local close
 * (its `cause` is the engine's error).
 * @internal
 */
export function clientError<E>(error: E): E | AMQPClientShutdown {
  if (!isLocalClose(error)) return error;
  const e = error as AMQPError;
  let shutdown = translated.get(e);
  if (shutdown === undefined) {
    shutdown = new AMQPClientShutdown(e.message, { retryable: false, cause: e });
    translated.set(e, shutdown);
  }
  return shutdown;
}

/** `promise`, its rejection passed through {@link clientError}. @internal */
export async function inClientTerms<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (e) {
    throw clientError(e);
  }
}
