import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AMQPAbortError, AMQPError } from "../../src/errors/index.js";
import {
  DEFAULT_BACKOFF,
  ExponentialBackoff,
  MAX_TIMER_MS,
  computeBackoffMs,
  sleep,
} from "../../src/policy/index.js";
import { within } from "../../src/policy/wait.js";

const ZERO = (): number => 0;
const ALMOST_ONE = (): number => 0.999999999;
const HALF = (): number => 0.5;

describe("computeBackoffMs", () => {
  it("grows the bound exponentially up to maxMs (jitter 0 = the bound itself)", () => {
    const opts = { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 50].map((a) => computeBackoffMs(a, opts)),
      [100, 200, 400, 800, 1000, 1000, 1000],
    );
  });

  it("full jitter: delay in [0, bound], determined by random", () => {
    const opts = { initialMs: 100, maxMs: 1000 };
    assert.equal(computeBackoffMs(3, { ...opts, random: ZERO }), 0);
    assert.equal(computeBackoffMs(3, { ...opts, random: HALF }), 400);
    assert.equal(computeBackoffMs(3, { ...opts, random: ALMOST_ONE }), 800);
    assert.equal(computeBackoffMs(10, { ...opts, random: ALMOST_ONE }), 1000);
  });

  it("partial jitter randomises only that fraction of the bound", () => {
    const opts = { initialMs: 1000, maxMs: 10_000, jitter: 0.25 };
    assert.equal(computeBackoffMs(0, { ...opts, random: ZERO }), 750);
    assert.equal(computeBackoffMs(0, { ...opts, random: ALMOST_ONE }), 1000);
    assert.equal(computeBackoffMs(1, { ...opts, random: HALF }), 1750);
  });

  it("stays within bounds for many attempts and random values", () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const r of [0, 0.1, 0.37, 0.5, 0.9, 0.999]) {
        const bound = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.initialMs * 2 ** attempt);
        const d = computeBackoffMs(attempt, { random: () => r });
        assert.ok(d >= 0 && d <= bound, `attempt ${attempt}, r ${r}: ${d} not in [0, ${bound}]`);
        assert.ok(Number.isInteger(d));
      }
    }
  });

  it("clamps a misbehaving random source to [0, 1]", () => {
    assert.equal(computeBackoffMs(0, { initialMs: 100, random: () => 7 }), 100);
    assert.equal(computeBackoffMs(0, { initialMs: 100, random: () => -3 }), 0);
  });

  it("handles a zero initial delay and huge attempts", () => {
    assert.equal(computeBackoffMs(5000, { initialMs: 0, random: HALF }), 0);
    assert.equal(computeBackoffMs(5000, { initialMs: 10, maxMs: 500, jitter: 0 }), 500);
  });

  it("rejects invalid arguments", () => {
    assert.throws(() => computeBackoffMs(-1), RangeError);
    assert.throws(() => computeBackoffMs(1.5), RangeError);
    assert.throws(() => computeBackoffMs(0, { initialMs: -1 }), RangeError);
    assert.throws(() => computeBackoffMs(0, { multiplier: 0.5 }), RangeError);
    assert.throws(() => computeBackoffMs(0, { jitter: 1.5 }), RangeError);
    assert.throws(() => computeBackoffMs(0, { jitter: Number.NaN }), RangeError);
    assert.throws(() => computeBackoffMs(3, { maxMs: Infinity }), RangeError);
    assert.throws(() => computeBackoffMs(3, { multiplier: Infinity }), RangeError);
  });
});

describe("ExponentialBackoff", () => {
  it("walks the sequence and resets", () => {
    const b = new ExponentialBackoff({ initialMs: 10, maxMs: 50, jitter: 0 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [10, 20, 40, 50]);
    assert.equal(b.attempt, 4);
    b.reset();
    assert.equal(b.attempt, 0);
    assert.equal(b.next(), 10);
  });

  it("validates its options up front", () => {
    assert.throws(() => new ExponentialBackoff({ multiplier: 0 }), RangeError);
  });
});

/** Keeps the event loop alive while an unref'd sleep is pending. */
async function withRefTimer<T>(p: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    return await p;
  } finally {
    clearInterval(keepAlive);
  }
}

describe("sleep", () => {
  it("resolves (to undefined) after the delay, not before a shorter timer", async () => {
    let shorterFired = false;
    setTimeout(() => (shorterFired = true), 0);
    assert.equal(await withRefTimer(sleep(20)), undefined);
    assert.equal(shorterFired, true);
  });

  it("resolves with an untouched signal and removes its listener", async () => {
    const ac = new AbortController();
    await withRefTimer(sleep(1, ac.signal));
    ac.abort(); // must not throw or reject anything after completion
    assert.equal(ac.signal.aborted, true);
  });

  it("rejects with an AbortError-named AMQPAbortError when aborted", async () => {
    const ac = new AbortController();
    const reason = new Error("stop");
    const p = withRefTimer(sleep(60_000, ac.signal));
    ac.abort(reason);
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof AMQPAbortError);
      assert.ok(e instanceof AMQPError);
      assert.equal(e.name, "AbortError");
      assert.equal(e.code, "AMQP_ABORTED");
      assert.equal(e.cause, reason);
      assert.equal(e.retryable, false);
      return true;
    });
  });

  it("rejects at once with an already-aborted signal", async () => {
    const p = sleep(60_000, AbortSignal.abort("gone"));
    await assert.rejects(p, (e: unknown) => e instanceof AMQPAbortError && e.cause === "gone");
  });

  it("does not keep the process alive", async () => {
    // An unref'd sleep alone lets a child process exit before the timer fires.
    const { spawnSync } = await import("node:child_process");
    const url = new URL("../../src/policy/wait.ts", import.meta.url).href;
    const script = `import(${JSON.stringify(url)}).then((m) => { m.sleep(60000).then(() => process.exit(3)); });`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it("rejects invalid delays synchronously", () => {
    assert.throws(() => sleep(-1), RangeError);
    assert.throws(() => sleep(Number.NaN), RangeError);
    assert.throws(() => sleep(MAX_TIMER_MS + 1), RangeError);
  });
});

describe("within", () => {
  it("resolves with the promise when it settles first, and stops its timer", async () => {
    const started = Date.now();
    assert.equal(await within(Promise.resolve("done"), 60_000, undefined), "done");
    assert.ok(Date.now() - started < 1000);
  });

  it("resolves undefined once the time is up", async () => {
    const started = Date.now();
    assert.equal(await within(new Promise<string>(() => undefined), 30, undefined), undefined);
    assert.ok(Date.now() - started >= 25);
  });

  it("rejects with an AMQPAbortError when the signal aborts, at once when it already has", async () => {
    const ac = new AbortController();
    const p = within(new Promise<string>(() => undefined), 60_000, ac.signal);
    ac.abort("stop");
    await assert.rejects(p, (e: unknown) => e instanceof AMQPAbortError && e.cause === "stop");
    await assert.rejects(
      within(Promise.resolve(1), 60_000, AbortSignal.abort("gone")),
      (e: unknown) => e instanceof AMQPAbortError && e.cause === "gone",
    );
  });

  it("keeps the process alive until the time is up (a receive call waits out its timeout)", async () => {
    const { spawnSync } = await import("node:child_process");
    const url = new URL("../../src/policy/wait.ts", import.meta.url).href;
    const script = `import(${JSON.stringify(url)}).then((m) => { m.within(new Promise(() => {}), 200, undefined).then((v) => process.exit(v === undefined ? 3 : 4)); });`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(r.status, 3, r.stderr);
  });
});
