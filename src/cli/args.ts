/**
 * The command-line model shared by the `uamqp` sub-commands: each command declares its flags once
 * ({@link CommandSpec}); parsing, validation and the `--help` text are all derived from that table.
 */
import { parseArgs } from "node:util";
import { nearestName } from "../util/options.js";

/**
 * A bad command line or configuration: printed as one line (with the command's usage when
 * `showUsage`), exit code 2.
 */
export class UsageError extends Error {
  /** Print the command's usage after the reason (false for configuration-file errors). */
  readonly showUsage: boolean;

  constructor(message: string, options: { showUsage?: boolean } = {}) {
    super(message);
    this.name = "UsageError";
    this.showUsage = options.showUsage ?? true;
  }
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

/** One flag of a command. */
export interface FlagSpec {
  /** The long name without dashes, e.g. `max-connections`. */
  readonly name: string;
  /** A flag with a value (`--port 5672`) or a switch (`--settled`). */
  readonly type: "string" | "boolean";
  /** The value's placeholder in the help, e.g. `N`, `MS`, `FILE`. */
  readonly value?: string;
  /** May be given more than once; every value is kept. */
  readonly multiple?: boolean;
  /** One line: what it does, its unit and its default. */
  readonly help: string;
  /** Heading the flag is listed under in the help. */
  readonly group?: string | undefined;
}

/** A sub-command: its flags and the text of its `--help`. */
export interface CommandSpec {
  readonly name: string;
  /** Positional arguments in the usage line, e.g. `<url>`. */
  readonly positionals?: string;
  /** One line for `uamqp --help`. */
  readonly summary: string;
  /** Paragraphs printed after the usage line. */
  readonly description: readonly string[];
  readonly flags: readonly FlagSpec[];
  readonly examples: readonly string[];
}

/** The flags every command has. */
export const HELP_FLAG: FlagSpec = { name: "help", type: "boolean", help: "print this help and exit 0" };

/** What {@link parseCommand} read. */
export interface ParsedCommand {
  /** Flag values by long name: a string, a string list (`multiple`), or true. */
  readonly values: Readonly<Record<string, string | readonly string[] | true | undefined>>;
  readonly positionals: readonly string[];
  /** `--help` or `-h` was given. */
  readonly help: boolean;
}

/**
 * Parses `args` against the command's flags. `-h` is `--help`.
 * @throws {UsageError} an unknown flag (naming the nearest known one), a value missing or given
 *   to a switch, or more positional arguments than the command takes.
 */
export function parseCommand(spec: CommandSpec, args: readonly string[]): ParsedCommand {
  const flags = [...spec.flags, HELP_FLAG];
  const byName = new Map(flags.map((f) => [f.name, f]));
  // Non-strict parsing with tokens: the checks below word the errors themselves, and name the flag
  // meant when one is misspelt.
  const { tokens } = parseArgs({
    args: [...args],
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: Object.fromEntries(
      flags.map((f) => [f.name, { type: f.type, ...(f.name === "help" ? { short: "h" } : {}) }]),
    ),
  });
  const values: Record<string, string | string[] | true> = {};
  const positionals: string[] = [];
  let help = false;
  for (const t of tokens) {
    if (t.kind === "positional") {
      positionals.push(t.value);
      continue;
    }
    if (t.kind === "option-terminator") continue;
    const flag = byName.get(t.name);
    if (flag === undefined) {
      const near = nearest(t.name, [...byName.keys()]);
      throw new UsageError(`unknown option '${t.rawName}'${near ? ` (did you mean --${near}?)` : ""}`);
    }
    if (flag.name === "help") {
      help = true;
      continue;
    }
    if (flag.type === "boolean") {
      if (t.value !== undefined) throw new UsageError(`--${flag.name} takes no value`);
      values[flag.name] = true;
      continue;
    }
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith("--"))) {
      throw new UsageError(`--${flag.name} needs a value (${flag.value ?? "VALUE"})`);
    }
    if (flag.multiple === true) {
      const list = values[flag.name];
      values[flag.name] = [...(Array.isArray(list) ? list : []), t.value];
    } else {
      values[flag.name] = t.value;
    }
  }
  const allowed = spec.positionals === undefined ? 0 : spec.positionals.split(" ").length;
  if (!help && positionals.length > allowed) {
    throw new UsageError(`unexpected argument '${positionals[allowed]!}'`);
  }
  return { values, positionals, help };
}

/** A string flag's value (the last one if given more than once). */
export function stringFlag(parsed: ParsedCommand, name: string): string | undefined {
  const v = parsed.values[name];
  if (v === undefined) return undefined;
  if (v === true) return undefined;
  return typeof v === "string" ? v : v[v.length - 1];
}

/** Every value of a repeatable flag. */
export function listFlag(parsed: ParsedCommand, name: string): readonly string[] {
  const v = parsed.values[name];
  if (v === undefined || v === true) return [];
  return typeof v === "string" ? [v] : v;
}

/** Whether a switch was given. */
export function booleanFlag(parsed: ParsedCommand, name: string): boolean {
  return parsed.values[name] === true;
}

/**
 * An integer from the command line or a configuration file, within `[min, max]`.
 * @param label - how the value is named in the error, e.g. `--port` or `limits.maxConnections`
 * @throws {UsageError} when it is not an integer in range.
 */
export function integerValue(
  value: string | number,
  label: string,
  range: { readonly min: number; readonly max?: number },
  showUsage = true,
): number {
  const n = typeof value === "number" ? value : value.trim() === "" ? NaN : Number(value);
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(n) || n < range.min || n > max) {
    const what =
      range.min === 1 && range.max === undefined
        ? "a positive integer"
        : range.min === 0 && range.max === undefined
          ? "an integer of 0 or more"
          : `an integer from ${range.min} to ${max}`;
    throw new UsageError(`${label} must be ${what} (got ${JSON.stringify(value)})`, { showUsage });
  }
  return n;
}

/** Parses a positive integer flag, with a default. */
export function positiveInt(v: string | undefined, dflt: number, name: string): number {
  return v === undefined ? dflt : integerValue(v, name, { min: 1 });
}

/** The candidate closest to `word` when it is close enough to be a likely typo; else undefined. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  return nearestName(word, candidates, Math.max(2, Math.floor(word.length / 3)));
}
