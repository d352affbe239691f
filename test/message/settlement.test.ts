import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import { MessageAlreadySettled, MessageSendFailed } from "../../src/errors/index.js";
import {
  Message,
  MessageSendResult,
  MessageState,
  type MessageSettler,
  type SettlementState,
} from "../../src/message/index.js";

describe("send state and gather()", () => {
  it("a new message is WaitingToBeSent, not settled, and gathers to itself", () => {
    const m = new Message({ body: "a" });
    assert.equal(m.state, MessageState.WaitingToBeSent);
    assert.equal(m.settled, false);
    assert.equal(m.retries, 0);
    assert.deepEqual(m.gather(), [m]);
  });
  it("re-queueing a completed message throws MessageAlreadySettled", () => {
    const m = new Message({ body: "a" });
    const calls: unknown[] = [];
    m.onSendComplete = (result, error) => calls.push([result, error]);
    m.completeSend(MessageSendResult.Ok);
    assert.equal(m.state, MessageState.SendComplete);
    assert.equal(m.settled, true);
    assert.deepEqual(calls, [[MessageSendResult.Ok, undefined]]);
    assert.throws(() => m.gather(), MessageAlreadySettled);
  });
  it("a failed message re-throws its stored failure; Cancelled is a failure", () => {
    const m = new Message({ body: "a" });
    const err = new MessageSendFailed("rejected", { condition: "amqp:not-found" });
    m.completeSend(MessageSendResult.Error, err);
    assert.equal(m.state, MessageState.SendFailed);
    assert.throws(
      () => m.gather(),
      (e) => e === err,
    );
    const c = new Message({ body: "a" });
    c.completeSend(MessageSendResult.Cancelled);
    assert.equal(c.state, MessageState.SendFailed);
    assert.ok(c.sendError instanceof MessageSendFailed);
  });
  it("a received message cannot be gathered", () => {
    assert.throws(() => Message.decode(new Message({ body: "a" }).encode()).gather(), TypeError);
  });
});

describe("settlement hooks", () => {
  class FakeSettler implements MessageSettler {
    states: SettlementState[] = [];
    result = true;
    settle(state: SettlementState): Promise<boolean> {
      this.states.push(state);
      return Promise.resolve(this.result);
    }
  }
  const received = (settler?: MessageSettler): Message =>
    Message.decode(new Message({ body: "a" }).encode(), {
      settler,
      deliveryNo: 3,
      deliveryTag: Uint8Array.of(1),
    });

  it("a received message reads its delivery tag from the delivery when asked, once; it can be set and is shown", () => {
    let reads = 0;
    const delivery = {
      get tag(): Uint8Array {
        reads++;
        return Uint8Array.of(7, 8);
      },
    };
    const m = Message.decode(new Message({ body: "a" }).encode(), { deliveryNo: 4, deliveryTagOf: delivery });
    assert.equal(reads, 0, "decoding makes no tag");
    // Shown where the field was: after deliveryNo.
    assert.match(inspect(m), /deliveryNo: 4,\s+deliveryTag: Uint8Array\(2\) \[ 7, 8 \]/);
    assert.deepEqual(m.deliveryTag, Uint8Array.of(7, 8));
    assert.equal(reads, 1, "read once");
    m.deliveryTag = Uint8Array.of(1);
    assert.deepEqual(m.deliveryTag, Uint8Array.of(1));
    assert.equal(reads, 1);
    // A tag given as such wins over nothing; a message sent has none.
    assert.deepEqual(received().deliveryTag, Uint8Array.of(1));
    assert.equal(new Message({ body: "a" }).deliveryTag, undefined);
  });
  it("a local message has no settler: TypeError", () => {
    const m = new Message({ body: "a" });
    assert.throws(() => m.accept(), TypeError);
    assert.throws(() => m.reject(), TypeError);
    assert.throws(() => m.release(), TypeError);
    assert.throws(() => m.modify({ deliveryFailed: true, undeliverableHere: false }), TypeError);
  });
  it("a decoded message without settler is already settled: false", async () => {
    const m = received();
    assert.equal(m.state, MessageState.ReceivedSettled);
    assert.equal(m.settled, true);
    assert.equal(await m.accept(), false);
  });
  it("accept sends accepted once, then false", async () => {
    const s = new FakeSettler();
    const m = received(s);
    assert.equal(m.state, MessageState.ReceivedUnsettled);
    assert.equal(m.deliveryNo, 3);
    assert.deepEqual(m.deliveryTag, Uint8Array.of(1));
    assert.equal(await m.accept(), true);
    assert.equal(m.state, MessageState.ReceivedSettled);
    assert.equal(await m.release(), false);
    assert.deepEqual(s.states, [{ type: "accepted" }]);
  });
  it("reject defaults to amqp:internal-error and carries description and info", async () => {
    const s = new FakeSettler();
    await received(s).reject();
    await received(s).reject({ condition: "x:bad", description: "why", info: { k: "v" } });
    assert.deepEqual(s.states, [
      {
        type: "rejected",
        error: { condition: "amqp:internal-error", description: undefined, info: undefined },
      },
      { type: "rejected", error: { condition: "x:bad", description: "why", info: { k: "v" } } },
    ]);
    assert.throws(() => received(s).reject({ info: "x" as never }), TypeError);
  });
  it("release and modify send their outcomes with explicit flags", async () => {
    const s = new FakeSettler();
    await received(s).release();
    await received(s).modify({ deliveryFailed: true, undeliverableHere: false });
    await received(s).modify({
      deliveryFailed: false,
      undeliverableHere: true,
      messageAnnotations: { "x-a": 1 },
    });
    assert.deepEqual(s.states, [
      { type: "released" },
      { type: "modified", deliveryFailed: true, undeliverableHere: false, messageAnnotations: undefined },
      { type: "modified", deliveryFailed: false, undeliverableHere: true, messageAnnotations: { "x-a": 1 } },
    ]);
    assert.throws(() => received(s).modify({} as never), TypeError);
  });
  it("a failing settler leaves the message unsettled", async () => {
    const m = received({ settle: () => Promise.reject(new Error("link gone")) });
    await assert.rejects(m.accept(), /link gone/);
    assert.equal(m.state, MessageState.ReceivedUnsettled);
  });
  it("a settler that answers at once (settleNow) is not asked to settle; undefined falls back to settle()", async () => {
    const now: SettlementState[] = [];
    let answer: boolean | undefined = true;
    const s = new FakeSettler();
    const settler: MessageSettler = {
      settle: (state) => s.settle(state),
      settleNow: (state) => {
        now.push(state);
        return answer;
      },
    };
    assert.equal(await received(settler).accept(), true);
    answer = false;
    const refused = received(settler);
    assert.equal(await refused.release(), false);
    assert.equal(refused.state, MessageState.ReceivedSettled);
    answer = undefined;
    assert.equal(await received(settler).reject(), true);
    assert.deepEqual(
      now.map((st) => st.type),
      ["accepted", "released", "rejected"],
    );
    assert.deepEqual(
      s.states.map((st) => st.type),
      ["rejected"],
      "settle() only when settleNow had no answer",
    );
  });
  it("acceptQuietly accepts an unsettled message once, and a failure leaves it unsettled, unreported", async () => {
    const s = new FakeSettler();
    const m = received(s);
    m.acceptQuietly();
    assert.equal(m.state, MessageState.ReceivedSettled);
    m.acceptQuietly();
    assert.deepEqual(s.states, [{ type: "accepted" }]);
    received().acceptQuietly(); // already settled: nothing to do
    let failed!: () => void;
    const settled = new Promise<void>((resolve) => (failed = resolve));
    const f = received({
      settle: () => {
        failed();
        return Promise.reject(new Error("link gone"));
      },
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      f.acceptQuietly();
      await settled;
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(f.state, MessageState.ReceivedUnsettled);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
  it("decode builds the subclass it is called on", () => {
    class ReceivedMessage extends Message {
      get hasSettler(): boolean {
        return this.settler !== undefined;
      }
    }
    const m = ReceivedMessage.decode(new Message({ body: "a" }).encode(), { settler: new FakeSettler() });
    assert.ok(m instanceof ReceivedMessage);
    assert.equal(m.hasSettler, true);
  });
});
