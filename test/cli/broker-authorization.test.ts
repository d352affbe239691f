/**
 * `uamqp broker` and the authorization rules: `--grant WHO:RIGHTS:ADDRESSES` and `authorization.rules`
 * in `--config` (added together), the banner line that states them, what the broker then does, and
 * the one-line errors of a bad rule.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { parseGrant } from "../../src/cli/broker-config.js";
import { run, startBroker, tempDir } from "./harness.js";

const dir = tempDir();

function configFile(name: string, config: unknown): string {
  const path = dir.path(name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

function line(output: string, prefix: string): string {
  const found = output.split("\n").find((l) => l.startsWith(prefix));
  assert.ok(found !== undefined, `no line starting with '${prefix}' in:\n${output}`);
  return found;
}

describe("uamqp broker: authorization rules", () => {
  after(() => {
    dir.remove();
  });

  it("--grant reads WHO:RIGHTS:ADDRESSES: a user, user=, keyName= or anonymous", () => {
    assert.deepEqual(parseGrant("alice:send,listen:orders,billing/*", "--grant"), {
      user: "alice",
      rights: ["send", "listen"],
      addresses: ["orders", "billing/*"],
    });
    assert.deepEqual(parseGrant("user=anonymous:Listen:q", "--grant"), {
      user: "anonymous",
      rights: ["listen"],
      addresses: ["q"],
    });
    assert.deepEqual(parseGrant("keyName=Root:manage, send:*", "--grant"), {
      keyName: "Root",
      rights: ["manage", "send"],
      addresses: ["*"],
    });
    assert.deepEqual(parseGrant("anonymous:listen:public/*", "--grant"), {
      anonymous: true,
      rights: ["listen"],
      addresses: ["public/*"],
    });
  });

  it("rules from --config and --grant add up; the banner states them; the broker enforces them", async () => {
    const path = configFile("authz.json", {
      sasl: { users: { alice: "pw-alice", bob: "pw-bob" }, failedLoginDelayMs: 0 },
      authorization: { rules: [{ user: "alice", rights: ["Send", "listen"], addresses: ["orders"] }] },
    });
    const cli = await startBroker(["--config", path, "--grant", "bob:listen:orders,billing/*"]);
    const out = cli.output();
    try {
      assert.equal(
        line(out, "authorization: "),
        "authorization: what no rule grants is denied; user alice: send, listen on orders; user bob: listen on orders, billing/*",
      );
      const as = (user: string, pw: string, address: string): string =>
        `${cli.url.replace("://", `://${user}:${pw}@`)}/${address}`;
      assert.equal((await run(["send", as("alice", "pw-alice", "orders")])).code, 0);
      const refused = await run(["send", as("bob", "pw-bob", "orders")]);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /^uamqp: not authorized for amqp:\/\/bob:\*\*\*@127\.0\.0\.1:\d+\/orders: .*the right 'send' on 'orders' is not granted to user 'bob'.*\(AMQP_LINK_DETACHED\)\n$/,
      );
      const got = await run(["receive", as("bob", "pw-bob", "orders")]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stdout, "hello\n");
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });

  it("states that authorization is off without rules", async () => {
    const cli = await startBroker([]);
    const out = cli.output();
    assert.equal(await cli.stop(), 0);
    assert.equal(
      line(out, "authorization: "),
      "authorization: off (no rules: whoever gets in may send, listen and manage everywhere)",
    );
  });

  it("a bad rule is one line naming it, exit 2", async () => {
    const flags: [string[], string][] = [
      [
        ["--grant", "alice"],
        '--grant expects who:rights:addresses, e.g. alice:send,listen:orders,billing/* (got "alice")',
      ],
      [
        ["--grant", "alice:send:"],
        '--grant expects who:rights:addresses, e.g. alice:send,listen:orders,billing/* (got "alice:send:")',
      ],
      [
        ["--grant", "alice:read:q"],
        '--grant "alice:read:q" holds "read": the rights are send, listen, manage',
      ],
    ];
    for (const [args, reason] of flags) {
      const r = await run(["broker", ...args]);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stderr.split("\n")[0], `uamqp: ${reason}`);
    }
    // Checked by Broker.start: a user name proves nothing while PLAIN accepts any name.
    const noUsers = await run(["broker", "--port", "0", "--grant", "alice:send:q"]);
    assert.equal(noUsers.code, 2);
    assert.match(
      noUsers.stderr,
      /^uamqp: authorization\.rules\[0\] names the user 'alice' while PLAIN accepts any name .*\(AMQP_BROKER\)\n$/,
    );
    const notList = configFile("not-list.json", { authorization: { rules: { user: "alice" } } });
    const r = await run(["broker", "--config", notList]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `uamqp: ${notList}: authorization.rules must be a list (got {"user":"alice"})\n`);
    const badRule = configFile("bad-rule.json", {
      port: 0,
      sasl: { users: { alice: "pw" } },
      authorization: { rules: [{ user: "alice", rights: ["send"], addresses: ["a*b"] }] },
    });
    const bad = await run(["broker", "--config", badRule]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^uamqp: authorization\.rules\[0\]\.addresses\[0\] is "a\*b": '\*' may only end an address.*\(AMQP_BROKER\)\n$/,
    );
  });
});
