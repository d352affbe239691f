/** Argument helpers shared by the `uamqp` sub-commands. */

/** A bad command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/** Parses a positive integer option, with a default. */
export function positiveInt(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer`);
  return n;
}
