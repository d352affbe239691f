/** Argument helpers and the output streams shared by the `uamqp` sub-commands. */

/** A bad command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/** Parses a positive integer option, with a default. */
export function positiveInt(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer`);
  return n;
}

/** Where a command writes text: the process's stdout or stderr, or any writable stream. */
export interface CliOutput {
  write(text: string): unknown;
  /** A terminal: progress is redrawn in place rather than printed line by line. */
  readonly isTTY?: boolean | undefined;
}

/**
 * The command's streams, and how a long-running command (`broker`) is told to stop. `bin.ts` passes
 * the process's own; a program or a test that runs `main` in-process passes its own.
 */
export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Stops a long-running command as SIGINT and SIGTERM do. */
  readonly signal?: AbortSignal | undefined;
}
