/**
 * `npm run docs` builds the API reference without a warning: every type that appears in a public
 * signature is exported, and every `{@link}` resolves. typedoc.json sets treatWarningsAsErrors; this
 * runs the same configuration without writing the HTML (about 15 s).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const root = new URL("../../", import.meta.url).pathname;

describe("TypeDoc reference", () => {
  it("npm run docs is typedoc with warnings as errors", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    assert.equal(pkg.scripts["docs"], "typedoc");
    const config = JSON.parse(readFileSync(join(root, "typedoc.json"), "utf8")) as Record<string, unknown>;
    assert.equal(config["treatWarningsAsErrors"], true);
    assert.equal(config["out"], "docs/api");
    assert.match(readFileSync(join(root, ".gitignore"), "utf8"), /^docs\/api$/m);
  });

  it("builds without warnings", { timeout: 240_000 }, () => {
    const r = spawnSync(
      process.execPath,
      [join(root, "node_modules/typedoc/bin/typedoc"), "--emit", "none"],
      {
        cwd: root,
        encoding: "utf8",
        timeout: 240_000,
        env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      },
    );
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.signal, null, "typedoc did not finish in time");
    assert.doesNotMatch(out, /\[warning\]|\[error\]/, out);
    assert.equal(r.status, 0, out);
  });
});
