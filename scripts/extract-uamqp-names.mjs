#!/usr/bin/env node
// Extracts the public names of Python uamqp 1.6 (classes, functions, methods, arguments, attributes,
// constants, enum members) from the API chapters of the uamqp capability inventory (from "## 1." up
// to "## 12.", its issue-tracker chapter) into test/fixtures/uamqp-names.txt, one per line.
// docs/migration-from-python.md must mention every one of them (test/docs/migration-guide.test.ts). The inventory lives outside this repository (beside the
// clone, shared/spec/uamqp-capabilities.md), so the list is committed; rerun this after it changes:
//
//   node scripts/extract-uamqp-names.mjs [path/to/uamqp-capabilities.md] [--check]
//
// --check prints the differences and exits 1 instead of writing the file.
//
// What counts as a name, in the inventory's Markdown:
// - every code span that is an identifier or a dotted path (`ErrorPolicy.no_retry`): each part;
// - every code span that is a call (`Name(args)`): the called name's last part; and, where the
//   span defines it (in a heading, first in a table cell or a bullet), each parameter name;
// - the members of the enums table ("### 11.5") and of the ConnectionState values paragraph;
// - the classes, parameters and attributes of the exception tree (the fenced block with AMQPError).
// Left out: private and dunder names (`_x`, `__x__`), Python's own builtins and standard library,
// file names, and the C library's internal functions, which Python code cannot reach.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const check = args.includes("--check");
const specPath =
  args.find((a) => !a.startsWith("--")) ?? join(root, "..", "shared", "spec", "uamqp-capabilities.md");
const fixture = join(root, "test", "fixtures", "uamqp-names.txt");

/** Python's builtins and standard library, and words that are not names of uamqp. */
const NOT_UAMQP = new Set([
  // builtins, literals and keywords
  "None",
  "True",
  "False",
  "self",
  "bool",
  "int",
  "float",
  "str",
  "bytes",
  "bytearray",
  "dict",
  "list",
  "tuple",
  "set",
  "len",
  "object",
  "callable",
  "generator",
  "finally",
  "break",
  "kwargs",
  "session_kwargs",
  "Exception",
  "ValueError",
  "TypeError",
  "TimeoutError",
  "RuntimeError",
  "KeyboardInterrupt",
  "StopAsyncIteration",
  // standard library and third-party modules
  "asyncio",
  "time",
  "threading",
  "functools",
  "partial",
  "certifi",
  "where",
  "datetime",
  "timedelta",
  "uuid",
  "UUID",
  "uuid4",
  "urlparse",
  "quote_plus",
  "Lock",
  "shield",
  "wait_for",
  "ensure_future",
  // the C library's own functions and macros (not reachable from Python)
  "connection_dowork",
  "link_dowork",
  "link_send_disposition",
  "messagesender_send_async",
  "amqp_management_create",
  "platform_init",
  "platform_get_platform_info",
  "X509_VERIFY_PARAM_set1_host",
  "MU_DEFINE_ENUM",
  // values, variables and words in code spans or table cells, not names
  "AMQP",
  "policy",
  "null",
  "wss",
  "myqueue",
  "index",
  "md",
  "C",
]);

function sections(text) {
  const start = text.indexOf("\n## 1. ");
  const end = text.indexOf("\n## 12. ");
  if (start < 0 || end < 0) throw new Error(`${specPath}: sections "## 1." and "## 12." not found`);
  return text.slice(start, end);
}

/** The text inside the parentheses that open at `open`, and the index after them. */
function parenthesized(s, open) {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === "(" || s[i] === "[" || s[i] === "{") depth++;
    else if (s[i] === ")" || s[i] === "]" || s[i] === "}") {
      depth--;
      if (depth === 0) return s.slice(open + 1, i);
    }
  }
  return s.slice(open + 1);
}

function splitTopLevel(s) {
  const parts = [];
  let depth = 0;
  let quote = "";
  let cur = "";
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") quote = ch;
    else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) depth--;
    else if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** Parameter names of a parameter list: `a`, `b=1`, `c: int`, `*d`, `**e`. */
function parameters(list) {
  const out = [];
  for (const part of splitTopLevel(list)) {
    const m = /^\*{0,2}([A-Za-z_]\w*)\s*(?:=|:|$)/.exec(part);
    if (m) out.push(m[1]);
  }
  return out;
}

const CALL = /^([A-Za-z_][\w.]*)\(/;
const PATH = /^[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*$/;
const FILE = /\.(?:py|pyx|c|h|md)$/;

function extract(text) {
  const names = new Set();
  const add = (n) => {
    if (!n || n.startsWith("_") || NOT_UAMQP.has(n) || /^\d/.test(n)) return;
    names.add(n);
  };
  const body = sections(text);
  const lines = body.split("\n");
  let fence = false;
  let fenceLines = [];
  for (const line of lines) {
    if (line.trimStart().startsWith("```")) {
      if (fence) extractTree(fenceLines, add);
      fence = !fence;
      fenceLines = [];
      continue;
    }
    if (fence) {
      fenceLines.push(line);
      continue;
    }
    const heading = /^#{1,6}\s/.test(line);
    const bullet = /^\s*[*-]\s+`/.test(line);
    const cells = line.trimStart().startsWith("|") ? line.split("|").map((c) => c.trim()) : [];
    for (const m of line.matchAll(/`([^`]+)`/g)) {
      const span = m[1].trim();
      if (FILE.test(span) || span.includes("/")) continue;
      if (PATH.test(span)) {
        for (const part of span.split(".")) add(part);
        continue;
      }
      const call = CALL.exec(span);
      if (!call) continue;
      const called = call[1].split(".");
      add(called[called.length - 1]);
      const definition =
        heading ||
        (bullet && line.trimStart().slice(2).trimStart().startsWith(`\`${m[1]}\``)) ||
        cells.some((c) => c.startsWith(`\`${m[1]}\``));
      if (definition) {
        for (const part of called.slice(0, -1)) add(part);
        for (const p of parameters(parenthesized(span, call[1].length))) add(p);
      }
    }
  }
  extractEnums(body, add);
  return names;
}

/** The exception tree: class names, constructor parameters, `.attributes`. */
function extractTree(fenceLines, add) {
  if (!fenceLines.some((l) => /AMQPError/.test(l))) return;
  for (const line of fenceLines) {
    const cls = /^[\s│├└─]*([A-Z]\w+)(\(([^)]*)\))?/.exec(line);
    if (!cls) continue;
    add(cls[1]);
    if (cls[3] !== undefined) for (const p of parameters(cls[3])) add(p);
    const rest = line.slice(cls[0].length);
    for (const a of rest.matchAll(/(?:^|\s)\.([a-z_]\w*)/g)) add(a[1]);
  }
}

/** Enum members: the enums table and the values of `c_uamqp.ConnectionState`. */
function extractEnums(body, add) {
  const enums = body.slice(body.indexOf("### 11.5"));
  for (const line of enums.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || !cells[1].startsWith("`")) continue;
    const members = cells[2].replace(/`[^`]*`/g, "");
    for (const m of members.matchAll(/\b([A-Z][A-Za-z0-9_]*)\b/g)) add(m[1]);
  }
  const states = /`c_uamqp\.ConnectionState` values[^:]*:([^\n]*(?:\n[^\n]+)*)/.exec(body);
  if (states) for (const m of states[1].matchAll(/\b([A-Z][A-Z_]+) \d+/g)) add(m[1]);
}

const names = [...extract(readFileSync(specPath, "utf8"))].sort((a, b) =>
  a.toLowerCase() === b.toLowerCase() ? (a < b ? -1 : 1) : a.toLowerCase() < b.toLowerCase() ? -1 : 1,
);
const content =
  "# Public names of Python uamqp 1.6, from the API chapters of the uamqp capability inventory.\n" +
  "# Generated by scripts/extract-uamqp-names.mjs; docs/migration-from-python.md mentions each.\n" +
  names.join("\n") +
  "\n";
if (check) {
  const old = readFileSync(fixture, "utf8");
  if (old === content) process.exit(0);
  const before = new Set(old.split("\n").filter((l) => l && !l.startsWith("#")));
  const now = new Set(names);
  for (const n of names) if (!before.has(n)) console.log(`+ ${n}`);
  for (const n of before) if (!now.has(n)) console.log(`- ${n}`);
  process.exit(1);
}
writeFileSync(fixture, content);
console.log(`${names.length} names written to ${fixture}`);
