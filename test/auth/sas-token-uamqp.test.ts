/**
 * Byte identity with Python uamqp (Debian python3-uamqp): `createSASToken` and
 * `SASTokenAuth.fromSharedAccessKey` make the same token string as uamqp's `utils.create_sas_token`
 * and `SASTokenAuth.from_shared_access_key` for the same inputs at the same second. Both clocks are
 * fixed: Python's `time.time` is replaced in test/auth/python/uamqp_sas_tokens.py, ours (`Date.now`)
 * is mocked. The fixed time lies in 2100 because uamqp's C layer checks a token against the real
 * clock and refuses one that has expired.
 *
 * Skipped locally when python3-uamqp is missing; a failure under CI=true (test/support/peers.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it, mock } from "node:test";
import { createSASToken, SASTokenAuth } from "../../src/index.js";
import { peerSkip, runPython } from "../support/peers.js";

const SCRIPT = readFileSync(new URL("./python/uamqp_sas_tokens.py", import.meta.url), "utf8");
/** 2100-01-01T00:00:00.750Z: a fraction of a second, which both sides drop. */
const NOW_MS = 4_102_444_800_750;
const NOW_S = Math.floor(NOW_MS / 1000);
const DAY_MS = 86_400_000;

type Case =
  | { kind: "create_sas_token"; keyName: string; key: string | Buffer; scope: string; expiryMs: number }
  | { kind: "from_shared_access_key"; uri: string; keyName: string; key: string; expiryMs: number }
  | { kind: "c_create_sas_token"; keyName: string; key: string | Buffer; scope: string; se: number };

interface PythonResult {
  token: string;
  audience?: string;
  hostname?: string;
}

/** Keys with `+`, `/` and `=`, as Azure shows them, and others. */
const AZURE_KEY = "2hSLwe9vKxmXvP0Wm8QyH4fH5nU4g6m2Lk3QYqR+4G0=";
const KEYS = [AZURE_KEY, "abc+/==", "Zm9v/YmFy+YmF6==", "ключ ü", "SAS_KEY_VALUE"];
const URIS = [
  "sb://ns.servicebus.windows.net/hub",
  "sb://ns.servicebus.windows.net/hub name!'()*~é?x=1&y=2#frag",
  "amqps://my-ns.servicebus.windows.net:5671/topic/Subscriptions/$Default",
  "sb://127.0.0.1:5672/queue with spaces/a+b=c",
];
const KEY_NAMES = ["RootManageSharedAccessKey", "Root Key+/=", "send-only_policy.1~"];
/** Under a day: uamqp keeps these whole (it reads `timedelta.seconds`, see the ≥ 1 day case). */
const EXPIRIES = [3_600_000, 60_000, 7_500, DAY_MS - 1000, 1000];

function keyB64(key: string | Buffer): string {
  return (typeof key === "string" ? Buffer.from(key, "utf8") : key).toString("base64");
}

const cases: Case[] = [];
for (const [i, uri] of URIS.entries()) {
  for (const [j, key] of KEYS.entries()) {
    const keyName = KEY_NAMES[(i + j) % KEY_NAMES.length]!;
    const expiryMs = EXPIRIES[(i * KEYS.length + j) % EXPIRIES.length]!;
    cases.push({ kind: "from_shared_access_key", uri, keyName, key, expiryMs });
    cases.push({ kind: "create_sas_token", keyName, key, scope: encodeURIComponent(uri), expiryMs });
  }
}
// Raw key bytes (NUL, 0xff…), a scope inserted verbatim, the default expiry of one hour.
const rawKey = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x2b, 0x2f, 0x3d, 0x7f, 0xc3, 0xa9]);
cases.push({
  kind: "create_sas_token",
  keyName: "raw",
  key: rawKey,
  scope: "my scope/é",
  expiryMs: 3_600_000,
});

let results: PythonResult[] = [];

async function computeWithUamqp(list: readonly Case[]): Promise<PythonResult[]> {
  const payload = {
    now: NOW_MS / 1000,
    cases: list.map((c) => ({ ...c, key: undefined, keyB64: keyB64(c.key) })),
  };
  const r = await runPython(SCRIPT, [], { timeoutMs: 60_000, input: JSON.stringify(payload) });
  assert.equal(r.code, 0, `python failed (timedOut=${r.timedOut}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as PythonResult[];
}

describe("SAS tokens byte-identical to Python uamqp's", { skip: peerSkip("uamqp") }, () => {
  before(async () => {
    results = await computeWithUamqp(cases);
    assert.equal(results.length, cases.length);
    mock.method(Date, "now", () => NOW_MS);
  });
  after(() => mock.restoreAll());

  it("SASTokenAuth.fromSharedAccessKey: token, audience and host as uamqp's from_shared_access_key", () => {
    let checked = 0;
    for (const [i, c] of cases.entries()) {
      if (c.kind !== "from_shared_access_key") continue;
      const expected = results[i]!;
      const auth = SASTokenAuth.fromSharedAccessKey(c.uri, c.keyName, c.key, { expiry: c.expiryMs });
      assert.equal(auth.token, expected.token, `case ${i}: ${JSON.stringify(c)}`);
      assert.equal(auth.audience, expected.audience);
      assert.equal(auth.hostname, expected.hostname);
      assert.equal(auth.expiresAtMs, (NOW_S + Math.floor(c.expiryMs / 1000)) * 1000);
      checked++;
    }
    assert.equal(checked, URIS.length * KEYS.length);
  });

  it("createSASToken: as uamqp's utils.create_sas_token (string and byte keys)", () => {
    let checked = 0;
    for (const [i, c] of cases.entries()) {
      if (c.kind !== "create_sas_token") continue;
      const token = createSASToken(c.keyName, c.key, c.scope, c.expiryMs);
      assert.equal(token, results[i]!.token, `case ${i}: ${JSON.stringify({ ...c, key: keyB64(c.key) })}`);
      checked++;
    }
    assert.equal(checked, URIS.length * KEYS.length + 1);
  });

  it("the signatures hold %2b %2f %3d escapes: the cases cover every character the encoding touches", () => {
    const all = results.map((r) => /&sig=([^&]*)&/.exec(r.token)?.[1] ?? "").join("");
    for (const escape of ["%2b", "%2f", "%3d"]) assert.ok(all.includes(escape), escape);
  });

  it("a lifetime of a day or more is kept whole; uamqp's utils drop the days, its C function agrees with us", async () => {
    const expiryMs = 2 * DAY_MS + 5_000;
    const scope = encodeURIComponent(URIS[0]!);
    const ours = createSASToken("RootManageSharedAccessKey", AZURE_KEY, scope, expiryMs);
    assert.match(ours, new RegExp(`&se=${NOW_S + 172_805}&`));
    const [viaUtils, viaC] = await computeWithUamqp([
      { kind: "create_sas_token", keyName: "RootManageSharedAccessKey", key: AZURE_KEY, scope, expiryMs },
      {
        kind: "c_create_sas_token",
        keyName: "RootManageSharedAccessKey",
        key: AZURE_KEY,
        scope,
        se: NOW_S + 172_805,
      },
    ]);
    assert.match(viaUtils!.token, new RegExp(`&se=${NOW_S + 5}&`), "uamqp's timedelta.seconds quirk");
    assert.equal(ours, viaC!.token);
  });
});
