import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import type rhea from "rhea";
import {
  collect,
  openReceiver,
  openSender,
  sendAll,
  until,
  brokerFixture,
  waitEvent,
} from "./rhea-client.js";

type Ctx = rhea.EventContext;

interface RemoteAttach {
  rcv_settle_mode?: number;
}

function remoteRcvSettleMode(l: rhea.Receiver): number | undefined {
  return (l as unknown as { remote: { attach?: RemoteAttach } }).remote.attach?.rcv_settle_mode;
}

/** The delivery's state as the broker settled it: rhea's unwrapped outcome. */
function remoteState(ctx: Ctx): { type: string; condition: string | undefined } {
  const s = (ctx.delivery as unknown as { remote_state?: { constructor: { composite_type?: string } } })
    .remote_state;
  const error = (s as { error?: { condition?: string | { value: string } } } | undefined)?.error;
  const c = error?.condition;
  return {
    type: s?.constructor.composite_type ?? "none",
    condition: typeof c === "object" ? c.value : c,
  };
}

/** Waits for the broker's settling DISPOSITION of the delivery of `ctx`. */
function settledByBroker(r: rhea.Receiver, ctx: Ctx): Promise<Ctx> {
  const e = r as unknown as EventEmitter;
  return new Promise<Ctx>((resolve) => {
    const on = (s: Ctx): void => {
      if (s.delivery !== ctx.delivery) return;
      e.removeListener("settled", on);
      resolve(s);
    };
    e.on("settled", on);
  });
}

describe("broker: consumers in receiver-settle-mode second", () => {
  const { setup } = brokerFixture();
  const secondReceiver = async (c: rhea.Connection, address: string): Promise<rhea.Receiver> => {
    const r = await openReceiver(c, {
      source: address,
      credit_window: 0,
      autoaccept: false,
      rcv_settle_mode: 1,
    });
    return r;
  };

  it("answers the ATTACH with second and confirms each outcome after applying it to the queue", async () => {
    const { b, c } = await setup();
    await sendAll(
      await openSender(c, "s2"),
      ["a", "r", "rel", "mod"].map((body) => ({ body })),
    );
    const r = await secondReceiver(c, "s2");
    assert.equal(remoteRcvSettleMode(r), 1);
    const got = collect(r, 4);
    r.add_credit(4);
    const [a, rj, rel, mod] = await got;
    assert.equal(b.stats("s2").lockedCount, 4);

    const aDone = settledByBroker(r, a!);
    a!.delivery!.accept();
    assert.deepEqual(remoteState(await aDone), { type: "accepted", condition: undefined });
    assert.equal(b.stats("s2").messageCount, 3, "accepted: removed before the confirmation");

    const rjDone = settledByBroker(r, rj!);
    rj!.delivery!.reject({ condition: "app:bad", description: "no" });
    assert.deepEqual(remoteState(await rjDone), { type: "rejected", condition: "app:bad" });
    assert.equal(b.stats("s2").deadLetterCount, 1);

    const relDone = settledByBroker(r, rel!);
    rel!.delivery!.release();
    assert.equal(remoteState(await relDone).type, "released");

    const modDone = settledByBroker(r, mod!);
    mod!.delivery!.modified({ delivery_failed: true, undeliverable_here: false });
    assert.equal(remoteState(await modDone).type, "modified");

    assert.equal(b.stats("s2").lockedCount, 0);
    assert.equal(b.stats("s2").messageCount, 2, "released and modified are back in the queue");
    const again = collect(r, 2);
    r.add_credit(2);
    const redelivered = await again;
    assert.deepEqual(
      redelivered.map((x) => [x.message?.body, x.message?.delivery_count ?? 0]),
      [
        ["rel", 0],
        ["mod", 1],
      ],
    );
  });

  it("settles an outcome for an expired lock rejected with com.microsoft:message-lock-lost", async () => {
    const { b, c } = await setup({ queues: { lockDuration: 50 } });
    await sendAll(await openSender(c, "ll"), [{ body: "x" }]);
    const r = await secondReceiver(c, "ll");
    const first = collect(r, 1);
    r.add_credit(1);
    const m = (await first)[0]!;
    // The lock expires: the message is delivered again, with its delivery-count up.
    const second = collect(r, 1);
    r.add_credit(1);
    const again = (await second)[0]!;
    assert.equal(again.message?.body, "x");
    assert.equal(again.message.delivery_count, 1);

    const late = settledByBroker(r, m);
    m.delivery!.accept();
    assert.deepEqual(remoteState(await late), {
      type: "rejected",
      condition: "com.microsoft:message-lock-lost",
    });
    assert.equal(b.stats("ll").messageCount, 1, "the late accept removed nothing");
    assert.equal(b.stats("ll").deadLetterCount, 0, "nor dead-lettered it");

    const ok = settledByBroker(r, again);
    again.delivery!.accept();
    assert.equal(remoteState(await ok).type, "accepted");
    assert.equal(b.stats("ll").messageCount, 0);
  });

  it("in mode first (the default) an outcome for an expired lock is dropped silently", async () => {
    const { b, c } = await setup({ queues: { lockDuration: 50 } });
    await sendAll(await openSender(c, "ll1"), [{ body: "y" }]);
    const r = await openReceiver(c, { source: "ll1", credit_window: 0, autoaccept: false });
    assert.equal(remoteRcvSettleMode(r) ?? 0, 0);
    const first = collect(r, 1);
    r.add_credit(1);
    const m = (await first)[0]!;
    const second = collect(r, 1);
    r.add_credit(1);
    const again = (await second)[0]!;
    const outcomes: unknown[] = [];
    b.observe((e) => {
      if (e.type === "outcome") outcomes.push(e.state);
    });
    m.delivery!.accept(); // too late: dropped
    again.delivery!.accept(); // goes after it on the same session
    await until(() => b.stats("ll1").messageCount === 0, "the accept of the redelivery");
    assert.deepEqual(outcomes, [{ type: "accepted" }], "only the redelivery's outcome was applied");
    assert.equal(b.stats("ll1").deadLetterCount, 0);
  });

  it("a consumer detaching before the confirmation gets its messages redelivered", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "gone"), [{ body: "z" }]);
    const r = await secondReceiver(c, "gone");
    const first = collect(r, 1);
    r.add_credit(1);
    await first;
    r.close();
    await waitEvent(r, "receiver_close");
    await until(() => b.stats("gone").lockedCount === 0, "the unlock");
    assert.equal(b.stats("gone").messageCount, 1);
  });
});
