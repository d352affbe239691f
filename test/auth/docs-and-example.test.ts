/**
 * docs/auth.md and examples/token-auth.ts as a user meets them: the @azure/identity adapter line of
 * the docs type-checks against `@azure/core-auth`'s `TokenCredential` and works (a credential class
 * written against that interface stands in for the identity service); the example runs and prints
 * its fields without the key or a token.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { AccessToken as CoreAccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { JWTTokenAuth, type GetTokenCallback } from "../../src/index.js";

const root = new URL("../../", import.meta.url).pathname;
const docs = readFileSync(`${root}docs/auth.md`, "utf8");

/** A TokenCredential as @azure/identity implements it, recording its calls. */
class RecordingCredential implements TokenCredential {
  readonly calls: { scopes: string | string[]; options: GetTokenOptions | undefined }[] = [];
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<CoreAccessToken | null> {
    this.calls.push({ scopes, options });
    return Promise.resolve({
      token: `entra-token-${this.calls.length}`,
      expiresOnTimestamp: Date.now() + 3_600_000,
      refreshAfterTimestamp: Date.now() + 1_800_000,
      tokenType: "Bearer",
    });
  }
}

describe("docs/auth.md: the @azure/identity adapter", () => {
  it("the documented line compiles against TokenCredential and passes scope and abortSignal through", async () => {
    const recorder = new RecordingCredential();
    const credential: TokenCredential = recorder;
    const uri = "sb://my-ns.servicebus.windows.net/orders";
    const scope = "https://servicebus.azure.net//.default";
    // The line of the docs, verbatim (checked below).
    const auth = new JWTTokenAuth(uri, uri, (options) => credential.getToken(scope, options));
    const line = "const auth = new JWTTokenAuth(uri, uri, (options) => credential.getToken(scope, options));";
    assert.ok(docs.includes(line), "docs/auth.md shows the adapter line tested here");
    assert.ok(docs.includes(`const scope = "${scope}";`));

    const t = await auth.getToken();
    assert.equal(t.token, "entra-token-1");
    const calls = recorder.calls;
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.scopes, scope);
    assert.ok(calls[0]!.options?.abortSignal instanceof AbortSignal);
    assert.ok(auth.refreshAtMs()! <= Date.now() + 1_800_000, "refreshAfterTimestamp honoured");
    // A credential's getToken is itself a GetTokenCallback once the scope is bound.
    const callback: GetTokenCallback = (options) => credential.getToken(scope, options);
    assert.equal(typeof callback, "function");
  });
});

describe("examples/token-auth.ts", () => {
  it("runs with the emulator's string and a given one, printing no key and no token", () => {
    const key = "Ex4mpleKey+/=";
    for (const args of [
      [],
      [
        `Endpoint=sb://my-ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=${key}`,
        "orders",
      ],
    ]) {
      const r = spawnSync(process.execPath, ["--import", "tsx", "examples/token-auth.ts", ...args], {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      const out = r.stdout;
      assert.match(
        out,
        /address: (amqp:\/\/localhost:5672\/queue\.1 \(emulator|amqps:\/\/my-ns\.servicebus\.windows\.net:5671\/orders \(TLS)/,
      );
      assert.match(out, /token type: {2}servicebus\.windows\.net:sastoken/);
      assert.match(out, /SASL: {8}(MSSBCBS, )?ANONYMOUS/);
      assert.match(out, /token: '<redacted>'/);
      for (const secret of [
        key,
        "SAS_KEY_VALUE",
        "SharedAccessSignature",
        "a JWT from your identity provider",
        "sig=",
      ]) {
        assert.ok(!out.includes(secret), `${secret} printed:\n${out}`);
      }
    }
  });
});
