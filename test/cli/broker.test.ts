/**
 * `uamqp broker`: the banner (every listener it opened and its effective configuration, never a
 * password), `--config FILE` (the options of Broker.start as JSON), flags over the file, and the
 * one-line errors of a bad flag value or configuration.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { configDefault, configKeys } from "../../src/cli/broker-config.js";
import { Close, Open } from "../../src/frames/performatives.js";
import { ProtocolId } from "../../src/frames/protocol-header.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { frameError, ScriptedPeer } from "../support/scripted-peer.js";
import { ROOT, listenerUrl, run, startBroker, tempDir, writeCertificates } from "./harness.js";

const dir = tempDir();
let pem: Awaited<ReturnType<typeof writeCertificates>>;

/** Writes `config` as JSON into the temporary directory and returns its path. */
function configFile(name: string, config: unknown): string {
  const path = dir.path(name);
  writeFileSync(path, typeof config === "string" ? config : JSON.stringify(config, null, 2));
  return path;
}

/** The banner line that starts with `prefix`. */
function line(output: string, prefix: string): string {
  const found = output.split("\n").find((l) => l.startsWith(prefix));
  assert.ok(found !== undefined, `no line starting with '${prefix}' in:\n${output}`);
  return found;
}

describe("uamqp broker", () => {
  before(async () => {
    pem = await writeCertificates(dir);
  });
  after(() => {
    dir.remove();
  });

  it("prints its amqp, amqps and ws listeners, one per line, and each serves clients", async () => {
    const cli = await startBroker([
      ...["--tls-cert", pem.cert, "--tls-key", pem.key, "--tls-port", "0", "--ws-port", "0"],
      ...["--user", "alice:tops3cret"],
    ]);
    try {
      const out = cli.output();
      const listeners = out.split("\n").filter((l) => l.startsWith("uamqp broker listening on "));
      assert.equal(listeners.length, 3, out);
      const amqp = listenerUrl(out, "amqp")!;
      const amqps = listenerUrl(out, "amqps")!;
      const ws = listenerUrl(out, "ws")!;
      assert.match(amqp, /^amqp:\/\/127\.0\.0\.1:\d+$/);
      assert.match(amqps, /^amqps:\/\/127\.0\.0\.1:\d+$/);
      assert.match(ws, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
      assert.equal(line(out, "tls: "), `tls: certificate ${pem.cert}; client certificates not requested`);
      const login = (url: string): string => url.replace("://", "://alice:tops3cret@");
      for (const [url, extra] of [
        [`${login(amqp)}/q`, []],
        [`${login(amqps)}/q`, ["--ca", pem.ca]],
        [`${login(ws)}q`, []],
      ] as const) {
        const r = await run(["send", url, ...extra]);
        assert.equal(r.code, 0, `${url}: ${r.stderr}`);
      }
      const r = await run(["receive", `${login(amqp)}/q`, "--count", "3", "--timeout", "2000"]);
      assert.equal(r.stdout, "hello\nhello\nhello\n");
      assert.ok(!out.includes("tops3cret"), "no password in the banner");
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });

  it("--no-plain opens no plain listener: the banner lists only amqps, which serves clients", async () => {
    const cli = await startBroker(
      ["--no-plain", "--tls-cert", pem.cert, "--tls-key", pem.key, "--tls-port", "0"],
      { portZero: false },
    );
    try {
      const out = cli.output();
      const listeners = out.split("\n").filter((l) => l.startsWith("uamqp broker listening on "));
      assert.equal(listeners.length, 1, out);
      assert.equal(listenerUrl(out, "amqp"), undefined);
      const amqps = listenerUrl(out, "amqps")!;
      assert.match(amqps, /^amqps:\/\/127\.0\.0\.1:\d+$/);
      const sent = await run(["send", `${amqps}/q`, "--ca", pem.ca]);
      assert.equal(sent.code, 0, sent.stderr);
      const got = await run(["receive", `${amqps}/q`, "--ca", pem.ca, "--timeout", "2000"]);
      assert.equal(got.stdout, "hello\n");
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });

  it('"port": null in --config is --no-plain', async () => {
    const path = configFile("tls-only.json", {
      port: null,
      tls: { cert: "server.pem", key: "server.key", port: 0 },
    });
    const cli = await startBroker(["--config", path], { portZero: false });
    try {
      const out = cli.output();
      assert.equal(listenerUrl(out, "amqp"), undefined, out);
      assert.ok(listenerUrl(out, "amqps") !== undefined, out);
      assert.equal(cli.url, listenerUrl(out, "amqps"));
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });

  it("prints its effective configuration: users by name, anonymous access, SASL, limits, queues, $cbs", async () => {
    const open = await startBroker([]);
    const openOut = open.output();
    assert.equal(await open.stop(), 0);
    assert.equal(line(openOut, "users: "), "users: any name and password is accepted (no users configured)");
    assert.equal(
      line(openOut, "anonymous clients: "),
      "anonymous clients: allowed; clients without SASL: allowed",
    );
    assert.equal(line(openOut, "tls: "), "tls: off (no --tls-cert and --tls-key)");
    assert.equal(
      line(openOut, "limits: "),
      "limits: maxConnections=10000 maxSessionsPerConnection=256 maxLinksPerSession=1024 maxLinksPerConnection=4096 maxMessageSize=16777216 maxQueueDepth=100000 maxQueueBytes=67108864 maxTotalBytes=268435456 maxQueues=10000 producerCredit=500 maxFrameSize=65536 idleTimeoutMs=60000 handshakeTimeoutMs=10000 keepAliveInitialDelayMs=30000 maxConnectionsPerSource=1000 attachTimeoutMs=30000",
    );

    const locked = await startBroker([
      ...["--user", "alice:pw-alice", "--user", "bob:pw-bob", "--failed-login-delay", "0"],
      ...["--max-connections", "20", "--idle-timeout", "90000", "--lock-duration", "30000"],
      ...["--tcp-keep-alive", "0", "--max-locked-per-consumer", "50"],
      ...["--queue", "orders", "--no-auto-create", "--cbs-key", "root:c2VjcmV0a2V5", "--cbs-guard", "orders"],
    ]);
    const out = locked.output();
    try {
      assert.equal(line(out, "users: "), "users: alice, bob");
      assert.equal(
        line(out, "anonymous clients: "),
        "anonymous clients: refused; clients without SASL: refused",
      );
      assert.equal(line(out, "sasl: "), "sasl: mechanisms PLAIN; failed logins answered after up to 0 ms");
      assert.match(
        line(out, "limits: "),
        /^limits: maxConnections=20 .* idleTimeoutMs=90000 handshakeTimeoutMs=10000 keepAliveInitialDelayMs=0 /,
      );
      assert.equal(
        line(out, "queues: "),
        "queues: autoCreate=false maxDeliveryCount=10 deadLetterOnExpiry=true lockDuration=30000 splitBatches=true maxLockedPerConsumer=50; created at start: orders",
      );
      assert.equal(line(out, "cbs: "), "cbs: keys root; guarded addresses: orders");
      for (const secret of ["pw-alice", "pw-bob", "c2VjcmV0a2V5"]) assert.ok(!out.includes(secret), secret);
      // What the banner says is what the broker does.
      const anonymous = await run(["send", `${locked.url}/orders`]);
      assert.equal(anonymous.code, 1);
      assert.match(anonymous.stderr, /ANONYMOUS is not offered/);
      const guarded = await run(["send", `${locked.url.replace("://", "://bob:pw-bob@")}/orders`]);
      assert.equal(guarded.code, 1);
      assert.match(
        guarded.stderr,
        /^uamqp: not authorized for amqp:\/\/bob:\*\*\*@127\.0\.0\.1:\d+\/orders: .*amqp:unauthorized-access.*\(AMQP_LINK_DETACHED\)\n$/,
      );
    } finally {
      assert.equal(await locked.stop(), 0);
    }
  });

  it("--config takes users, queues and limits from a JSON file; flags override it", async () => {
    const path = configFile("broker.json", {
      port: 5, // overridden by --port 0 (startBroker)
      sasl: { users: { alice: "from-file-pw" }, failedLoginDelayMs: 0 },
      queues: { autoCreate: false, names: ["orders"], maxLockedPerConsumer: 7 },
      limits: { maxConnections: 50, producerCredit: 20, keepAliveInitialDelayMs: 5000 },
    });
    const cli = await startBroker([
      "--config",
      path,
      "--max-connections",
      "7",
      "--user",
      "bob:flag-pw",
      "--queue",
      "billing",
    ]);
    const out = cli.output();
    try {
      assert.equal(line(out, "users: "), "users: alice, bob");
      assert.match(
        line(out, "limits: "),
        /^limits: maxConnections=7 .*producerCredit=20 .* keepAliveInitialDelayMs=5000 /,
      );
      assert.match(
        line(out, "queues: "),
        /autoCreate=false .* maxLockedPerConsumer=7; created at start: orders, billing$/,
      );
      const alice = cli.url.replace("://", "://alice:from-file-pw@");
      const bob = cli.url.replace("://", "://bob:flag-pw@");
      assert.equal((await run(["send", `${alice}/orders`])).code, 0);
      assert.equal((await run(["send", `${bob}/billing`])).code, 0);
      const unknown = await run(["send", `${alice}/elsewhere`]);
      assert.equal(unknown.code, 1);
      assert.match(
        unknown.stderr,
        /^uamqp: unknown address amqp:\/\/alice:\*\*\*@127\.0\.0\.1:\d+\/elsewhere: amqp:not-found: .*\(AMQP_LINK_DETACHED\)\n$/,
      );
      const r = await run(["receive", `${bob}/orders`]);
      assert.equal(r.stdout, "hello\n");
      assert.ok(!out.includes("from-file-pw") && !out.includes("flag-pw"));
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });

  it("sets the memory, queue and link limits by flag and by --config, and the broker applies them", async () => {
    const path = configFile("memory.json", { limits: { maxTotalBytes: 100_000, maxLinksPerConnection: 9 } });
    const cli = await startBroker(["--config", path, "--max-queue-bytes", "5000", "--max-queues", "2"]);
    const out = cli.output();
    try {
      assert.match(
        line(out, "limits: "),
        / maxLinksPerConnection=9 .* maxQueueBytes=5000 maxTotalBytes=100000 maxQueues=2 /,
      );
      assert.equal((await run(["send", `${cli.url}/first`])).code, 0);
      assert.equal((await run(["send", `${cli.url}/second`])).code, 0);
      const third = await run(["send", `${cli.url}/third`]);
      assert.equal(third.code, 1);
      assert.match(third.stderr, /amqp:resource-limit-exceeded: the broker holds its limit of 2 queues/);
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });

  it("--max-connections-per-source and --attach-timeout (or their --config keys) limit what the broker keeps", async () => {
    const path = configFile("reaping.json", { limits: { attachTimeoutMs: 60_000 } });
    const cli = await startBroker([
      ...["--config", path, "--max-connections-per-source", "1", "--attach-timeout", "300"],
    ]);
    const out = cli.output();
    try {
      assert.match(line(out, "limits: "), / maxConnectionsPerSource=1 attachTimeoutMs=300$/);
      const port = Number(new URL(cli.url).port);
      // The first connection opens and, without a link, is closed after 300 ms with
      // amqp:resource-limit-exceeded; a second one from the same address meanwhile is dropped.
      const first = new ScriptedPeer(await connectTcp({ host: "127.0.0.1", port }));
      first.header(ProtocolId.Amqp);
      first.frame(0, Open, { containerId: "first" });
      await first.frameNamed("OPEN");
      const second = new ScriptedPeer(await connectTcp({ host: "127.0.0.1", port }));
      second.header(ProtocolId.Amqp);
      await second.ended();
      assert.equal(second.headers.length, 0, "dropped before anything was answered");
      const close = await first.frameNamed("CLOSE");
      assert.equal(frameError(close)?.condition, "amqp:resource-limit-exceeded");
      first.frame(0, Close, {});
      await first.ended();
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });

  it("--config reads TLS files relative to the config file; the banner lists amqps and wss", async () => {
    const path = configFile("tls.json", {
      tls: { cert: "server.pem", key: "server.key", port: 0 },
      webSocket: { port: 0, tls: true },
    });
    const cli = await startBroker(["--config", path]);
    try {
      const amqps = listenerUrl(cli.output(), "amqps");
      const wss = listenerUrl(cli.output(), "wss");
      assert.ok(amqps !== undefined && wss !== undefined, cli.output());
      assert.equal((await run(["send", `${amqps}/q`, "--ca", pem.ca])).code, 0);
      assert.equal((await run(["send", `${wss}q`, "--ca", pem.ca])).code, 0);
      assert.equal(
        (await run(["receive", `${amqps}/q`, "--ca", pem.ca, "--count", "2"])).stdout,
        "hello\nhello\n",
      );
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });

  it("an unknown key in the config file is one line naming it and the nearest known key, exit 2", async () => {
    const cases: [unknown, string][] = [
      [
        { limits: { maxConection: 5 } },
        "unknown key 'limits.maxConection' (did you mean 'limits.maxConnections'?)",
      ],
      [{ prot: 5672 }, "unknown key 'prot' (did you mean 'port'?)"],
      [{ queues: { zzzzzz: true } }, "unknown key 'queues.zzzzzz'"],
      [{ limits: { maxConnections: 0 } }, "limits.maxConnections must be a positive integer (got 0)"],
      [
        { limits: { maxFrameSize: 100 } },
        "limits.maxFrameSize must be an integer from 512 to 4294967295 (got 100)",
      ],
      [{ port: "5672" }, 'port must be an integer or null (got "5672")'],
      [
        { sasl: { users: ["alice"] } },
        'sasl.users must be an object of names to strings, e.g. {"alice": "secret"} (got ["alice"])',
      ],
      [{ queues: { autoCreate: "no" } }, 'queues.autoCreate must be true or false (got "no")'],
      [{ sasl: { mechanisms: [] } }, "sasl.mechanisms must be a non-empty list (got [])"],
      [{ hooks: {} }, "hooks takes functions: a program sets it (Broker.start), a config file cannot"],
      [[1, 2], "the top level must be an object (got [1,2])"],
    ];
    for (const [i, [config, reason]] of cases.entries()) {
      const path = configFile(`bad-${i}.json`, config);
      const r = await run(["broker", "--config", path]);
      assert.equal(r.code, 2, reason);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, `uamqp: ${path}: ${reason}\n`);
    }
    // serviceBus goes to Broker.start as it is; the broker's own check names the setting.
    const badSb = configFile("bad-sb.json", { port: 0, serviceBus: { queues: { q: { lockDuration: -1 } } } });
    const sb = await run(["broker", "--config", badSb]);
    assert.equal(sb.code, 2);
    assert.match(sb.stderr, /^uamqp: serviceBus\.queues\['q'\]\.lockDuration must be .*\(AMQP_BROKER\)\n$/);
    const notJson = configFile("not-json.json", "{ port: 1 }");
    const r = await run(["broker", "--config", notJson]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^uamqp: ${notJson} is not valid JSON: .*\\n$`));
    const missing = await run(["broker", "--config", dir.path("missing.json")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^uamqp: cannot read --config .*missing\.json: ENOENT.*\n$/);
  });

  it("bad flag values and incomplete options are one-line errors, exit 2", async () => {
    const cases: [string[], string][] = [
      [["--max-frame-size", "100"], '--max-frame-size must be an integer from 512 to 4294967295 (got "100")'],
      [["--port", "70000"], '--port must be an integer from 0 to 65535 (got "70000")'],
      [["--idle-timeout", "-1"], '--idle-timeout must be an integer from 0 to 4294967295 (got "-1")'],
      [["--lock-duration", "1.5"], '--lock-duration must be an integer of 0 or more (got "1.5")'],
      [["--tcp-keep-alive", "-5"], '--tcp-keep-alive must be an integer from 0 to 32767000 (got "-5")'],
      [["--max-locked-per-consumer", "0"], '--max-locked-per-consumer must be a positive integer (got "0")'],
      [["--max-connections", "ten"], '--max-connections must be a positive integer (got "ten")'],
      [["--user", "nocolon"], "--user expects name:password"],
      [["--cbs-key", ":k"], "--cbs-key expects name:key"],
      [["--mechanisms", " , "], "--mechanisms needs at least one name"],
      [["--no-sasl", "--allow-anonymous"], "--no-sasl and --allow-anonymous contradict each other"],
      [
        ["--tls-cert", "x.pem"],
        "TLS needs both --tls-cert (tls.cert) and --tls-key (tls.key); given: --tls-cert (tls.cert)",
      ],
      [["--no-plain", "--port", "0"], "--no-plain and --port contradict each other"],
      [
        ["--no-plain"],
        '--no-plain ("port": null) needs TLS (--tls-cert (tls.cert) and --tls-key (tls.key)) or a WebSocket listener',
      ],
      [
        ["--wss", "--ws-port", "0"],
        "--wss (webSocket.tls) needs --tls-cert (tls.cert) and --tls-key (tls.key)",
      ],
    ];
    for (const [args, reason] of cases) {
      const r = await run(["broker", ...args]);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stderr.split("\n")[0], `uamqp: ${reason}`);
    }
    const anonymousNextToUsers = await run(["broker", "--user", "a:b", "--mechanisms", "PLAIN,ANONYMOUS"]);
    assert.equal(anonymousNextToUsers.code, 2);
    assert.match(
      anonymousNextToUsers.stderr,
      /^uamqp: sasl\.mechanisms offers ANONYMOUS .*\(AMQP_BROKER\)\n$/,
    );
    const notPem = await run(["broker", "--port", "0", "--tls-cert", pem.key, "--tls-key", pem.cert]);
    assert.equal(notPem.code, 2);
    assert.match(notPem.stderr, /^uamqp: the TLS certificate or key cannot be used: .*\(ERR_OSSL_\w+\)\n$/);
    const unreadable = await run(["broker", "--tls-cert", dir.path("nope.pem"), "--tls-key", pem.key]);
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.stderr, /^uamqp: cannot read --tls-cert \(tls\.cert\): ENOENT.*nope\.pem'\n$/);
  });

  it("a port in use is one line with the reason and the flags to change it, exit 1", async () => {
    const first = await startBroker([]);
    try {
      const port = /:(\d+)$/.exec(first.url)![1]!;
      const r = await run(["broker", "--port", port]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^uamqp: cannot listen .*EADDRINUSE.*; choose another port \(--port, --tls-port, --ws-port\) \(AMQP_TRANSPORT\)\n$/,
      );
    } finally {
      await first.stop();
    }
  });

  it("the command's defaults are the broker's documented ones (src/broker/options.ts)", () => {
    const source = readFileSync(`${ROOT}src/broker/options.ts`, "utf8");
    const documented = new Map<string, string>();
    for (const m of source.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*readonly (\w+)\?:/g)) {
      const d = /@defaultValue\s+"?([\w.-]+)"?/.exec(m[1]!);
      if (d) documented.set(m[2]!, d[1]!);
    }
    // The command listens on the standard ports; Broker.start picks free ones.
    const commandOwn = new Set(["port", "tls.port"]);
    let compared = 0;
    for (const key of configKeys()) {
      const ours = configDefault(key);
      const leaf = key.split(".").at(-1)!;
      if (ours === undefined || commandOwn.has(key) || !documented.has(leaf)) continue;
      assert.equal(String(ours), documented.get(leaf), key);
      compared++;
    }
    assert.ok(compared >= 15, `compared ${compared} defaults`);
  });
});
