/**
 * What `uamqp send` and `uamqp receive` print besides messages: the `--debug` frame trace on stderr,
 * and one line for each way a command can fail. Neither ever shows the URL's password.
 */
import { AMQPError } from "../errors/amqp-error.js";
import { getLogger, setLogger } from "../util/log.js";
import type { CliOutput } from "./args.js";

/** Replaces every occurrence of the secrets (as typed and percent-encoded) with `***`. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const forms = [...new Set(secrets.flatMap((s) => [s, encodeURIComponent(s)]))]
    .filter((s) => s !== "")
    .sort((a, b) => b.length - a.length);
  return (text) => forms.reduce((t, s) => t.split(s).join("***"), text);
}

/**
 * Sends the library's log (the `uamqp:frames` trace of connections created with `debug: true`, and
 * the lifecycle lines from `info` up) to `out`, one line each, secrets redacted, until the returned function
 * restores the logger that was set before (the logger is process-wide).
 */
export function traceTo(out: CliOutput, redact: (text: string) => string): () => void {
  const previous = getLogger();
  const line = (message: string, ...args: unknown[]): void => {
    const extra = args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
    out.write(`${redact(extra === "" ? message : `${message} ${extra}`)}\n`);
  };
  // Frames (info) and what happened to the connection and link; debug lines (closes) add nothing here.
  setLogger({ info: line, warn: line, error: line });
  return () => setLogger(previous);
}

/** What a failure line says about the command that failed. */
export interface FailureContext {
  /** The target URL, password masked. */
  readonly url: string;
  /** The bound on connecting and attaching, in milliseconds. */
  readonly openTimeoutMs: number;
  /** Whether `--ca` was given (else a certificate failure suggests it). */
  readonly caGiven: boolean;
}

/**
 * One line (without the `uamqp: ` prefix) saying why a send or receive failed: the library's
 * reason, what it means for the command where that is not obvious, the AMQP condition when the peer
 * sent one, and the error code.
 */
export function failureLine(e: unknown, ctx: FailureContext): string {
  if (!(e instanceof AMQPError)) return e instanceof Error ? e.message : String(e);
  const codes = [
    ...(e.condition !== undefined && !e.message.includes(e.condition) ? [e.condition] : []),
    e.code,
  ].join(", ");
  const reason = `${e.message} (${codes})`;
  switch (e.code) {
    case "AMQP_AUTHENTICATION":
      // The login's own message says what failed; its condition adds nothing.
      return `${e.message} (${e.code})`;
    case "AMQP_TIMEOUT":
    case "AMQP_CONNECT_TIMEOUT":
      return `no answer from ${ctx.url} within ${ctx.openTimeoutMs} ms: ${reason}`;
    case "AMQP_TLS":
      return ctx.caGiven ? reason : `${reason}; trust the broker's CA with --ca FILE`;
    default:
  }
  switch (e.condition) {
    case "amqp:not-found":
      return `unknown address ${ctx.url}: ${reason}`;
    case "amqp:unauthorized-access":
      return `not authorized for ${ctx.url}: ${reason}`;
    default:
      return reason;
  }
}
