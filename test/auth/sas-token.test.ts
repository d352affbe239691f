/**
 * createSASToken on its own: the token's fields, the signature recomputed independently
 * (HMAC-SHA256 of "<sr>\n<se>" with the key's bytes), expiry arithmetic, and the typed errors for bad
 * arguments. Byte identity with Python uamqp is in sas-token-uamqp.test.ts.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { afterEach, describe, it, mock } from "node:test";
import { createSASToken, DEFAULT_SAS_EXPIRY_MS } from "../../src/index.js";

const NOW_MS = 1_750_000_000_999;
const NOW_S = 1_750_000_000;

function fields(token: string): Map<string, string> {
  assert.ok(token.startsWith("SharedAccessSignature "), token);
  return new Map(
    token
      .slice("SharedAccessSignature ".length)
      .split("&")
      .map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)] as [string, string]),
  );
}

describe("createSASToken", () => {
  afterEach(() => mock.restoreAll());

  it("sr, sig, se, skn in uamqp's order; sig = base64(HMAC-SHA256(key, sr \\n se)), URL-encoded", () => {
    mock.method(Date, "now", () => NOW_MS);
    const uri = "sb://ns.servicebus.windows.net/hub";
    const sr = encodeURIComponent(uri);
    const token = createSASToken("key", "secret", sr, 3_600_000);
    assert.match(token, /^SharedAccessSignature sr=[^&]+&sig=[^&]+&se=\d+&skn=key$/);
    const f = fields(token);
    assert.equal(f.get("sr"), sr);
    assert.equal(f.get("se"), String(NOW_S + 3600));
    assert.equal(f.get("skn"), "key");
    const expected = createHmac("sha256", "secret")
      .update(`${sr}\n${NOW_S + 3600}`)
      .digest("base64");
    assert.equal(decodeURIComponent(f.get("sig")!), expected);
  });

  it("escapes + / = of the signature with lowercase hex, like the C library", () => {
    mock.method(Date, "now", () => NOW_MS);
    // Find keys whose signatures hold each character, then check the escapes.
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 3; i++) {
      const token = createSASToken("k", `key${i}`, "scope", 60_000);
      const sig = fields(token).get("sig")!;
      assert.doesNotMatch(sig, /[+/=]|%2B|%2F|%3D/, "no raw or uppercase escapes");
      for (const e of ["%2b", "%2f", "%3d"]) if (sig.includes(e)) seen.add(e);
      const raw = createHmac("sha256", `key${i}`)
        .update(`scope\n${NOW_S + 60}`)
        .digest("base64");
      assert.equal(sig, raw.replace(/\+/g, "%2b").replace(/\//g, "%2f").replace(/=/g, "%3d"));
    }
    assert.equal(seen.size, 3);
  });

  it("a string key is used as its UTF-8 bytes (not base64-decoded); bytes are used as they are", () => {
    mock.method(Date, "now", () => NOW_MS);
    const key = "Zm9vYmFy+/=";
    assert.equal(
      createSASToken("n", key, "s", 10_000),
      createSASToken("n", Buffer.from(key, "utf8"), "s", 10_000),
    );
    assert.notEqual(
      createSASToken("n", key, "s", 10_000),
      createSASToken("n", Buffer.from(key, "base64"), "s", 10_000),
    );
    const view = new Uint8Array(Buffer.from("xxkeyxx")).subarray(2, 5);
    assert.equal(createSASToken("n", view, "s", 10_000), createSASToken("n", "key", "s", 10_000));
  });

  it("default expiry is one hour; fractions of a second are dropped; a day or more is kept whole", () => {
    mock.method(Date, "now", () => NOW_MS);
    assert.equal(DEFAULT_SAS_EXPIRY_MS, 3_600_000);
    assert.equal(fields(createSASToken("n", "k", "s")).get("se"), String(NOW_S + 3600));
    assert.equal(fields(createSASToken("n", "k", "s", 1999)).get("se"), String(NOW_S + 1));
    assert.equal(fields(createSASToken("n", "k", "s", 3 * 86_400_000)).get("se"), String(NOW_S + 3 * 86_400));
  });

  it("scope and key name are inserted verbatim (the caller encodes them)", () => {
    const f = fields(createSASToken("a b", "k", "x y/é", 60_000));
    assert.equal(f.get("sr"), "x y/é");
    assert.equal(f.get("skn"), "a b");
  });

  it("bad arguments: TypeError / RangeError, never a token", () => {
    assert.throws(() => createSASToken("", "k", "s"), TypeError);
    assert.throws(() => createSASToken("n", "", "s"), /the key is empty/);
    assert.throws(() => createSASToken("n", new Uint8Array(0), "s"), TypeError);
    assert.throws(() => createSASToken("n", "k", ""), TypeError);
    assert.throws(() => createSASToken("n", 42 as unknown as string, "s"), TypeError);
    assert.throws(() => createSASToken("n", "bad\uD800", "s"), /lone UTF-16 surrogate/);
    assert.throws(() => createSASToken("n", "k", "s", 999), RangeError);
    assert.throws(() => createSASToken("n", "k", "s", Number.NaN), RangeError);
    assert.throws(() => createSASToken("n", "k", "s", Infinity), RangeError);
    assert.throws(() => createSASToken("n", "k", "s", -5000), RangeError);
  });
});
