import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AMQPString, AMQPSymbol, AMQPuInt, AMQPuShort } from "../../src/codec/index.js";
import { ConnectionRedirect, LinkRedirect, parseRedirectInfo } from "../../src/errors/index.js";

describe("LinkRedirect info parsing", () => {
  it("reads every field from string keys", () => {
    const e = new LinkRedirect("amqp:link:redirect", {
      info: {
        hostname: "ns2.servicebus.windows.net",
        "network-host": "10.1.2.3",
        port: 5671,
        address: "amqps://ns2.servicebus.windows.net/q",
        scheme: "amqps",
        path: "/q",
      },
    });
    assert.equal(e.condition, "amqp:link:redirect");
    assert.equal(e.retryable, false);
    assert.equal(e.hostname, "ns2.servicebus.windows.net");
    assert.equal(e.networkHost, "10.1.2.3");
    assert.equal(e.port, 5671);
    assert.equal(e.address, "amqps://ns2.servicebus.windows.net/q");
    assert.equal(e.scheme, "amqps");
    assert.equal(e.path, "/q");
  });

  it("reads AMQP symbol keys and wrapped values from a Map", () => {
    const info = new Map<unknown, unknown>([
      [new AMQPSymbol("hostname"), new AMQPString("h2")],
      [new AMQPSymbol("network-host"), new AMQPSymbol("192.0.2.9")],
      [new AMQPSymbol("port"), new AMQPuShort(5672)],
      [new AMQPSymbol("address"), "q2"],
    ]);
    const r = parseRedirectInfo(info);
    assert.equal(r.hostname, "h2");
    assert.equal(r.networkHost, "192.0.2.9");
    assert.equal(r.port, 5672);
    assert.equal(r.address, "q2");
    assert.equal(r.scheme, undefined);
    assert.equal(r.path, undefined);
  });

  it("reads JS symbol keys, bytes keys and values, numeric strings and bigints", () => {
    const obj = { [Symbol.for("hostname")]: "h3", port: "5673" };
    assert.deepEqual(
      { h: parseRedirectInfo(obj).hostname, p: parseRedirectInfo(obj).port },
      { h: "h3", p: 5673 },
    );
    const m = new Map<unknown, unknown>([
      [Buffer.from("hostname"), Buffer.from("h4")],
      ["port", 5674n],
      ["path", new AMQPuInt(7)],
    ]);
    const r = parseRedirectInfo(m);
    assert.equal(r.hostname, "h4");
    assert.equal(r.port, 5674);
    assert.equal(r.path, "7");
  });

  it("ignores bad ports, unknown keys and unreadable values", () => {
    for (const port of [-1, 70000, 1.5, "abc", "", null, { nested: true }]) {
      assert.equal(parseRedirectInfo({ port }).port, undefined, JSON.stringify(port));
    }
    const r = parseRedirectInfo({ other: "x", hostname: { no: "value" } });
    assert.equal(r.hostname, undefined);
    assert.deepEqual(parseRedirectInfo(undefined), {
      hostname: undefined,
      networkHost: undefined,
      port: undefined,
      address: undefined,
      scheme: undefined,
      path: undefined,
    });
    assert.equal(parseRedirectInfo("not a map").hostname, undefined);
  });

  it("without info every field is undefined", () => {
    const e = new LinkRedirect("r");
    assert.equal(e.hostname, undefined);
    assert.equal(e.port, undefined);
    assert.equal(e.condition, "amqp:link:redirect");
  });

  it("ConnectionRedirect reads the same fields", () => {
    const e = new ConnectionRedirect("amqp:connection:redirect", {
      info: { hostname: "h", "network-host": "n", port: 1234 },
    });
    assert.equal(e.condition, "amqp:connection:redirect");
    assert.equal(e.retryable, false);
    assert.deepEqual([e.hostname, e.networkHost, e.port], ["h", "n", 1234]);
  });
});
