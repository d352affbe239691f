/**
 * examples/management.ts as a user runs it: against the embedded broker it sends and receives over
 * CBS, reads the entity (one and 20 at once), gets an ErrorResponse for a missing entity, sees
 * token refreshes and still receives after several expiries, printing no key and no token.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { within } from "../support/waits.js";

const root = new URL("../../", import.meta.url).pathname;

describe("examples/management.ts", () => {
  it("runs against the embedded broker", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "examples/management.ts"], { cwd: root });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await within(
      new Promise<number | null>((resolve) => child.on("close", resolve)),
      "the example's exit",
      60_000,
    ).finally(() => child.kill());
    assert.equal(code, 0, err);
    assert.match(out, /received: hello over CBS/);
    assert.match(out, /READ orders: status 200 Map\(6\) \{\s+'name' => 'orders'/);
    assert.match(out, /20 READs in flight at once: 20 answered 200/);
    assert.match(out, /ErrorResponse: status 404 \(the entity 'no-such-entity' could not be found\)/);
    assert.ok((out.match(/token refreshed, expires/g) ?? []).length >= 2, out);
    assert.match(out, /received after 7 s: still authorized/);
    for (const secret of ["example-key", "SharedAccessSignature", "sig="]) {
      assert.ok(!out.includes(secret) && !err.includes(secret), `${secret} printed`);
    }
  });
});
