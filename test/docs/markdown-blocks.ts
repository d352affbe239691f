/**
 * The TypeScript code blocks of the documentation, as the docs tests check them.
 *
 * A block is a fence opened with ```ts or ```typescript. What the test does with it is said by an
 * HTML comment on the line(s) right before the fence (invisible when the Markdown is rendered):
 *
 * - no comment: the block is type-checked as a module of its own.
 * - `<!-- runnable -->`: type-checked, then run (tsx) from the repository root; it must exit 0
 *   within the time bound. `<!-- runnable output=/regex/ -->` also requires its output to match.
 *   A runnable block starts its own embedded broker (`Broker.start({ port: 0 })`).
 * - `<!-- context ... -->`: the TypeScript between `context` and `-->` is put before the block, so
 *   that an excerpt using a client, a message or a URL declared elsewhere still type-checks, e.g.
 *   `<!-- context declare const client: SendClient; -->`. `context` may follow `runnable`.
 * - `<!-- fragment -->`: not checked (a shape or pseudo-code that is not TypeScript). Keep rare.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export type BlockMode = "check" | "run" | "fragment";

export interface CodeBlock {
  /** Repository-relative path of the Markdown file. */
  readonly file: string;
  /** 1-based line of the first line of code (after the fence). */
  readonly line: number;
  readonly code: string;
  readonly mode: BlockMode;
  /** TypeScript put before the block (from a `context` comment), or "". */
  readonly context: string;
  /** For runnable blocks: a pattern the output must match. */
  readonly output: RegExp | undefined;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)(.*)$/;

/** The Markdown files whose blocks are checked: README.md and docs/*.md (not docs/api/). */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => join(root, "docs", f));
  return [join(root, "README.md"), ...docs];
}

/** The marker comment that ends on the line before `index`, if any. */
function markerBefore(lines: readonly string[], index: number): string | undefined {
  let end = index - 1;
  while (end >= 0 && lines[end]!.trim() === "") end--;
  if (end < 0 || !lines[end]!.trim().endsWith("-->")) return undefined;
  let start = end;
  while (start >= 0 && !lines[start]!.includes("<!--")) start--;
  if (start < 0) return undefined;
  const text = lines.slice(start, end + 1).join("\n");
  const m = /<!--([\s\S]*)-->\s*$/.exec(text.slice(text.indexOf("<!--")));
  return m?.[1]?.trim();
}

/** Parses a marker comment's text into mode, context and expected output. */
export function parseMarker(marker: string | undefined): Pick<CodeBlock, "mode" | "context" | "output"> {
  if (marker === undefined) return { mode: "check", context: "", output: undefined };
  const m = /^(fragment|runnable|context)\b([\s\S]*)$/.exec(marker);
  if (!m) return { mode: "check", context: "", output: undefined };
  if (m[1] === "fragment") return { mode: "fragment", context: "", output: undefined };
  let rest = m[2]!;
  let mode: BlockMode = "check";
  let output: RegExp | undefined;
  if (m[1] === "runnable") {
    mode = "run";
    const out = /^\s*output=\/((?:\\.|[^/\\])+)\/([a-z]*)/.exec(rest);
    if (out) {
      output = new RegExp(out[1]!, out[2]);
      rest = rest.slice(out[0].length);
    }
    const ctx = /^\s*context\b([\s\S]*)$/.exec(rest);
    rest = ctx ? ctx[1]! : rest.trim() === "" ? "" : rest;
    if (!ctx && rest.trim() !== "") throw new Error(`unknown text in a runnable marker: ${rest.trim()}`);
  }
  return { mode, context: rest.trim(), output };
}

/** Every TypeScript block of one Markdown file. */
export function blocksOf(root: string, path: string): CodeBlock[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trim().startsWith(fence)) j++;
    const lang = open[3]!.toLowerCase();
    if (lang === "ts" || lang === "typescript") {
      const marker = markerBefore(lines, i);
      const info = open[4]!.trim();
      const parsed = parseMarker(info === "fragment" ? "fragment" : marker);
      blocks.push({
        file: relative(root, path),
        line: i + 2,
        code: lines.slice(i + 1, j).join("\n"),
        ...parsed,
      });
    }
    i = j;
  }
  return blocks;
}

/** Every TypeScript block of README.md and docs/*.md. */
export function allBlocks(root: string): CodeBlock[] {
  return docFiles(root).flatMap((f) => blocksOf(root, f));
}
