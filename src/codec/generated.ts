/**
 * Functions built from source generated out of our own composite tables (see composite-reader.ts
 * for why): one helper for the generation and its fallback, used by the field readers, the
 * mandatory-field check and the field writers. Only field names of our tables, quoted with
 * `JSON.stringify`, and numbers go into the source; no input does.
 */

/** `name` made usable in a generated function's name. */
export function identifier(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}

/**
 * Runs `lines` (a body that returns the function) with `args` bound to `params`, or, where code
 * generation from strings is disallowed (`--disallow-code-generation-from-strings`, a CSP),
 * returns `fallback()`: the same function as a generic loop.
 */
export function generated<T>(
  lines: readonly string[],
  params: readonly string[],
  args: readonly unknown[],
  fallback: () => T,
): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from our own composite tables only (see above)
    const factory = new Function(...params, lines.join("\n")) as (...a: unknown[]) => T;
    return factory(...args);
  } catch {
    return fallback();
  }
}
