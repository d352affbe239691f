/**
 * docs/migration-from-python.md names every public class, function, argument, attribute, constant
 * and enum member of Python uamqp 1.6, as listed in test/fixtures/uamqp-names.txt (extracted from
 * the API chapters of the uamqp capability inventory by scripts/extract-uamqp-names.mjs). When the
 * inventory is present beside the clone (../shared/spec/), the fixture must be current.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const root = new URL("../../", import.meta.url).pathname;
const guide = readFileSync(join(root, "docs/migration-from-python.md"), "utf8");
const names = readFileSync(join(root, "test/fixtures/uamqp-names.txt"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const spec = join(root, "..", "shared", "spec", "uamqp-capabilities.md");

/** The text of every code span of the guide (inline and fenced). */
const code = [...guide.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!).join("\n");

function mentioned(name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])`).test(code);
}

describe("docs/migration-from-python.md", () => {
  it("the fixture lists uamqp's public names", () => {
    assert.ok(names.length > 400, `only ${names.length} names`);
    assert.equal(new Set(names).size, names.length, "no duplicates");
    for (const n of [
      "SendClient",
      "msg_timeout",
      "receive_message_batch",
      "LinkDetachForced",
      "WaitingToBeSent",
    ]) {
      assert.ok(names.includes(n), `${n} is listed`);
    }
    for (const n of names) assert.match(n, /^[A-Za-z][A-Za-z0-9_]*$/, "a bare identifier");
  });

  it("names every uamqp name of the fixture in a code span", () => {
    const missing = names.filter((n) => !mentioned(n));
    assert.deepEqual(missing, [], `not in docs/migration-from-python.md: ${missing.join(", ")}`);
  });

  it("the check finds a name that is missing", () => {
    assert.equal(mentioned("send_all_messages"), true);
    assert.equal(mentioned("send_all"), false, "whole names only");
    assert.equal(mentioned("NoSuchUamqpName"), false);
  });

  it(
    "the fixture is current with the inventory",
    { skip: existsSync(spec) ? false : `${spec} not present` },
    () => {
      const r = spawnSync(
        process.execPath,
        [join(root, "scripts/extract-uamqp-names.mjs"), spec, "--check"],
        {
          encoding: "utf8",
          timeout: 30_000,
        },
      );
      assert.equal(
        r.status,
        0,
        `test/fixtures/uamqp-names.txt is stale; rerun the script:\n${r.stdout}${r.stderr}`,
      );
    },
  );
});
