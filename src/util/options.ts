/**
 * Option objects passed from JavaScript: each options type has one table of its known names
 * ({@link OptionNames}), and {@link checkOptions} turns a name that is not in it (a misspelling, an
 * option that was renamed) into a `TypeError` naming it and the nearest known name, instead of
 * ignoring it. {@link nearestName} is also what the CLI suggests for a mistyped flag.
 */

/** The names of the options of `T`: one entry per option, checked against `T` by the compiler. */
export type OptionNames<T> = { readonly [K in keyof T]-?: true };

/** Edit distance of `a` and `b` (insertions, deletions and substitutions cost 1), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[t.length]!;
}

/**
 * The name of `known` closest to `word` ({@link editDistance}; the first of equally close ones), or
 * undefined when `known` is empty or none is within `within` edits.
 */
export function nearestName(word: string, known: readonly string[], within = Infinity): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = editDistance(word, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return bestDistance <= within ? best : undefined;
}

/**
 * The error of an `options` (from TypeScript or JavaScript) that has an option not named in
 * `names`, or is not an object: a `TypeError` naming the first unknown option and the nearest known
 * name. Undefined when the options are fine.
 *
 * @param owner - how the error names the call, e.g. `"SendClient"`, `"Connection.open()"`
 * @param renamed - options that were renamed, by their old name: the error names the option that
 *   replaced one (when `names` has it) rather than the nearest by spelling
 * @internal
 */
export function optionsError<T>(
  options: T | undefined,
  names: OptionNames<T>,
  owner: string,
  renamed: Readonly<Record<string, string>> = {},
): TypeError | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    return new TypeError(
      `${owner}: options must be an object, got ${options === null ? "null" : typeof options}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(names, key)) continue;
    const replacement = Object.hasOwn(renamed, key) ? renamed[key] : undefined;
    const near =
      replacement !== undefined && Object.hasOwn(names, replacement)
        ? replacement
        : nearestName(key, Object.keys(names));
    const hint = near === undefined ? "" : `; did you mean "${near}"?`;
    return new TypeError(`unknown option "${key}" of ${owner}${hint}`);
  }
  return undefined;
}

/**
 * Checks `options` (see {@link optionsError}).
 * @throws {TypeError} naming the first unknown option and the nearest known name.
 * @internal
 */
export function checkOptions<T>(
  options: T | undefined,
  names: OptionNames<T>,
  owner: string,
  renamed?: Readonly<Record<string, string>>,
): void {
  const error = optionsError(options, names, owner, renamed);
  if (error) throw error;
}

/** @internal `o` without its undefined properties (for `exactOptionalPropertyTypes` option objects). */
export function compact<T extends object>(o: { [K in keyof T]?: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/**
 * `v` when it is a finite number in [`min`, `max`] (an option in milliseconds, a ratio…).
 * @throws {RangeError} naming `name`, the range and the value.
 * @internal
 */
export function checkFinite(name: string, v: number, min: number, max = Infinity): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new RangeError(`${name} must be a finite number ${range}, got ${String(v)}`);
  }
  return v;
}

/**
 * `v` when it is an integer >= `min`, or `Infinity` where that means "no bound" (`orInfinity`).
 * @throws {RangeError} naming `name`, the bound and the value.
 * @internal
 */
export function checkInteger(name: string, v: number, min: number, orInfinity = false): number {
  if (!(Number.isSafeInteger(v) || (orInfinity && v === Infinity)) || v < min) {
    throw new RangeError(
      `${name} must be an integer >= ${min}${orInfinity ? " or Infinity" : ""}, got ${String(v)}`,
    );
  }
  return v;
}
