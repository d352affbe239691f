import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  EventHubFilters,
  InvalidAddressError,
  SELECTOR_FILTER_CODE,
  STRING_FILTER,
  Source,
  Target,
  TerminusDurability,
} from "../../src/address/index.js";
import {
  Source as SourceComposite,
  Target as TargetComposite,
  type SourceFields,
  type TargetFields,
} from "../../src/codec/definitions/messaging.js";
import { Decoder } from "../../src/codec/decoder.js";
import {
  AMQPBinary,
  AMQPDescribed,
  AMQPSymbol,
  AMQPuLong,
  amqpEquals,
  decode,
  encode,
} from "../../src/codec/index.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { loadVectors } from "../support/vectors.js";

const vectors = new Map(loadVectors().map((v) => [v.name, v.hex]));
function vector(name: string): string {
  const hex = vectors.get(name);
  assert.ok(hex, `vector ${name} is missing`);
  return hex;
}

function encodeSource(f: SourceFields): string {
  const w = new ByteWriter();
  SourceComposite.encode(w, f);
  return w.toBuffer().toString("hex");
}
function decodeSource(hex: string): SourceFields {
  const d = new Decoder(Buffer.from(hex, "hex"));
  const f = SourceComposite.decode(d);
  assert.equal(d.pos, d.end);
  return f;
}
function encodeTarget(f: TargetFields): string {
  const w = new ByteWriter();
  TargetComposite.encode(w, f);
  return w.toBuffer().toString("hex");
}
function decodeTarget(hex: string): TargetFields {
  const d = new Decoder(Buffer.from(hex, "hex"));
  const f = TargetComposite.decode(d);
  assert.equal(d.pos, d.end);
  return f;
}
/** Hex of a str8/sym8 value. */
function text8(code: string, s: string): string {
  const b = Buffer.from(s, "utf8");
  return code + b.length.toString(16).padStart(2, "0") + b.toString("hex");
}
/** Hex of a map8 / list8 with `count` items whose bodies are `body`. */
function compound8(code: string, count: number, body: string): string {
  const size = body.length / 2 + 1;
  return code + size.toString(16).padStart(2, "0") + count.toString(16).padStart(2, "0") + body;
}

const OFFSET_EXPR = "amqp.annotation.x-opt-offset > '-1'";
const EH_NODE = "myhub/ConsumerGroups/$default/Partitions/0";

describe("Source filters: uamqp's selector filter encoding", () => {
  it("encodes setFilter(expr) as {symbol STRING_FILTER → described(symbol STRING_FILTER, string expr)}", () => {
    const expr = "amqp.annotation.x-opt-offset > '@latest'";
    const s = Source.parse("amqps://ns.servicebus.windows.net/hub/ConsumerGroups/$default/Partitions/0");
    s.setFilter(expr);
    assert.equal(s.getFilter(), expr);
    assert.equal(STRING_FILTER, "apache.org:selector-filter:string");

    const described = "00" + text8("a3", STRING_FILTER) + text8("a1", expr);
    const filterSet = compound8("c1", 2, text8("a3", STRING_FILTER) + described);
    const fields = s.toTerminus();
    assert.ok(fields.filter);
    assert.equal(
      Buffer.from(
        encode(new Map(Object.entries(fields.filter).map(([k, v]) => [new AMQPSymbol(k), v]))),
      ).toString("hex"),
      filterSet,
    );
    const address = text8("a1", "amqps://ns.servicebus.windows.net/hub/ConsumerGroups/$default/Partitions/0");
    const expected = "005328" + compound8("c0", 8, address + "40".repeat(6) + filterSet);
    assert.equal(encodeSource(fields), expected);
  });

  it("encodes the filter value exactly as the ext-selector-filter vectors", () => {
    const s = Source.node("q");
    s.setFilter(OFFSET_EXPR);
    assert.equal(
      Buffer.from(encode(s.filterSet.get(STRING_FILTER))).toString("hex"),
      vector("ext-selector-filter-symbolic"),
    );
    s.setFilter(OFFSET_EXPR, { descriptor: SELECTOR_FILTER_CODE });
    assert.equal(
      Buffer.from(encode(s.filterSet.get(STRING_FILTER))).toString("hex"),
      vector("ext-selector-filter"),
    );
    s.setFilter(OFFSET_EXPR, { descriptor: new AMQPuLong(SELECTOR_FILTER_CODE) });
    assert.equal(
      Buffer.from(encode(s.filterSet.get(STRING_FILTER))).toString("hex"),
      vector("ext-selector-filter"),
    );
  });

  it("encodes a whole source byte-exact as the ext-source-with-selector-filter vector", () => {
    const s = Source.node(EH_NODE);
    s.setFilter(OFFSET_EXPR, { descriptor: SELECTOR_FILTER_CODE });
    assert.equal(encodeSource(s.toTerminus()), vector("ext-source-with-selector-filter"));
  });

  it("reads the vector's source back with fromTerminus", () => {
    const hex = vector("ext-source-with-selector-filter");
    const s = Source.fromTerminus(decodeSource(hex));
    assert.equal(s.linkAddress, EH_NODE);
    assert.equal(s.isNode, true);
    assert.equal(s.getFilter(), OFFSET_EXPR);
    const entry = s.filterSet.get(STRING_FILTER);
    assert.ok(entry instanceof AMQPDescribed);
    assert.ok(amqpEquals(entry.descriptor, new AMQPuLong(SELECTOR_FILTER_CODE)));
    assert.equal(encodeSource(s.toTerminus()), hex);
  });
});

describe("Source filters: other descriptors and several filters (beyond uamqp)", () => {
  it("descriptor null encodes the plain string value", () => {
    const s = Source.node("q");
    s.setFilter("x > 1", { descriptor: null });
    assert.equal(s.getFilter(), "x > 1");
    const expected = compound8("c1", 2, text8("a3", STRING_FILTER) + text8("a1", "x > 1"));
    const fields = s.toTerminus();
    assert.equal(
      encodeSource(fields),
      "005328" + compound8("c0", 8, text8("a1", "q") + "40".repeat(6) + expected),
    );
  });

  it("setFilter(null) encodes a null value", () => {
    const s = Source.node("q");
    s.setFilter(null);
    assert.equal(s.getFilter(), null);
    const expected = compound8("c1", 2, text8("a3", STRING_FILTER) + "40");
    assert.equal(
      encodeSource(s.toTerminus()),
      "005328" + compound8("c0", 8, text8("a1", "q") + "40".repeat(6) + expected),
    );
    const back = Source.fromTerminus(decodeSource(encodeSource(s.toTerminus())));
    assert.equal(back.getFilter(), null);
    assert.equal(back.getFilter("other"), undefined);
  });

  it("uses the given name and a symbolic descriptor", () => {
    const s = Source.node("q");
    s.setFilter("a = 1", { name: "my-filter", descriptor: "my:descriptor" });
    assert.equal(s.getFilter(), undefined);
    assert.equal(s.getFilter("my-filter"), "a = 1");
    const entry = s.filterSet.get("my-filter");
    assert.ok(entry instanceof AMQPDescribed);
    assert.ok(amqpEquals(entry.descriptor, new AMQPSymbol("my:descriptor")));
  });

  it("sends Uint8Array values as AMQP strings (uamqp), AMQPBinary as binary", () => {
    const s = Source.node("q");
    s.setFilter(Buffer.from("é > 1", "utf8"));
    assert.equal(s.getFilter(), "é > 1");
    s.setFilter(new AMQPBinary(Buffer.from([1, 2])), { descriptor: null });
    const v = decode(encode(s.filterSet.get(STRING_FILTER)));
    assert.ok(v instanceof Uint8Array);
    assert.deepEqual([...v], [1, 2]);
  });

  it("setFilter replaces the whole set; addFilter keeps several", () => {
    const s = Source.node("q");
    s.addFilter("a", "1");
    s.addFilter("b", "2", null);
    s.addFilter("c", new Map([[new AMQPSymbol("k"), "v"]]), 0x468c00000002n);
    assert.deepEqual([...s.filterSet.keys()], ["a", "b", "c"]);
    const back = Source.fromTerminus(decodeSource(encodeSource(s.toTerminus())));
    assert.deepEqual([...back.filterSet.keys()], ["a", "b", "c"]);
    for (const k of ["a", "b", "c"]) assert.ok(amqpEquals(back.filterSet.get(k), s.filterSet.get(k)), k);
    assert.equal(s.deleteFilter("b"), true);
    assert.equal(s.deleteFilter("b"), false);
    s.setFilter("only");
    assert.deepEqual([...s.filterSet.keys()], [STRING_FILTER]);
    s.clearFilters();
    assert.equal(s.filterSet.size, 0);
    assert.equal(s.toTerminus().filter, undefined);
  });

  it("rejects a numeric descriptor that is not a ulong", () => {
    const s = Source.node("q");
    assert.throws(
      () => s.setFilter("x", { descriptor: -1 }),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === "invalid-filter",
    );
  });

  it("works with the EventHubFilters builders", () => {
    const s = Source.parse("amqps://h/hub/ConsumerGroups/$default/Partitions/1");
    s.setFilter(EventHubFilters.sequenceNumberAfter(1500));
    assert.equal(s.getFilter(), "amqp.annotation.x-opt-sequence-number > 1500");
  });
});

describe("terminus round trips through the codec composites", () => {
  it("round-trips every source property", () => {
    const s = Source.parse("amqps://ns.servicebus.windows.net/q");
    s.durable = TerminusDurability.UnsettledState;
    s.expiryPolicy = "never";
    s.timeoutSeconds = 4294967295;
    s.dynamic = false;
    s.dynamicNodeProperties = { "lifetime-policy": new AMQPDescribed(new AMQPuLong(0x2b), []), x: 1 };
    s.distributionMode = "copy";
    s.setFilter("a = 1");
    s.defaultOutcome = { type: "modified", deliveryFailed: true, undeliverableHere: false };
    s.outcomes = ["amqp:accepted:list", "amqp:rejected:list"];
    s.capabilities = ["queue", "com.microsoft:enable-receiver-runtime-metric"];

    const hex = encodeSource(s.toTerminus());
    const back = Source.fromTerminus(decodeSource(hex));
    assert.equal(back.linkAddress, "amqps://ns.servicebus.windows.net/q");
    assert.equal(back.hostname, "ns.servicebus.windows.net");
    assert.equal(back.durable, 2);
    assert.equal(back.expiryPolicy, "never");
    assert.equal(back.timeoutSeconds, 4294967295);
    assert.equal(back.dynamic, false);
    assert.ok(back.dynamicNodeProperties);
    assert.deepEqual(Object.keys(back.dynamicNodeProperties), ["lifetime-policy", "x"]);
    assert.ok(
      amqpEquals(back.dynamicNodeProperties["lifetime-policy"], s.dynamicNodeProperties["lifetime-policy"]),
    );
    assert.equal(back.dynamicNodeProperties["x"], 1);
    assert.equal(back.distributionMode, "copy");
    assert.equal(back.getFilter(), "a = 1");
    assert.deepEqual(back.defaultOutcome, {
      type: "modified",
      deliveryFailed: true,
      undeliverableHere: false,
    });
    assert.deepEqual(back.outcomes, ["amqp:accepted:list", "amqp:rejected:list"]);
    assert.deepEqual(back.capabilities, ["queue", "com.microsoft:enable-receiver-runtime-metric"]);
    assert.equal(encodeSource(back.toTerminus()), hex);
  });

  it("round-trips every target property", () => {
    const t = Target.parse("amqp://h:5672/queue/q");
    t.durable = TerminusDurability.Configuration;
    t.expiryPolicy = "link-detach";
    t.timeoutSeconds = 30;
    t.dynamic = true;
    t.dynamicNodeProperties = { "supported-dist-modes": new AMQPSymbol("move") };
    t.capabilities = ["topic"];
    const fields = t.toTerminus();
    assert.deepEqual(
      { ...fields, dynamicNodeProperties: undefined },
      {
        address: "/queue/q",
        durable: 1,
        expiryPolicy: "link-detach",
        timeout: 30,
        dynamic: true,
        dynamicNodeProperties: undefined,
        capabilities: ["topic"],
      },
    );
    const hex = encodeTarget(fields);
    const back = Target.fromTerminus(decodeTarget(hex));
    assert.ok(back instanceof Target);
    assert.equal(back.linkAddress, "/queue/q");
    assert.equal(back.isNode, true);
    assert.equal(back.durable, 1);
    assert.equal(back.expiryPolicy, "link-detach");
    assert.equal(back.timeoutSeconds, 30);
    assert.equal(back.dynamic, true);
    assert.ok(amqpEquals(back.dynamicNodeProperties?.["supported-dist-modes"], new AMQPSymbol("move")));
    assert.deepEqual(back.capabilities, ["topic"]);
    assert.equal(encodeTarget(back.toTerminus()), hex);
  });

  it("leaves unset properties out (spec defaults apply)", () => {
    const t = Target.parse("amqp://h/q");
    assert.equal(encodeTarget(t.toTerminus()), "005329" + compound8("c0", 1, text8("a1", "q")));
    const back = Target.fromTerminus(decodeTarget(encodeTarget(t.toTerminus())));
    for (const k of [
      "durable",
      "expiryPolicy",
      "timeoutSeconds",
      "dynamic",
      "dynamicNodeProperties",
      "capabilities",
    ] as const) {
      assert.equal(back[k], undefined, k);
    }
  });

  it("keeps a peer's address as sent: node names, URLs with port, symbols, none", () => {
    const withPort = Target.fromTerminus({ address: "amqps://user@host:5671/q?x=1" });
    assert.equal(withPort.linkAddress, "amqps://user@host:5671/q?x=1");
    assert.equal(withPort.hostname, "host");
    assert.equal(withPort.port, 5671);
    assert.equal(withPort.toTerminus().address, "amqps://user@host:5671/q?x=1");

    const node = Source.fromTerminus({ address: "queue-a" });
    assert.equal(node.linkAddress, "queue-a");
    assert.equal(node.isNode, true);

    const sym = Source.fromTerminus({ address: new AMQPSymbol("sym-node") });
    assert.equal(sym.linkAddress, "sym-node");
    assert.ok(sym.toTerminus().address instanceof AMQPSymbol);
    const symHex = encodeSource(sym.toTerminus());
    assert.equal(symHex, "005328" + compound8("c0", 1, text8("a3", "sym-node")));

    const bin = Target.fromTerminus({ address: Buffer.from([9]) });
    assert.equal(bin.linkAddress, "");
    assert.ok(amqpEquals(bin.toTerminus().address, Buffer.from([9])));

    const dyn = Source.fromTerminus({ dynamic: true });
    assert.equal(dyn.linkAddress, "");
    assert.equal(dyn.toTerminus().address, undefined);
    assert.equal(dyn.dynamic, true);
  });

  it("rejects terminus values that cannot be encoded", () => {
    const t = Target.parse("amqp://h/q");
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
      t.timeoutSeconds = bad;
      assert.throws(
        () => t.toTerminus(),
        (e: unknown) => e instanceof InvalidAddressError && e.reason === "invalid-terminus",
        String(bad),
      );
    }
    t.timeoutSeconds = undefined;
    t.durable = 3.5 as TerminusDurability;
    assert.throws(() => t.toTerminus(), InvalidAddressError);
    t.durable = undefined;
    t.capabilities = [1 as unknown as string];
    assert.throws(() => t.toTerminus(), InvalidAddressError);
  });

  it("does not share arrays or objects with the terminus fields", () => {
    const s = Source.parse("amqp://h/q");
    s.capabilities = ["a"];
    s.outcomes = ["amqp:accepted:list"];
    s.dynamicNodeProperties = { k: 1 };
    const f = s.toTerminus();
    f.capabilities?.push("b");
    f.outcomes?.push("x");
    if (f.dynamicNodeProperties) f.dynamicNodeProperties["k"] = 2;
    assert.deepEqual(s.capabilities, ["a"]);
    assert.deepEqual(s.outcomes, ["amqp:accepted:list"]);
    assert.deepEqual(s.dynamicNodeProperties, { k: 1 });
  });
});
