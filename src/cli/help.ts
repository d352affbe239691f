/** The text of `uamqp --help` and of each command's `--help`, derived from the command tables. */
import { HELP_FLAG, type CommandSpec, type FlagSpec } from "./args.js";

/** `usage: uamqp broker [options]` (the positional arguments included). */
export function usageLine(spec: CommandSpec): string {
  const positionals = spec.positionals === undefined ? "" : ` ${spec.positionals}`;
  return `usage: uamqp ${spec.name}${positionals} [options]`;
}

/** What follows a usage error: the usage line and where the options are explained. */
export function shortUsage(spec: CommandSpec): string {
  return `${usageLine(spec)}\n'uamqp ${spec.name} --help' explains every option.\n`;
}

function flagLabel(f: FlagSpec): string {
  const short = f.name === "help" ? "-h, " : "";
  return `${short}--${f.name}${f.value !== undefined ? ` ${f.value}` : ""}`;
}

/** Help text is wrapped to this many columns. */
const WIDTH = 100;

/** `text` broken into lines of at most `width` columns (a longer word stays whole). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The full `--help` text of a command: usage, description, flags by group, examples. */
export function commandHelp(spec: CommandSpec): string {
  const flags = [...spec.flags, { ...HELP_FLAG, group: spec.flags.at(-1)?.group }];
  const width = Math.min(32, Math.max(...flags.map((f) => flagLabel(f).length)) + 2);
  const lines = [usageLine(spec), ""];
  for (const paragraph of spec.description) lines.push(...wrap(paragraph, WIDTH), "");
  let group: string | undefined;
  lines.push(spec.flags[0]?.group === undefined ? "options:" : "");
  for (const f of flags) {
    if (f.group !== undefined && f.group !== group) {
      if (group !== undefined) lines.push("");
      group = f.group;
      lines.push(`${group}:`);
    }
    const label = flagLabel(f);
    const help = wrap(`${f.help}${f.multiple === true ? "; repeatable" : ""}`, WIDTH - width - 2);
    const indent = " ".repeat(width + 2);
    if (label.length + 2 > width) lines.push(`  ${label}`);
    else lines.push(`  ${label.padEnd(width)}${help.shift() ?? ""}`);
    for (const more of help) lines.push(`${indent}${more}`);
  }
  lines.push("", spec.examples.length > 1 ? "examples:" : "example:");
  for (const e of spec.examples) lines.push(`  ${e}`);
  return lines.filter((l, i) => !(l === "" && lines[i - 1] === "")).join("\n") + "\n";
}

/** `uamqp --help`: every command with its one-line summary. */
export function globalHelp(specs: readonly CommandSpec[]): string {
  const width = Math.max(...specs.map((s) => s.name.length)) + 2;
  return [
    "usage: uamqp <command> [options]",
    "",
    "commands:",
    ...specs.map((s) => `  ${s.name.padEnd(width)}${s.summary}`),
    "",
    "'uamqp <command> --help' (or 'uamqp help <command>') explains a command's options.",
    "Exit codes: 0 success, 1 the command failed (the reason is printed), 2 bad command line or configuration.",
    "",
  ].join("\n");
}
