/**
 * VERSION, getPlatformInfo() and the uamqp constants of the spec's shape, from the package root.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import * as uamqp from "../../src/index.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

describe("package root: version, platform info, constants", () => {
  it("VERSION is package.json's version", () => {
    assert.equal(uamqp.VERSION, pkg.version);
  });

  it("getPlatformInfo() names the package, node, openssl, OS and architecture", () => {
    const info = uamqp.getPlatformInfo();
    assert.ok(info.startsWith(`uamqp ${pkg.version}; `), info);
    assert.ok(info.includes(`node ${process.version}`), info);
    assert.ok(info.includes(`openssl ${process.versions.openssl}`), info);
    assert.ok(info.endsWith(`${process.platform} ${process.arch}`), info);
  });

  it("uamqp's constants have uamqp's values", () => {
    assert.equal(uamqp.MAX_FRAME_SIZE_BYTES, 65536);
    assert.equal(uamqp.MAX_MESSAGE_LENGTH_BYTES, 1048576);
    assert.equal(uamqp.BATCH_MESSAGE_FORMAT, 0x80013700);
    assert.equal(uamqp.DEFAULT_AMQPS_PORT, 5671);
    assert.equal(uamqp.DEFAULT_AMQP_WSS_PORT, 443);
  });

  it("the spec-shaped low-level and client methods are reachable from the root", () => {
    assert.equal(typeof uamqp.Session.prototype.createSender, "function");
    assert.equal(typeof uamqp.Session.prototype.createReceiver, "function");
    assert.equal(typeof uamqp.AMQPClient.prototype.waitUntilReady, "function");
  });
});
