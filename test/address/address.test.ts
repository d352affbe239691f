import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import {
  Address,
  DEFAULT_PORTS,
  InvalidAddressError,
  Source,
  Target,
  type InvalidAddressReason,
} from "../../src/address/index.js";
import { AZURE_HOST_SUFFIXES, isAddressUrl, isAzureHost } from "../../src/address/link-address.js";
import { AMQPError } from "../../src/errors/index.js";

const SECRET = "s3cr%2Ft";
const CLEAR_SECRET = "s3cr/t";

function expectInvalid(url: string, reason: InvalidAddressReason): InvalidAddressError {
  let caught: unknown;
  try {
    Address.parse(url);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof InvalidAddressError, `expected InvalidAddressError for ${url}`);
  assert.ok(caught instanceof AMQPError);
  assert.equal(caught.code, "AMQP_INVALID_ADDRESS");
  assert.equal(caught.name, "InvalidAddressError");
  assert.equal(caught.reason, reason);
  assert.ok(!caught.message.includes(SECRET), `message leaks the password: ${caught.message}`);
  assert.ok(!caught.message.includes(CLEAR_SECRET), `message leaks the password: ${caught.message}`);
  return caught;
}

describe("Address parsing", () => {
  it("splits and percent-decodes amqps://user%40x:p%2Fw@host:5671/q?x=1", () => {
    const a = new Address("amqps://user%40x:p%2Fw@host:5671/q?x=1");
    assert.equal(a.scheme, "amqps");
    assert.equal(a.hostname, "host");
    assert.equal(a.username, "user@x");
    assert.equal(a.password, "p/w");
    assert.equal(a.port, 5671);
    assert.equal(a.defaultPort, 5671);
    assert.equal(a.path, "/q");
    assert.equal(a.query.get("x"), "1");
    assert.equal(a.linkAddress, "q");
    assert.equal(a.address, "q");
    assert.equal(a.url, "amqps://user%40x:p%2Fw@host:5671/q?x=1");
    assert.deepEqual(a.credentials(), { username: "user@x", password: "p/w" });
  });

  it("masks the password in toString, JSON and inspect, and keeps it out of own keys", () => {
    const a = Source.parse(`amqps://user:${SECRET}@host/q`);
    assert.equal(String(a), "amqps://user:***@host/q");
    assert.equal(JSON.stringify({ a }), '{"a":"amqps://user:***@host/q"}');
    assert.equal(inspect(a), "Source(amqps://user:***@host/q)");
    const own = JSON.stringify(Object.entries(Object.getOwnPropertyDescriptors(a)).map(([k]) => k));
    assert.ok(!own.includes("password") && !own.includes('"url"'), own);
    for (const v of Object.values(a)) assert.ok(!String(v).includes(SECRET));
    assert.equal(a.password, CLEAR_SECRET);
  });

  it("leaves a URL without password unchanged in toString", () => {
    assert.equal(String(Address.parse("amqp://user@host:1234/q?a=b")), "amqp://user@host:1234/q?a=b");
  });

  it("accepts the four schemes case-insensitively, with their default ports", () => {
    for (const scheme of ["amqp", "amqps", "ws", "wss"] as const) {
      const a = Address.parse(`${scheme.toUpperCase()}://Example.COM/Path`);
      assert.equal(a.scheme, scheme);
      assert.equal(a.hostname, "example.com");
      assert.equal(a.port, undefined);
      assert.equal(a.defaultPort, DEFAULT_PORTS[scheme]);
      assert.equal(a.path, "/Path");
      assert.equal(a.linkAddress, "Path");
      const azure = Address.parse(`${scheme.toUpperCase()}://NS.ServiceBus.Windows.NET/Path`);
      const sent = scheme === "ws" ? "amqp" : scheme === "wss" ? "amqps" : scheme;
      assert.equal(azure.linkAddress, `${sent}://ns.servicebus.windows.net/Path`);
    }
    assert.deepEqual(DEFAULT_PORTS, { amqp: 5672, amqps: 5671, ws: 80, wss: 443 });
  });

  it("keeps an explicit port even when it is the scheme default", () => {
    assert.equal(Address.parse("wss://host:443/q").port, 443);
    assert.equal(Address.parse("amqp://host:/q").port, undefined);
    assert.equal(Address.parse("amqp://host:0/q").port, 0);
  });

  it("reports the endpoint to connect to", () => {
    assert.deepEqual(Address.parse("amqps://h/q").endpoint(), {
      scheme: "amqps",
      hostname: "h",
      port: 5671,
      tls: true,
      webSocket: false,
    });
    assert.deepEqual(Address.parse("ws://h:8080/q").endpoint(), {
      scheme: "ws",
      hostname: "h",
      port: 8080,
      tls: false,
      webSocket: true,
    });
    assert.equal(Address.parse("wss://h/q").endpoint().tls, true);
    assert.equal(Address.parse("amqp://h/q").endpoint().port, 5672);
  });

  it("splits the userinfo at the last @ and the first colon", () => {
    const a = Address.parse("amqps://user:p@ss:w@host/q");
    assert.equal(a.username, "user");
    assert.equal(a.password, "p@ss:w");
    assert.equal(a.hostname, "host");
    assert.equal(String(a), "amqps://user:***@host/q");
  });

  it("percent-decodes UTF-8, keeps + and malformed escapes", () => {
    const a = Address.parse("amqp://%C3%A9t%C3%A9:a+b%zz%2B@host/q");
    assert.equal(a.username, "été");
    assert.equal(a.password, "a+b%zz+");
  });

  it("treats empty user name or password as absent (no SASL PLAIN credentials)", () => {
    const a = Address.parse("amqp://:pw@host/q");
    assert.equal(a.username, undefined);
    assert.equal(a.password, "pw");
    assert.equal(a.credentials(), undefined);
    const b = Address.parse("amqp://user@host/q");
    assert.equal(b.username, "user");
    assert.equal(b.password, undefined);
    assert.equal(b.credentials(), undefined);
    assert.equal(Address.parse("amqp://user:@host/q").password, undefined);
  });

  it("has no credentials without userinfo (SASL ANONYMOUS)", () => {
    const a = Address.parse("amqps://host/q");
    assert.equal(a.username, undefined);
    assert.equal(a.password, undefined);
    assert.equal(a.credentials(), undefined);
  });

  it("handles IPv6 literals", () => {
    const a = Address.parse("amqp://[::1]:5673/q");
    assert.equal(a.hostname, "::1");
    assert.equal(a.port, 5673);
    assert.equal(a.linkAddress, "q");
    assert.equal(a.endpoint().hostname, "::1");
  });

  it("keeps the path as written and drops the fragment", () => {
    const a = Address.parse("amqps://h/hub/ConsumerGroups/$Default/Partitions/0#frag");
    assert.equal(a.path, "/hub/ConsumerGroups/$Default/Partitions/0");
    assert.equal(a.linkAddress, "/hub/ConsumerGroups/$Default/Partitions/0");
    assert.equal(Address.parse("amqp://h/a%20b").path, "/a%20b");
    assert.equal(Address.parse("amqp://h/a%20b").linkAddress, "a%20b");
  });

  it("accepts surrounding whitespace", () => {
    assert.equal(Address.parse("  amqp://h/q \n").linkAddress, "q");
  });

  it("builds the subclass from the static factories", () => {
    assert.ok(Source.parse("amqp://h/q") instanceof Source);
    assert.ok(Target.parse("amqp://h/q") instanceof Target);
    assert.ok(Source.node("q") instanceof Source);
    assert.ok(Target.node("q") instanceof Target);
  });
});

describe("Address: choosing the link address", () => {
  it("uses the linkAddress option", () => {
    const t = new Target("amqp://guest:guest@localhost:5672/queues/orders", {
      linkAddress: "/queues/orders",
    });
    assert.equal(t.linkAddress, "/queues/orders");
    assert.equal(t.hostname, "localhost");
    assert.equal(t.toTerminus().address, "/queues/orders");
  });

  it("builds node-name addresses without a host", () => {
    const t = Target.node("/queue/name");
    assert.equal(t.isNode, true);
    assert.equal(t.linkAddress, "/queue/name");
    assert.equal(t.scheme, "");
    assert.equal(t.hostname, "");
    assert.equal(t.defaultPort, undefined);
    assert.equal(t.credentials(), undefined);
    assert.equal(t.wireAddress, "/queue/name");
    assert.equal(String(t), "/queue/name");
    assert.throws(
      () => t.endpoint(),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === "no-host",
    );
    assert.equal(Address.parse("amqp://h/q").isNode, false);
  });

  it("sends no address for an empty node name (dynamic terminus)", () => {
    const s = Source.node("");
    s.dynamic = true;
    const f = s.toTerminus();
    assert.equal(f.address, undefined);
    assert.equal(f.dynamic, true);
  });
});

describe("Address: bad addresses raise InvalidAddressError without the password", () => {
  it("not a URL", () => {
    expectInvalid("myqueue", "not-a-url");
    const e = expectInvalid(`amqps//user:${SECRET}@host/q`, "not-a-url");
    assert.match(e.message, /Address\.node/);
    expectInvalid("", "not-a-url");
    assert.throws(
      () => new Address(42 as unknown as string),
      (err: unknown) => err instanceof InvalidAddressError && err.reason === "not-a-url",
    );
  });

  it("unsupported scheme", () => {
    const e = expectInvalid(`http://user:${SECRET}@host/q`, "unsupported-scheme");
    assert.match(e.message, /user:\*\*\*@host/);
    expectInvalid("amqpx://host/q", "unsupported-scheme");
  });

  it("no host", () => {
    expectInvalid("amqps:///q", "no-host");
    expectInvalid(`amqps://user:${SECRET}@/q`, "no-host");
    expectInvalid(`amqps://user:${SECRET}@:5671/q`, "no-host");
    expectInvalid("amqp://[::1/q", "no-host");
    expectInvalid("amqp://bad host/q", "no-host");
  });

  it("invalid port", () => {
    expectInvalid(`amqps://user:${SECRET}@host:99999/q`, "invalid-port");
    expectInvalid(`amqps://user:${SECRET}@host:56x/q`, "invalid-port");
  });

  it("no path", () => {
    const e = expectInvalid(`amqps://user:${SECRET}@host:5671`, "no-path");
    assert.equal(e.message, 'Invalid address "amqps://user:***@host:5671": it has no path (the node name)');
    expectInvalid(`amqps://user:${SECRET}@host?x=1`, "no-path");
    expectInvalid("amqps://host#frag", "no-path");
  });

  it("hides a password with an unencoded slash", () => {
    const e = expectInvalid(`amqps://user:ab/${SECRET}@host/q`, "invalid-port");
    assert.ok(!e.message.includes("ab"), e.message);
    const a = Address.parse(`amqps://user:12/${SECRET}@host/q`);
    assert.equal(String(a), `***@host/q`);
    assert.ok(!inspect(a).includes(SECRET));
  });

  it("accepts a root path, as uamqp does (no address is sent for it)", () => {
    const root = Target.parse("amqp://h/");
    assert.equal(root.linkAddress, "");
    assert.equal(root.toTerminus().address, undefined);
    assert.equal(
      Target.parse("amqps://ns.servicebus.windows.net/").linkAddress,
      "amqps://ns.servicebus.windows.net/",
    );
  });
});

describe("The link address rule (docs/addresses.md)", () => {
  it("gives what the table in docs/addresses.md says, row by row", () => {
    const doc = readFileSync(new URL("../../docs/addresses.md", import.meta.url), "utf8");
    const table = /\| URL \| link address sent \| accepted by \|\n\|[-| ]+\|\n((?:\|.*\|\n)+)/.exec(doc)?.[1];
    assert.ok(table, "the table is in docs/addresses.md");
    const rows = table.trimEnd().split("\n");
    assert.ok(rows.length >= 10, `${rows.length} rows`);
    for (const row of rows) {
      const [url, sent] = row
        .split("|")
        .slice(1, 3)
        .map((c) => c.trim().replace(/^`|`$/g, ""));
      const expected = sent === "(none)" ? "" : sent;
      const t = Target.parse(url!);
      assert.equal(t.linkAddress, expected, url);
      assert.equal(t.toTerminus().address, expected === "" ? undefined : expected, url);
    }
  });

  it("keeps the path as written for other hosts: one segment without its slash, more segments whole", () => {
    assert.equal(Target.parse("amqp://h/q?x=1#f").linkAddress, "q");
    assert.equal(Target.parse("amqp://h/a/b").linkAddress, "/a/b");
    assert.equal(Target.parse("amqp://h//q").linkAddress, "//q");
    assert.equal(Target.parse("amqp://h/q/").linkAddress, "/q/");
    assert.equal(Target.parse("amqp://h/queues/a%2Fb").linkAddress, "/queues/a%2Fb");
    assert.equal(Target.parse("amqps://[::1]:5671/exchange/x/k").linkAddress, "/exchange/x/k");
  });

  it("recognises Azure hosts by their whole suffix only", () => {
    for (const host of [
      "ns.servicebus.windows.net",
      "NS.ServiceBus.Windows.Net",
      "ns.servicebus.windows.net.",
      "ns.servicebus.chinacloudapi.cn",
      "ns.servicebus.usgovcloudapi.net",
      "ns.servicebus.cloudapi.de",
      "hub.azure-devices.net",
      "hub.azure-devices.cn",
      "hub.azure-devices.us",
      "hub.azure-devices.de",
    ]) {
      assert.equal(isAzureHost(host.toLowerCase()), true, host);
      const a = Target.parse(`amqps://u:p@${host}:5671/q?x=1`);
      assert.equal(a.linkAddress, `amqps://${host.toLowerCase()}/q`, host);
    }
    for (const host of [
      "servicebus.windows.net",
      "ns.servicebus.windows.net.example.com",
      "nsservicebus.windows.net",
      "localhost",
      "azure-devices.net",
    ]) {
      assert.equal(isAzureHost(host), false, host);
    }
    assert.deepEqual(
      AZURE_HOST_SUFFIXES.filter((s) => !s.startsWith(".")),
      [],
    );
  });

  it("sends Azure URLs with the amqp or amqps scheme only", () => {
    assert.equal(
      Source.parse("ws://ns.servicebus.windows.net/hub").linkAddress,
      "amqp://ns.servicebus.windows.net/hub",
    );
    assert.equal(
      Source.parse("wss://ns.servicebus.windows.net/hub").linkAddress,
      "amqps://ns.servicebus.windows.net/hub",
    );
    assert.equal(
      Source.parse("amqp://ns.servicebus.windows.net/hub").linkAddress,
      "amqp://ns.servicebus.windows.net/hub",
    );
  });

  it("the linkAddress option wins over the rule, for any host", () => {
    assert.equal(new Target("amqps://ns.servicebus.windows.net/q", { linkAddress: "q" }).linkAddress, "q");
    assert.equal(new Target("amqp://localhost/q", { linkAddress: "queue://q" }).linkAddress, "queue://q");
  });

  it("decides URL or node name in one place: Address.from", () => {
    const url = Target.from("amqp://localhost:5672/queue/orders");
    assert.ok(url instanceof Target);
    assert.equal(url.isNode, false);
    assert.equal(url.hostname, "localhost");
    assert.equal(url.linkAddress, "/queue/orders");
    for (const name of ["$management", "orders", "/queue/orders", "queue://orders", ""]) {
      const node = Source.from(name);
      assert.ok(node instanceof Source);
      assert.equal(node.isNode, true, name);
      assert.equal(node.linkAddress, name);
    }
    assert.equal(isAddressUrl("sb://ns.servicebus.windows.net/q"), true);
    assert.throws(
      () => Target.from("sb://ns.servicebus.windows.net/q"),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === "unsupported-scheme",
    );
  });
});
