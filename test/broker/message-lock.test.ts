/**
 * The PeekLock locks of a queue on their own: tokens, lookup, release, renewal and expiry (in order
 * per duration, across durations), and that holding many locks does not take a timer each.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MessageLocks, type MessageLock } from "../../src/broker/message-lock.js";
import { storeMessage } from "../../src/broker/stored-message.js";
import { until } from "../support/waits.js";

const message = (i: number) => storeMessage(Buffer.from([0x00, 0x53, 0x77, 0x54, i]), 0, Date.now());

/** Active timers of this process (`Timeout` resources). */
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("broker: message locks", () => {
  it("gives each lock its own 8-byte token, finds it by the token's bytes, and forgets it once released", () => {
    const locks = new MessageLocks<string>(() => assert.fail("nothing expires"));
    const a = locks.take(message(1), "c1", 0, Date.now());
    const b = locks.take(message(2), "c2", 0, Date.now());
    assert.equal(a.token.length, 8);
    assert.notDeepEqual(a.token, b.token);
    assert.equal(locks.find(Uint8Array.from(a.token)), a, "found by an equal copy of its token");
    assert.equal(locks.find(b.token), b);
    assert.equal(locks.find(Buffer.alloc(8)), undefined);
    assert.equal(locks.find(Buffer.from("ffffffffffffffff", "hex")), undefined);
    assert.equal(locks.find(new Uint8Array(0)), undefined);
    assert.equal(locks.size, 2);
    assert.equal(locks.release(a), true);
    assert.equal(locks.release(a), false, "a lock ends once");
    assert.equal(locks.find(a.token), undefined);
    assert.deepEqual(locks.all(), [b]);
  });

  it("keeps a token it is given (a Service Bus GUID) and finds the lock by it", () => {
    const locks = new MessageLocks<string>(() => undefined);
    const guid = Buffer.from("0123456789abcdef0123456789abcdef", "hex");
    const eight = Buffer.from("7fffffffffffffff", "hex");
    const l = locks.take(message(1), "c", 0, Date.now(), guid);
    const m = locks.take(message(2), "c", 0, Date.now(), eight);
    assert.equal(l.token, guid);
    assert.equal(locks.find(Buffer.from(guid)), l);
    assert.equal(locks.find(Buffer.from(eight)), m);
    assert.equal(locks.release(l), true);
    assert.equal(locks.find(guid), undefined);
  });

  it("expires locks after their duration, in order, each duration on its own; released ones never", async () => {
    const expired: string[] = [];
    const locks = new MessageLocks<string>((l) => expired.push(l.consumer));
    const t0 = Date.now();
    locks.take(message(1), "long", 300, t0);
    const gone = locks.take(message(2), "released", 60, t0);
    locks.take(message(3), "short-1", 60, t0);
    locks.take(message(4), "short-2", 80, t0);
    const never = locks.take(message(5), "forever", 0, t0);
    assert.equal(never.lockedUntil, Infinity);
    assert.equal(locks.release(gone), true);
    await until(() => expired.length === 3, "three locks to expire", 5000);
    assert.deepEqual(expired, ["short-1", "short-2", "long"]);
    assert.ok(Date.now() - t0 >= 300, "the long lock lasted its duration");
    assert.deepEqual(
      locks.all().map((l) => l.consumer),
      ["forever"],
    );
    assert.equal(locks.find(gone.token), undefined);
  });

  it("renews a held lock from now, moving its expiry; a released lock cannot be renewed", async () => {
    const expired: MessageLock<string>[] = [];
    const locks = new MessageLocks<string>((l) => expired.push(l));
    const t0 = Date.now();
    const a = locks.take(message(1), "a", 100, t0);
    const b = locks.take(message(2), "b", 100, t0);
    const until1 = locks.renew(a, 400);
    assert.ok(until1 !== undefined && until1 >= t0 + 400);
    assert.equal(a.lockedUntil, until1);
    await until(() => expired.length === 1, "b to expire", 5000);
    assert.equal(expired[0], b);
    assert.equal(locks.find(a.token), a, "a is still held after b's duration");
    assert.equal(locks.renew(b, 100), undefined, "an expired lock is not renewed");
    assert.equal(locks.renew(a, 0), Infinity, "renewed without a duration: held until released");
    assert.equal(locks.release(a), true);
    assert.equal(locks.renew(a, 100), undefined);
  });

  it("finds and releases locks in any order, many at once and one held far longer than the rest", () => {
    const locks = new MessageLocks<number>(() => assert.fail("nothing expires"));
    const now = Date.now();
    const old = locks.take(message(0), -1, 60_000, now);
    // 100,000 locks taken and released after it, with up to 3000 held at a time.
    const held: MessageLock<number>[] = [];
    for (let i = 0; i < 100_000; i++) {
      held.push(locks.take(message(i & 0xff), i, 60_000, now));
      if (held.length > 3000) {
        // Out of order: a random one of the held goes.
        const j = (i * 7919) % held.length;
        const l = held[j]!;
        held[j] = held[held.length - 1]!;
        held.pop();
        assert.equal(locks.release(l), true);
        assert.equal(locks.find(l.token), undefined);
      }
    }
    assert.equal(locks.size, held.length + 1);
    assert.equal(locks.find(Buffer.from(old.token)), old, "the old lock is still found by its token");
    for (const l of held) assert.equal(locks.find(Buffer.from(l.token)), l);
    assert.equal(new Set(held.map((l) => l.token.toString("hex"))).size, held.length, "tokens differ");
    assert.equal(locks.all().length, held.length + 1);
    assert.equal(locks.release(old), true);
    for (const l of held) assert.equal(locks.release(l), true);
    assert.equal(locks.size, 0);
    assert.deepEqual(locks.all(), []);
  });

  it("expires a lock held far longer than those taken after it at its own time", async () => {
    const expired: number[] = [];
    const locks = new MessageLocks<number>((l) => expired.push(l.consumer));
    const t0 = Date.now();
    locks.take(message(0), 0, 150, t0);
    // Taken and released after it: the first lock leaves the ring's order, not its expiry.
    for (let i = 1; i <= 1000; i++)
      assert.equal(locks.release(locks.take(message(i & 0xff), i, 150, t0)), true);
    const last = locks.take(message(1), 1001, 150, t0 + 100);
    await until(() => expired.length === 2, "both held locks to expire", 5000);
    assert.deepEqual(expired, [0, 1001]);
    assert.ok(Date.now() - t0 >= 250, "the later lock lasted its duration");
    assert.equal(locks.find(last.token), undefined);
    assert.equal(locks.size, 0);
  });

  it("holds 10,000 locks with one timer, and drops it when the locks are cleared", () => {
    const before = timers();
    const locks = new MessageLocks<number>(() => undefined);
    const now = Date.now();
    for (let i = 0; i < 10_000; i++) locks.take(message(i & 0xff), i, 60_000 + (i % 3) * 1000, now);
    assert.equal(locks.size, 10_000);
    assert.ok(timers() <= before + 1, `${timers() - before} timers for 10,000 locks`);
    locks.clear();
    assert.equal(locks.size, 0);
    assert.ok(timers() <= before, "the timer is gone");
  });
});
