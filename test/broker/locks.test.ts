// Locks come back: the broker's default idle time-out and lock duration, TCP keep-alive on accepted
// sockets, a SIGSTOPped consumer's locks returning, the per-consumer maximum of locked messages, and
// renewing a plain AMQP consumer's lock through <queue>/$management.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type rhea from "rhea";
import { Broker, BROKER_DEFAULTS, type BrokerEvent, type BrokerOptions } from "../../src/broker/index.js";
import { getTestCertificates } from "../support/certs.js";
import { within } from "../support/waits.js";
import {
  brokerFixture,
  collect,
  connect,
  openReceiver,
  openSender,
  quiet,
  sendAll,
  until,
  waitEvent,
  type BrokerFixture,
} from "./rhea-client.js";

type Ctx = rhea.EventContext;

const HOLDER = fileURLToPath(new URL("./lock-holder.ts", import.meta.url));

/** A consumer process holding `count` locked messages of `queue` (test/broker/lock-holder.ts). */
interface Holder {
  readonly child: ChildProcess;
  /** When it held them all (ms since the epoch, its clock: the same machine's). */
  readonly heldAt: number;
}

async function startHolder(port: number, queue: string, count: number): Promise<Holder> {
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER, String(port), queue, String(count)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const line = new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once("exit", (code, signal) => {
      reject(new Error(`the lock holder exited (${code ?? signal}) before holding its messages: ${stderr}`));
    });
  });
  try {
    const held = JSON.parse(await within(line, "the lock holder to hold its messages", 20_000)) as {
      held: number;
      at: number;
    };
    assert.equal(held.held, count);
    return { child, heldAt: held.at };
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
}

/** Ends a holder whatever state it is in (SIGKILL works on a stopped process; SIGCONT is for good measure). */
async function killHolder(h: ChildProcess): Promise<void> {
  if (h.exitCode !== null || h.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => h.once("exit", () => resolve()));
  h.kill("SIGKILL");
  h.kill("SIGCONT");
  await within(exited, "the lock holder to exit");
}

/** A PeekLock receiver that settles nothing by itself and starts with `credit`. */
async function peekLock(c: rhea.Connection, address: string, credit: number): Promise<rhea.Receiver> {
  const r = await openReceiver(c, { source: address, credit_window: 0, autoaccept: false });
  r.add_credit(credit);
  return r;
}

const bodies = (n: number, prefix: string): rhea.Message[] =>
  Array.from({ length: n }, (_, i) => ({ body: `${prefix}${i}` }));

/**
 * Sends 10 messages to `queue`, has a child process hold them all, SIGSTOPs it, and measures how
 * long until another consumer got all 10 (ms since the SIGSTOP, and since the holder got them).
 */
async function stoppedConsumer(
  fx: BrokerFixture,
  options: BrokerOptions,
  queue: string,
): Promise<{ sinceStop: number; sinceHeld: number; got: Ctx[]; events: BrokerEvent[] }> {
  const { b, c } = await fx.setup(options);
  const events: BrokerEvent[] = [];
  b.observe((e) => events.push(e));
  await sendAll(await openSender(c, queue), bodies(10, "m"));
  const holder = await startHolder(b.port!, queue, 10);
  try {
    assert.equal(b.stats(queue).lockedCount, 10);
    holder.child.kill("SIGSTOP");
    const stoppedAt = Date.now();
    const r = await peekLock(c, queue, 10);
    const got = await collect(r, 10, 20_000);
    const now = Date.now();
    for (const m of got) m.delivery?.accept();
    await until(() => b.stats(queue).messageCount === 0, "the accepts");
    if (options.limits?.idleTimeoutMs !== 0) {
      // The locks return as the broker sends its CLOSE; the connection is gone once the stopped
      // peer's CLOSE did not come within the broker's grace period (a second).
      await until(() => events.some((e) => e.type === "connection-close"), "the idle close");
    }
    // The events until now: killing the holder closes its connection.
    return { sinceStop: now - stoppedAt, sinceHeld: now - holder.heldAt, got, events: [...events] };
  } finally {
    await killHolder(holder.child);
  }
}

/** The state of every TCP socket bound to local `port` (Linux /proc/net/tcp): keep-alive timer or not. */
/**
 * The broker's end of the connection from `client` (matched by both ports: other processes' sockets
 * share /proc/net/tcp), with its keep-alive timer.
 */
function serverSockets(port: number, client: Socket): { keepAlive: boolean; timerMs: number }[] {
  const out: { keepAlive: boolean; timerMs: number }[] = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const local = f[1]!;
    const remote = f[2]!;
    const state = f[3]!;
    if (parseInt(local.split(":")[1]!, 16) !== port || state !== "01") continue; // 01: ESTABLISHED
    if (parseInt(remote.split(":")[1]!, 16) !== client.localPort) continue;
    // "tr:tm->when": timer 2 is the keep-alive timer; "when" is in clock ticks (USER_HZ, 100 on Linux).
    const [tr, when] = f[5]!.split(":");
    out.push({ keepAlive: tr === "02", timerMs: parseInt(when!, 16) * 10 });
  }
  return out;
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

describe("broker: locks come back", () => {
  const fx = brokerFixture();

  it("defaults: 60 s idle time-out (30 s announced in OPEN), 60 s locks, 30 s TCP keep-alive, 1000 locked per consumer", async () => {
    assert.equal(BROKER_DEFAULTS.limits.idleTimeoutMs, 60_000);
    assert.equal(BROKER_DEFAULTS.queues.lockDuration, 60_000);
    assert.equal(BROKER_DEFAULTS.limits.keepAliveInitialDelayMs, 30_000);
    assert.equal(BROKER_DEFAULTS.queues.maxLockedPerConsumer, 1000);
    const { c } = await fx.setup();
    // What rhea read off the wire in the broker's OPEN: half the threshold (AMQP 1.0 section 2.4.5).
    const open = (c as unknown as { remote: { open: { idle_time_out?: number } } }).remote.open;
    assert.equal(open.idle_time_out, 30_000);
  });

  it("a plain consumer's lock lasts 60 s by default and is renewed through <queue>/$management with its delivery tag", async () => {
    const { b, c } = await fx.setup();
    await sendAll(await openSender(c, "renew"), [{ body: "x" }]);
    const r = await peekLock(c, "renew", 1);
    const [m] = await collect(r, 1);
    const tag = Buffer.from((m!.delivery as unknown as { tag: Buffer }).tag);
    assert.equal(tag.length, 8);

    const reply = await openReceiver(c, { source: "renew/$management", target: "renew-reply" });
    const requests = await openSender(c, "renew/$management");
    const renew = async (tokens: Buffer[]): Promise<Ctx> => {
      const answer = collect(reply, 1);
      requests.send({
        message_id: `renew-${Date.now()}`,
        reply_to: "renew-reply",
        application_properties: { operation: "com.microsoft:renew-lock" },
        body: { "lock-tokens": tokens },
      });
      return (await answer)[0]!;
    };
    const before = Date.now();
    const ok = await renew([tag]);
    assert.equal(ok.message?.application_properties?.["statusCode"], 200);
    const [until0] = (ok.message.body as { expirations: Date[] }).expirations;
    assert.ok(until0 instanceof Date);
    const ms = until0.getTime() - before;
    assert.ok(ms >= 59_000 && ms <= 61_000, `renewed for ${ms} ms, expected 60 s`);

    m!.delivery?.accept();
    await until(() => b.stats("renew").messageCount === 0, "the accept");
    const lost = await renew([tag]);
    assert.equal(lost.message?.application_properties?.["statusCode"], 410);
    assert.equal(lost.message.application_properties["errorCondition"], "com.microsoft:message-lock-lost");
  });

  it("a renewed lock outlives its lock duration; an unrenewed one comes back", async () => {
    const { b, c } = await fx.setup({ queues: { lockDuration: 400 } });
    await sendAll(await openSender(c, "keep"), bodies(2, "k"));
    const r = await peekLock(c, "keep", 2);
    const [kept, dropped] = await collect(r, 2);
    const tag = Buffer.from((kept!.delivery as unknown as { tag: Buffer }).tag);
    const reply = await openReceiver(c, { source: "keep/$management", target: "keep-reply" });
    const requests = await openSender(c, "keep/$management");
    // Renew the first lock every 200 ms for 1.2 s (three lock durations).
    const start = Date.now();
    while (Date.now() - start < 1200) {
      const answer = collect(reply, 1);
      requests.send({
        reply_to: "keep-reply",
        application_properties: { operation: "com.microsoft:renew-lock" },
        body: { "lock-tokens": [tag] },
      });
      assert.equal((await answer)[0]!.message?.application_properties?.["statusCode"], 200);
      await new Promise((res) => setTimeout(res, 200));
    }
    // Only the unrenewed message came back (redelivered to the same consumer once it has credit).
    assert.equal(b.stats("keep").lockedCount, 1);
    const again = collect(r, 1);
    r.add_credit(1);
    const [back] = await again;
    assert.equal(back!.message?.body, dropped!.message?.body);
    assert.equal(back!.message?.delivery_count, 1);
    kept!.delivery?.accept();
    back!.delivery?.accept();
    await until(() => b.stats("keep").messageCount === 0, "the accepts");
  });

  it(
    "a SIGSTOPped consumer's 10 locks are back within lock duration + idle time-out (2 s idle, 3 s locks)",
    { timeout: 60_000 },
    async (t) => {
      const idleTimeoutMs = 2000;
      const lockDuration = 3000;
      const { sinceStop, got } = await stoppedConsumer(
        fx,
        { limits: { idleTimeoutMs }, queues: { lockDuration } },
        "stopped",
      );
      assert.deepEqual(
        got.map((m) => m.message?.body),
        bodies(10, "m").map((m) => m.body),
      );
      t.diagnostic(`back ${sinceStop} ms after the SIGSTOP`);
      // Margin: the idle check runs every quarter of the time-out, and the test process's own delays.
      assert.ok(sinceStop <= lockDuration + idleTimeoutMs + 1000, `back after ${sinceStop} ms`);
    },
  );

  it(
    "the idle time-out alone (locks never expire) closes the stopped consumer's connection and returns its locks",
    { timeout: 60_000 },
    async (t) => {
      const idleTimeoutMs = 2000;
      const { sinceStop, got, events } = await stoppedConsumer(
        fx,
        { limits: { idleTimeoutMs }, queues: { lockDuration: 0 } },
        "stopped-idle",
      );
      t.diagnostic(`back ${sinceStop} ms after the SIGSTOP`);
      assert.equal(got.length, 10);
      // Back at once when the connection went: every message counts one failed delivery.
      assert.ok(got.every((m) => m.message?.delivery_count === 1));
      assert.ok(sinceStop <= idleTimeoutMs * 1.25 + 1000, `back after ${sinceStop} ms`);
      const closes = events.filter(
        (e): e is Extract<BrokerEvent, { type: "connection-close" }> => e.type === "connection-close",
      );
      assert.equal(closes.length, 1, "only the stopped consumer's connection is closed");
      assert.equal(closes[0]!.error?.condition, "amqp:resource-limit-exceeded");
      assert.match(closes[0]!.error.description ?? "", /idle-timeout/);
    },
  );

  it(
    "lock expiry alone (no idle time-out) returns the stopped consumer's locks after the lock duration",
    { timeout: 60_000 },
    async (t) => {
      const lockDuration = 3000;
      const { sinceHeld, got, events } = await stoppedConsumer(
        fx,
        { limits: { idleTimeoutMs: 0 }, queues: { lockDuration } },
        "stopped-locks",
      );
      t.diagnostic(`back ${sinceHeld} ms after the consumer got them`);
      assert.equal(got.length, 10);
      assert.ok(got.every((m) => m.message?.delivery_count === 1));
      // Not before the locks expired (they started a little before the consumer saw the last
      // message), and not much after.
      assert.ok(sinceHeld >= lockDuration - 300, `back after ${sinceHeld} ms`);
      assert.ok(sinceHeld <= lockDuration + 1500, `back after ${sinceHeld} ms`);
      assert.ok(!events.some((e) => e.type === "connection-close"), "no connection was closed");
    },
  );

  it("a consumer granting 1,000,000 credit holds at most maxLockedPerConsumer; another gets the rest", async () => {
    const max = BROKER_DEFAULTS.queues.maxLockedPerConsumer;
    const { b, c } = await fx.setup();
    await sendAll(await openSender(c, "greedy"), bodies(5000, "g"), 30_000);
    const greedy = await peekLock(c, "greedy", 1_000_000);
    const first = await collect(greedy, max);
    assert.deepEqual(await quiet(greedy, 300), [], "more than the maximum delivered");
    assert.equal(b.stats("greedy").lockedCount, max);
    // Settling some makes room for as many more.
    const more = collect(greedy, 10);
    for (const m of first.slice(0, 10)) m.delivery?.accept();
    const next = await more;
    assert.deepEqual(
      next.map((m) => m.message?.body),
      bodies(max + 10, "g")
        .slice(max)
        .map((m) => m.body),
    );
    assert.deepEqual(await quiet(greedy, 200), []);
    assert.equal(b.stats("greedy").lockedCount, max);
    // The rest goes to a consumer that settles as it goes (on a connection of its own: rhea's
    // session window does not move past the greedy consumer's unsettled deliveries).
    const c2 = fx.keep(await connect(b.port!));
    const other = await openReceiver(c2, { source: "greedy", credit_window: 500 });
    const rest = await collect(other, 5000 - max - 10, 30_000);
    assert.equal(rest[0]!.message?.body, `g${max + 10}`);
    await until(() => b.stats("greedy").messageCount === max, "the other consumer's accepts");
    assert.equal(b.stats("greedy").lockedCount, max);
  });

  it("the maximum holds for receiver-settle-mode second and for a small configured value", async () => {
    const { b, c } = await fx.setup({ queues: { maxLockedPerConsumer: 3 } });
    await sendAll(await openSender(c, "small"), bodies(10, "s"));
    const r = await openReceiver(c, {
      source: "small",
      credit_window: 0,
      autoaccept: false,
      rcv_settle_mode: 1,
    });
    r.add_credit(100);
    const got = await collect(r, 3);
    assert.deepEqual(await quiet(r, 200), []);
    assert.equal(b.stats("small").lockedCount, 3);
    const more = collect(r, 1);
    got[0]!.delivery?.accept();
    assert.equal((await more)[0]!.message?.body, "s3");
  });

  it("refuses a maxLockedPerConsumer below 1 and a negative keep-alive delay", async () => {
    await assert.rejects(Broker.start({ queues: { maxLockedPerConsumer: 0 } }), /maxLockedPerConsumer/);
    await assert.rejects(
      Broker.start({ limits: { keepAliveInitialDelayMs: -1 } }),
      /keepAliveInitialDelayMs must be a whole number/,
    );
  });

  it(
    "turns TCP keep-alive on for sockets accepted by the TCP, TLS and WebSocket listeners",
    { skip: process.platform === "linux" ? false : "reads /proc/net/tcp (Linux)" },
    async () => {
      const certs = await getTestCertificates();
      const tls = { cert: certs.serverCert, key: certs.serverKey };
      const on = fx.keep(await Broker.start({ tls, webSocket: {} }));
      const off = fx.keep(await Broker.start({ limits: { keepAliveInitialDelayMs: 0 } }));
      const sockets: Socket[] = [];
      try {
        for (const port of [on.port!, on.tlsPort!, on.wsPort!, off.port!])
          sockets.push(await rawSocket(port));
        for (const [i, port] of [on.port!, on.tlsPort!, on.wsPort!].entries()) {
          const client = sockets[i]!;
          await until(() => serverSockets(port, client).length === 1, `the accepted socket on ${port}`);
          const [s] = serverSockets(port, client);
          assert.ok(s!.keepAlive, `no keep-alive timer on the socket accepted on ${port}`);
          assert.ok(s!.timerMs > 25_000 && s!.timerMs <= 30_000, `keep-alive after ${s!.timerMs} ms`);
        }
        await until(() => serverSockets(off.port!, sockets[3]!).length === 1, "the accepted socket");
        assert.equal(serverSockets(off.port!, sockets[3]!)[0]!.keepAlive, false, "keep-alive with 0");
      } finally {
        for (const s of sockets) s.destroy();
      }
    },
  );

  it("a rhea client stays connected through 4 s of silence with a 1 s idle time-out (it heartbeats)", async () => {
    const { b, c } = await fx.setup({ limits: { idleTimeoutMs: 1000 } });
    const events: BrokerEvent[] = [];
    b.observe((e) => events.push(e));
    const r = await openReceiver(c, "quiet-rhea");
    const closed = waitEvent(c, "connection_close", [], 4000).then(
      () => true,
      () => false,
    );
    assert.equal(await closed, false, "the broker closed an idle rhea connection that heartbeats");
    assert.ok(!events.some((e) => e.type === "connection-close"));
    const got = collect(r, 1);
    await sendAll(await openSender(c, "quiet-rhea"), [{ body: "still here" }]);
    assert.equal((await got)[0]!.message?.body, "still here");
  });
});
