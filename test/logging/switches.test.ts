/** How the environment switches are read: `DEBUG` patterns as the `debug` package reads them, and levels. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { levelFromEnv, namespacesFromDebug } from "../../src/util/log.js";

const ALL = [
  "uamqp:frames",
  "uamqp:connection",
  "uamqp:link",
  "uamqp:client",
  "uamqp:broker",
  "uamqp:broker:frames",
];

describe("DEBUG patterns", () => {
  const cases: [string | undefined, string[]][] = [
    [undefined, []],
    ["", []],
    ["uamqp:frames", ["uamqp:frames"]],
    ["uamqp:*", ALL],
    ["*", ALL],
    ["uamqp*", ALL],
    ["uamqp:broker", ["uamqp:broker"]],
    ["uamqp:broker*", ["uamqp:broker", "uamqp:broker:frames"]],
    ["*:frames", ["uamqp:frames", "uamqp:broker:frames"]],
    ["uamqp:frames,uamqp:link", ["uamqp:frames", "uamqp:link"]],
    ["uamqp:frames uamqp:link", ["uamqp:frames", "uamqp:link"]],
    [" uamqp:client , uamqp:link ", ["uamqp:link", "uamqp:client"]],
    ["uamqp:*,-uamqp:frames", ALL.filter((n) => n !== "uamqp:frames")],
    ["-uamqp:frames,uamqp:*", ALL.filter((n) => n !== "uamqp:frames")],
    ["*,-*:frames", ["uamqp:connection", "uamqp:link", "uamqp:client", "uamqp:broker"]],
    ["rhea*,azure:*", []],
    ["uamqp:frame", []],
    ["uamqp.frames", []],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} → ${expected.join(", ") || "nothing"}`, () => {
      assert.deepEqual([...namespacesFromDebug(value)], expected);
    });
  }
});

describe("UAMQP_LOG_LEVEL values", () => {
  it("the four levels, any case, warning for warn; blank is unset; anything else is invalid", () => {
    assert.equal(levelFromEnv("error"), "error");
    assert.equal(levelFromEnv("WARN"), "warn");
    assert.equal(levelFromEnv("warning"), "warn");
    assert.equal(levelFromEnv(" Info "), "info");
    assert.equal(levelFromEnv("debug"), "debug");
    assert.equal(levelFromEnv(undefined), undefined);
    assert.equal(levelFromEnv("  "), undefined);
    assert.equal(levelFromEnv("verbose"), "invalid");
    assert.equal(levelFromEnv("2"), "invalid");
    assert.equal(levelFromEnv("constructor"), "invalid");
  });
});
