/**
 * Secrets stay secret: no token, key, signature or password appears in `util.inspect` (any depth,
 * with hidden properties), `toString()`, `String()`, template strings or `JSON.stringify` of an auth
 * object (and of its `withHost` copies), of a connection-string result, or of the errors the auth
 * module raises.
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import {
  authFromConnectionString,
  JWTTokenAuth,
  parseConnectionString,
  SASLPlain,
  SASTokenAuth,
  type AMQPAuth,
} from "../../src/index.js";

const KEY = "S3cr3tKey+/=Zm9vYmFy";
const PROXY_PASSWORD = "proxy-pa55word";
const TLS_PASSPHRASE = "tls-passphrase-xyz";
const JWT = "eyJhbGciOiJSUzI1NiJ9.secret-payload.secret-signature";
const URI = "sb://ns.servicebus.windows.net/orders";

/** Every rendering of `value` a log line might contain. */
function renderings(value: unknown): string[] {
  return [
    inspect(value),
    inspect(value, { depth: Infinity, showHidden: true, getters: true }),
    inspect({ nested: { value } }, { depth: Infinity }),
    JSON.stringify(value),
    JSON.stringify({ value }),
    String(value),
    `<${String(value)}>`,
  ];
}

function assertNoSecrets(value: unknown, secrets: readonly string[]): void {
  for (const text of renderings(value)) {
    for (const secret of secrets) assert.ok(!text.includes(secret), `"${secret}" leaked in:\n${text}`);
  }
}

/** Secrets of a token: the whole string and its signature. */
function tokenSecrets(token: string | undefined): string[] {
  assert.ok(token !== undefined);
  const sig = /&sig=([^&]+)/.exec(token)?.[1];
  return sig === undefined ? [token] : [token, sig, decodeURIComponent(sig)];
}

describe("no secret in inspect, JSON or toString", () => {
  it("SASTokenAuth.fromSharedAccessKey with a proxy password and TLS secrets, and its withHost copy", () => {
    const auth = SASTokenAuth.fromSharedAccessKey(URI, "RootManageSharedAccessKey", KEY, {
      proxy: { host: "proxy.local", port: 3128, username: "proxyuser", password: PROXY_PASSWORD },
      passphrase: TLS_PASSPHRASE,
      key: "-----BEGIN PRIVATE KEY-----tlskey",
      tls: { passphrase: TLS_PASSPHRASE },
      tlsOptions: { passphrase: TLS_PASSPHRASE },
    });
    const secrets = [KEY, PROXY_PASSWORD, TLS_PASSPHRASE, "tlskey", ...tokenSecrets(auth.token)];
    assertNoSecrets(auth, secrets);
    assertNoSecrets(auth.withHost("other.example"), secrets);
    // What is shown is useful: the non-secret settings.
    const shown = inspect(auth);
    assert.match(shown, /^SASTokenAuth \{/);
    for (const visible of [
      "ns.servicebus.windows.net",
      "RootManageSharedAccessKey",
      "proxyuser",
      "<redacted>",
    ]) {
      assert.ok(shown.includes(visible), visible);
    }
    assert.equal(String(auth), "SASTokenAuth(ns.servicebus.windows.net:443)");
    assert.equal(JSON.parse(JSON.stringify(auth)).token, "<redacted>");
  });

  it("SASTokenAuth with the key in the uri: the password is masked in uri and audience", () => {
    const uri = `sb://RootManageSharedAccessKey:${encodeURIComponent(KEY)}@ns.servicebus.windows.net/orders`;
    const auth = new SASTokenAuth(uri, uri, "SharedAccessSignature sr=a&sig=b&se=4102444800&skn=n");
    assertNoSecrets(auth, [KEY, encodeURIComponent(KEY), "sig=b"]);
    assert.ok(inspect(auth).includes("RootManageSharedAccessKey:<redacted>@ns.servicebus.windows.net"));
  });

  it("JWTTokenAuth after a token arrived", async () => {
    const auth = new JWTTokenAuth(URI, URI, () => ({ token: JWT, expiresOnTimestamp: Date.now() + 60_000 }));
    await auth.getToken();
    assert.equal(auth.token, JWT, "the token is there for whoever asks");
    assertNoSecrets(auth, [JWT, "secret-payload", "secret-signature"]);
  });

  it("SASLPlain and the other SASL auths: no password (now also through JSON and the transport)", () => {
    const auth: AMQPAuth = new SASLPlain("broker.example", "user", "pl41n-password", {
      proxy: { host: "p", port: 1, password: PROXY_PASSWORD },
    });
    assertNoSecrets(auth, ["pl41n-password", PROXY_PASSWORD]);
    assert.ok(inspect(auth).includes("user"));
  });

  it("connection-string results: the parsed properties and the info with its auth", () => {
    const cs = `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=n;SharedAccessKey=${KEY};EntityPath=q`;
    assertNoSecrets(parseConnectionString(cs), [KEY]);
    const info = authFromConnectionString(cs);
    assertNoSecrets(info, [KEY, ...tokenSecrets(info.auth.token)]);
    const sas = "SharedAccessSignature sr=a&sig=T0pS3cr3tSig&se=4102444800&skn=n";
    const withSignature = `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=${sas}`;
    assertNoSecrets(parseConnectionString(withSignature), ["T0pS3cr3tSig"]);
    assertNoSecrets(authFromConnectionString(withSignature), ["T0pS3cr3tSig"]);
  });

  it("errors raised by the auth module carry no secret", async () => {
    const errors: unknown[] = [];
    const collect = (f: () => unknown): void => {
      try {
        f();
      } catch (e) {
        errors.push(e);
      }
    };
    collect(() => parseConnectionString(`Endpoint=sb://a/;SharedAccessKeyName=n;SharedAccessKey${KEY}`));
    collect(() => parseConnectionString(`Endpoint=sb://a/;SharedAccessKey=${KEY}`));
    collect(() => parseConnectionString(`Endpoint=sb://a/;SharedAccessKey=${KEY};sharedaccesskey=${KEY}`));
    collect(() => new SASTokenAuth(URI, `sb://n:${KEY}@`, "t", { expiresIn: 5000 }));
    collect(() => new SASTokenAuth(URI, URI, `SharedAccessSignature sr=a&sig=${KEY}&se=1&skn=n`));
    collect(() => SASTokenAuth.fromSharedAccessKey(URI, "n", KEY, { expiry: 1 }));
    const jwt = new JWTTokenAuth(URI, URI, () => ({ token: JWT, expiresOnTimestamp: 5 }));
    await jwt.getToken().catch((e: unknown) => errors.push(e));
    assert.equal(errors.length, 7);
    for (const e of errors) {
      assert.ok(e instanceof Error);
      assertNoSecrets(e, [KEY, encodeURIComponent(KEY), JWT]);
      assert.ok(!(e.stack ?? "").includes(KEY));
    }
  });
});
