/**
 * Docs that run: every TypeScript block of README.md and docs/*.md type-checks, as a module of its
 * own, against this checkout (`uamqp` and `uamqp/broker` mapped to src/ by a generated tsconfig with
 * the project's strict settings), in one `tsc` run; the blocks marked runnable also run (tsx) and
 * must exit 0 within a bound. The markers are described in markdown-blocks.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { allBlocks, blocksOf, parseMarker, type CodeBlock } from "./markdown-blocks.js";

const root = new URL("../../", import.meta.url).pathname;
const RUN_TIMEOUT_MS = 30_000;
const TSC_TIMEOUT_MS = 240_000;

interface Written {
  readonly block: CodeBlock;
  readonly path: string;
  /** Lines put before the block's first line (its context). */
  readonly offset: number;
}

/**
 * A deliberately wrong block, checked in the same `tsc` run: its one error shows that the run
 * type-checks the blocks against the real declarations (a `string` is not a `number`).
 */
const CANARY: CodeBlock = {
  file: "(canary)",
  line: 1,
  code: 'import { Message } from "uamqp";\nconst n: number = new Message({ body: "x" }).toString();\nconsole.log(n);',
  mode: "check",
  context: "",
  output: undefined,
};

function writeBlocks(dir: string, blocks: readonly CodeBlock[]): Written[] {
  return blocks.map((block, i) => {
    const name = `b${String(i).padStart(3, "0")}-${basename(block.file, ".md")}-L${block.line}.ts`;
    const path = join(dir, name);
    const context = block.context === "" ? "" : `${block.context}\n`;
    writeFileSync(path, `${context}${block.code}\nexport {};\n`);
    return { block, path, offset: context === "" ? 0 : context.split("\n").length - 1 };
  });
}

function where(w: Written, line: number): string {
  if (w.block.file === "(canary)") return "(canary)";
  return `${w.block.file}:${w.block.line + line - 1 - w.offset}`;
}

describe("documentation code blocks", () => {
  const blocks = allBlocks(root);
  const checked = blocks.filter((b) => b.mode !== "fragment");
  const runnable = blocks.filter((b) => b.mode === "run");
  let dir: string;
  let written: Written[];

  before(() => {
    mkdirSync(join(root, ".scratch"), { recursive: true });
    dir = mkdtempSync(join(root, ".scratch", "docs-blocks-"));
    written = writeBlocks(dir, [...checked, CANARY]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("finds the blocks and their markers", () => {
    console.log(
      `${blocks.length} TypeScript blocks: ${checked.length} type-checked, ${runnable.length} of them run, ` +
        `${blocks.length - checked.length} fragments skipped`,
    );
    assert.ok(checked.length >= 30, `only ${checked.length} blocks found`);
    assert.ok(runnable.length >= 5, `only ${runnable.length} runnable blocks`);
    // The README's quick start is among them, and runs.
    assert.ok(runnable.some((b) => b.file === "README.md"));
    assert.deepEqual(parseMarker("runnable output=/^hello / context declare const n: number;"), {
      mode: "run",
      context: "declare const n: number;",
      output: /^hello /,
    });
    assert.equal(parseMarker("fragment").mode, "fragment");
    assert.throws(() => parseMarker("runnable soon"), /unknown text/);
  });

  it("every block type-checks (strict, as the project), each as its own module", () => {
    const tsconfig = {
      extends: join(root, "tsconfig.json"),
      compilerOptions: {
        noEmit: true,
        paths: {
          uamqp: [join(root, "src/index.ts")],
          "uamqp/broker": [join(root, "src/broker/index.ts")],
          // Not a dependency: a stand-in with the same TokenCredential shape.
          "@azure/identity": [join(root, "test/docs/stubs/azure-identity.d.ts")],
        },
      },
      files: written.map((w) => w.path),
      include: [],
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
    const r = spawnSync(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", dir, "--pretty", "false"],
      { cwd: root, encoding: "utf8", timeout: TSC_TIMEOUT_MS },
    );
    assert.equal(r.signal, null, `tsc did not finish within ${TSC_TIMEOUT_MS} ms`);
    const byPath = new Map(written.map((w) => [w.path, w]));
    const errors: string[] = [];
    let canary = 0;
    for (const line of r.stdout.split("\n")) {
      const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
      if (!m) {
        if (line.trim() !== "") errors.push(line);
        continue;
      }
      const w = byPath.get(join(root, m[1]!)) ?? byPath.get(m[1]!);
      if (w?.block === CANARY) {
        canary++;
        assert.equal(m[4], "TS2322", line);
        continue;
      }
      errors.push(w ? `${where(w, Number(m[2]))}: ${m[4]} ${m[5]}` : line);
    }
    assert.equal(canary, 1, `the canary block must fail exactly once:\n${r.stdout}${r.stderr}`);
    assert.deepEqual(errors, [], `blocks that do not type-check:\n${errors.join("\n")}`);
  });

  for (const [i, block] of runnable.entries()) {
    it(`runs ${block.file}:${block.line}`, () => {
      const w = written.find((x) => x.block === block)!;
      assert.ok(w, `block ${i} written`);
      const r = spawnSync(process.execPath, ["--import", "tsx", w.path], {
        cwd: root,
        encoding: "utf8",
        timeout: RUN_TIMEOUT_MS,
      });
      assert.equal(r.signal, null, `did not finish within ${RUN_TIMEOUT_MS} ms\n${r.stdout}${r.stderr}`);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      if (block.output) assert.match(r.stdout, block.output);
    });
  }
});

describe("markdown-blocks", () => {
  it("reads fences, markers and contexts", () => {
    mkdirSync(join(root, ".scratch"), { recursive: true });
    const dir = mkdtempSync(join(root, ".scratch", "docs-md-"));
    try {
      const md = [
        "# t",
        "```ts",
        "const a = 1;",
        "```",
        "<!-- runnable output=/ok/ -->",
        "```typescript",
        "console.log('ok');",
        "```",
        "<!-- context",
        "declare const c: number;",
        "-->",
        "",
        "```ts",
        "c.toFixed();",
        "```",
        "```ts fragment",
        "interface X { a }",
        "```",
        "```sh",
        "npm test",
        "```",
      ].join("\n");
      writeFileSync(join(dir, "t.md"), md);
      const b = blocksOf(dir, join(dir, "t.md"));
      assert.deepEqual(
        b.map((x) => [x.line, x.mode, x.context, x.output?.source]),
        [
          [3, "check", "", undefined],
          [7, "run", "", "ok"],
          [14, "check", "declare const c: number;", undefined],
          [17, "fragment", "", undefined],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
