/**
 * parseConnectionString and authFromConnectionString: Azure's strings and the emulator's, keys kept
 * intact, case-insensitive keys, the SAS auth and address a client needs, and a typed error (never
 * echoing a secret) for each malformed input.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it, mock } from "node:test";
import {
  authFromConnectionString,
  ConnectionStringError,
  parseConnectionString,
  SASTokenAuth,
  TokenExpired,
  TransportType,
  type ConnectionStringErrorReason,
} from "../../src/index.js";

const KEY = "2hSLwe9vKxmXvP0Wm8QyH4fH5nU4g6m2Lk3QYqR+4G0=";
const AZURE = `Endpoint=sb://my-ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${KEY}`;
const EMULATOR =
  "Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true";

function rejects(input: unknown, reason: ConnectionStringErrorReason, secret?: string): void {
  assert.throws(
    () => parseConnectionString(input as string),
    (e: unknown) => {
      assert.ok(e instanceof ConnectionStringError, String(e));
      assert.equal(e.reason, reason);
      assert.equal(e.code, "AMQP_INVALID_CONNECTION_STRING");
      if (secret !== undefined) assert.ok(!e.message.includes(secret), e.message);
      return true;
    },
  );
}

describe("parseConnectionString", () => {
  it("an Azure portal string: fields, key with + / = intact", () => {
    const p = parseConnectionString(`${AZURE};EntityPath=orders`);
    assert.equal(p.endpoint, "sb://my-ns.servicebus.windows.net/");
    assert.equal(p.host, "my-ns.servicebus.windows.net");
    assert.equal(p.port, undefined);
    assert.equal(p.sharedAccessKeyName, "RootManageSharedAccessKey");
    assert.equal(p.sharedAccessKey, KEY);
    assert.equal(p.sharedAccessSignature, undefined);
    assert.equal(p.entityPath, "orders");
    assert.equal(p.useDevelopmentEmulator, false);
    assert.deepEqual(p.otherProperties, {});
  });

  it("the emulator's string: host, port, UseDevelopmentEmulator", () => {
    const p = parseConnectionString(EMULATOR);
    assert.equal(p.host, "127.0.0.1");
    assert.equal(p.port, 5673);
    assert.equal(p.sharedAccessKey, "SAS_KEY_VALUE");
    assert.equal(p.useDevelopmentEmulator, true);
    assert.equal(parseConnectionString(EMULATOR.replace("=true", "=FALSE")).useDevelopmentEmulator, false);
  });

  it("keys are case-insensitive; spaces around parts and empty parts are ignored; unknown keys kept", () => {
    const p = parseConnectionString(
      ` endpoint = sb://ns.servicebus.windows.net ; sharedaccesskeyname=n;SHAREDACCESSKEY=${KEY};; entitypath=q ;TransportType=AmqpWebSockets;`,
    );
    assert.equal(p.endpoint, "sb://ns.servicebus.windows.net");
    assert.equal(p.sharedAccessKeyName, "n");
    assert.equal(p.sharedAccessKey, KEY);
    assert.equal(p.entityPath, "q");
    assert.deepEqual(p.otherProperties, { TransportType: "AmqpWebSockets" });
  });

  it("SharedAccessSignature: the whole token, its own = and & intact", () => {
    const sas =
      "SharedAccessSignature sr=sb%3a%2f%2fns.servicebus.windows.net%2f&sig=abc%2b%3d&se=4102444800&skn=n";
    const p = parseConnectionString(`Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=${sas}`);
    assert.equal(p.sharedAccessSignature, sas);
    assert.equal(p.sharedAccessKey, undefined);
  });

  it("a bare host as Endpoint; IPv6 endpoints", () => {
    assert.equal(
      parseConnectionString(`Endpoint=ns.servicebus.windows.net;SharedAccessSignature=x`).host,
      "ns.servicebus.windows.net",
    );
    const v6 = parseConnectionString("Endpoint=sb://[::1]:5672;SharedAccessSignature=x");
    assert.equal(v6.host, "::1");
    assert.equal(v6.port, 5672);
  });

  it("the key and signature are not shown when the result is logged", () => {
    const p = parseConnectionString(AZURE);
    assert.ok(!JSON.stringify(p).includes(KEY));
    assert.ok(!JSON.stringify({ ...p }).includes(KEY));
    assert.equal(Object.keys(p).includes("sharedAccessKey"), false);
    assert.ok(Object.isFrozen(p));
  });

  it("malformed input: ConnectionStringError with a reason, never the secret in the message", () => {
    rejects(undefined, "not-a-string");
    rejects(42, "not-a-string");
    rejects("", "no-endpoint");
    rejects(`${AZURE};Oops`, "malformed-part");
    rejects(`${AZURE};=value`, "malformed-part");
    rejects(`Endpoint=sb://a/;SharedAccessKeyName=n;SharedAccessKeyabc+/x`, "malformed-part", "abc+/x");
    // A missing '=' before a base64 key that ends in '=': the part parses as an unknown key, and
    // the string lacks its SharedAccessKey.
    rejects(`Endpoint=sb://a/;SharedAccessKeyName=n;SharedAccessKey${KEY}`, "incomplete-key", KEY);
    rejects(`${AZURE};sharedaccesskey=${KEY}`, "duplicate-key", KEY);
    rejects(`SharedAccessKeyName=n;SharedAccessKey=${KEY}`, "no-endpoint", KEY);
    rejects(`Endpoint=sb://;SharedAccessKeyName=n;SharedAccessKey=${KEY}`, "invalid-endpoint", KEY);
    rejects(`Endpoint=;SharedAccessKeyName=n;SharedAccessKey=${KEY}`, "invalid-value", KEY);
    rejects(`Endpoint=sb://a/;SharedAccessKeyName=n;SharedAccessKey=`, "invalid-value");
    rejects(`${AZURE};UseDevelopmentEmulator=yes`, "invalid-value", KEY);
    rejects(`Endpoint=sb://a/;SharedAccessKey=${KEY}`, "incomplete-key", KEY);
    rejects(`Endpoint=sb://a/;SharedAccessKeyName=n`, "incomplete-key");
    rejects(
      `${AZURE};SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1&skn=n`,
      "conflicting-credentials",
      KEY,
    );
  });
});

describe("authFromConnectionString", () => {
  afterEach(() => mock.restoreAll());

  it("Azure: amqps to the endpoint's host on 5671, a SAS auth from the key, audience sb://host/entity", () => {
    const info = authFromConnectionString(AZURE, { entityPath: "orders" });
    assert.equal(info.scheme, "amqps");
    assert.equal(info.host, "my-ns.servicebus.windows.net");
    assert.equal(info.port, 5671);
    assert.equal(info.entityPath, "orders");
    assert.equal(info.address, "amqps://my-ns.servicebus.windows.net:5671/orders");
    assert.equal(info.useDevelopmentEmulator, false);
    assert.ok(info.auth instanceof SASTokenAuth);
    assert.equal(info.auth.hostname, "my-ns.servicebus.windows.net");
    assert.equal(info.auth.tls, true);
    assert.equal(info.auth.audience, "sb://my-ns.servicebus.windows.net/orders");
    assert.equal(info.auth.keyName, "RootManageSharedAccessKey");
    assert.equal(info.auth.canRefresh, true);
    assert.equal(
      info.auth.token,
      SASTokenAuth.fromSharedAccessKey(info.auth.audience, "RootManageSharedAccessKey", KEY).token,
    );
  });

  it("the emulator: plain TCP (amqp://) to the endpoint's host and port; 5672 when it names none", () => {
    const info = authFromConnectionString(`${EMULATOR};EntityPath=queue.1`);
    assert.equal(info.scheme, "amqp");
    assert.equal(info.port, 5673);
    assert.equal(info.auth.tls, false);
    assert.equal(info.auth.port, 5673);
    assert.equal(info.address, "amqp://127.0.0.1:5673/queue.1");
    const noPort = authFromConnectionString(EMULATOR.replace(":5673", ""));
    assert.equal(noPort.port, 5672);
    assert.equal(noPort.address, undefined, "no entity path, no address");
    assert.equal(noPort.auth.audience, "sb://127.0.0.1/");
  });

  it("EntityPath and the option must agree; entity paths keep $ and / and escape what breaks a URL", () => {
    assert.throws(
      () => authFromConnectionString(`${AZURE};EntityPath=a`, { entityPath: "b" }),
      (e: unknown) => e instanceof ConnectionStringError && e.reason === "entity-path-mismatch",
    );
    assert.equal(authFromConnectionString(`${AZURE};EntityPath=a`, { entityPath: "a" }).entityPath, "a");
    const info = authFromConnectionString(AZURE, { entityPath: "hub/ConsumerGroups/$Default/Partitions/0" });
    assert.equal(
      info.address,
      "amqps://my-ns.servicebus.windows.net:5671/hub/ConsumerGroups/$Default/Partitions/0",
    );
    assert.equal(
      authFromConnectionString(AZURE, { entityPath: "a b#c" }).address?.endsWith("/a%20b%23c"),
      true,
    );
  });

  it("a SharedAccessSignature string: a SAS auth with that token (expiry from se=), not renewable", () => {
    const se = Math.floor(Date.now() / 1000) + 600;
    const sas = `SharedAccessSignature sr=x&sig=y&se=${se}&skn=n`;
    const info = authFromConnectionString(
      `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=${sas}`,
    );
    assert.equal(info.auth.token, sas);
    assert.equal(info.auth.expiresAtMs, se * 1000);
    assert.equal(info.auth.canRefresh, false);
    const expired = `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=x&sig=y&se=1000&skn=n`;
    assert.throws(() => authFromConnectionString(expired), TokenExpired);
  });

  it("no credentials: ConnectionStringError no-credentials", () => {
    assert.throws(
      () => authFromConnectionString("Endpoint=sb://ns.servicebus.windows.net/"),
      (e: unknown) => e instanceof ConnectionStringError && e.reason === "no-credentials",
    );
  });

  it("the options' expiry, CBS settings and transport settings reach the auth and the address", () => {
    mock.method(Date, "now", () => 1_800_000_000_000);
    const info = authFromConnectionString(AZURE, {
      entityPath: "hub",
      expiry: 120_000,
      refreshWindow: 30_000,
      timeout: 2000,
      type: TransportType.AmqpOverWebsocket,
    });
    assert.equal(info.auth.expiresAtMs, 1_800_000_120_000);
    assert.equal(info.auth.refreshAtMs(), 1_800_000_090_000);
    assert.equal(info.auth.timeout, 2000);
    assert.equal(info.scheme, "wss");
    assert.equal(info.port, 443);
    assert.equal(info.address, "wss://my-ns.servicebus.windows.net:443/hub");
    const plain = authFromConnectionString(AZURE, { tls: false, port: 5672 });
    assert.equal(plain.scheme, "amqp");
    assert.equal(plain.port, 5672);
  });
});
