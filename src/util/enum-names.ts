/**
 * Numeric enums shown by name. uamqp's enums (Python `Enum`s) print as `MessageState.SendComplete`;
 * ours are numbers, kept numerically identical so code that compares them keeps working, and are
 * named wherever the library shows them: log lines, error messages and `util.inspect` of the objects
 * that hold them.
 */
import { inspect, type InspectOptionsStylized } from "node:util";

/** The key of `value` in the enum object `e` (the first one, for aliases), or undefined. */
export function enumKey(e: Readonly<Record<string, unknown>>, value: unknown): string | undefined {
  for (const key of Object.keys(e)) if (e[key] === value) return key;
  return undefined;
}

/** `value` as `Enum.Key` (e.g. `MessageSendResult.Ok`), or the bare value when it has no name. */
export function enumText(enumName: string, e: Readonly<Record<string, unknown>>, value: unknown): string {
  const key = enumKey(e, value);
  return key === undefined ? String(value) : `${enumName}.${key}`;
}

/**
 * A stand-in for `value` in the fields given to `util.inspect`: shown as `Enum.Key`, unquoted (as
 * an identifier); the bare value when it has no name.
 */
export function inspectEnum(enumName: string, e: Readonly<Record<string, unknown>>, value: unknown): unknown {
  const key = enumKey(e, value);
  if (key === undefined) return value;
  return {
    [inspect.custom]: (_depth: number, options: InspectOptionsStylized): string =>
      options.stylize(`${enumName}.${key}`, "special"),
  };
}

/**
 * The body of an `[inspect.custom]` method: `Name { …fields }`, nested one level deeper, and
 * `[Name]` once the depth is used up.
 */
export function inspectFields(
  name: string,
  fields: Readonly<Record<string, unknown>>,
  depth: number,
  options: InspectOptionsStylized,
  show: typeof inspect,
): string {
  if (depth < 0) return options.stylize(`[${name}]`, "special");
  const inner = {
    ...options,
    depth: options.depth === null || options.depth === undefined ? options.depth : options.depth - 1,
  };
  return `${name} ${show(fields, inner)}`;
}
