/**
 * Numeric enums read by name: `util.inspect` of a send outcome, a message, a sender or receiver
 * shows `MessageSendResult.Ok`, `MessageState.ReceivedSettled`, `MessageSenderState.Open`, while
 * the values stay uamqp's numbers (code comparing them keeps working).
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { after, before, describe, it } from "node:test";
import { Broker } from "../../src/broker/index.js";
import { SASLAnonymous } from "../../src/auth/amqp-auth.js";
import { Connection } from "../../src/client/connection.js";
import { MessageReceiver } from "../../src/client/message-receiver.js";
import { MessageSender } from "../../src/client/message-sender.js";
import { Session } from "../../src/client/session.js";
import { MessageSenderState } from "../../src/client/link-states.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { enumText } from "../../src/util/enum-names.js";
import { within } from "../support/waits.js";

describe("enum values by name", () => {
  let broker: Broker;
  let conn: Connection;
  before(async () => {
    broker = await Broker.start({ host: "127.0.0.1", port: 0 });
    const port = Number(new URL(broker.url!).port);
    conn = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port }));
    await conn.open({ timeout: 10_000 });
  });
  after(async () => {
    await conn.close();
    await broker.close();
  });

  it("a send outcome: its result by name, the number kept", async () => {
    const sender = new MessageSender(new Session(conn), "me", "enum-q");
    await sender.open({ timeout: 10_000 });
    const outcome = await sender.send(new Message({ body: "x" }), { timeout: 10_000 });
    assert.equal(outcome.result, 1);
    assert.equal(outcome.result, MessageSendResult.Ok);
    const { result, state, error } = outcome;
    assert.deepEqual({ result, state, error }, { result: 1, state: { type: "accepted" }, error: undefined });
    assert.equal(
      inspect(outcome),
      "SendOutcome { result: MessageSendResult.Ok, state: { type: 'accepted' } }",
    );
    assert.equal(JSON.stringify(outcome), '{"result":1,"state":{"type":"accepted"}}');
    assert.ok(!/result: \d/.test(inspect(outcome)));

    assert.match(
      inspect(sender),
      /^MessageSender \{\n {2}name: '[^']+',\n {2}state: MessageSenderState\.Open,/,
    );
    assert.match(inspect(sender), /receiveSettleMode: ReceiverSettleMode\.PeekLock/);
    assert.equal(sender.state, MessageSenderState.Open);
    await sender.close();
    assert.match(inspect(sender), /state: MessageSenderState\.Idle/);
  });

  it("a message: its state by name, before and after the send, and once received", async () => {
    const m = new Message({ body: "y" });
    assert.match(inspect(m), /^Message \{\n {2}state: MessageState\.WaitingToBeSent,/);
    const sender = new MessageSender(new Session(conn), "me", "enum-m");
    await sender.open({ timeout: 10_000 });
    await sender.send(m, { timeout: 10_000 });
    const received = await within(
      new Promise<{ message: Message; receiver: MessageReceiver }>((resolve) => {
        const receiver: MessageReceiver = new MessageReceiver(new Session(conn), "enum-m", "me", {
          onMessageReceived: (message) => resolve({ message, receiver }),
        });
      }),
      "the message",
    );
    assert.equal(received.message.state, MessageState.ReceivedUnsettled);
    assert.match(inspect(received.message), /state: MessageState\.ReceivedUnsettled,/);
    assert.match(inspect(received.receiver), /^MessageReceiver \{[^}]*state: MessageReceiverState\.Open/);
    await received.message.accept();
    assert.match(inspect(received.message), /state: MessageState\.ReceivedSettled,/);
    // The other fields are shown as before.
    assert.match(inspect(received.message), /retries: 0,/);
    assert.match(inspect({ nested: { deeper: { m } } }), /\[Message\]/);
    await sender.close();
    await received.receiver.close();
  });

  it("a value with no name shows as itself", () => {
    assert.equal(enumText("MessageSendResult", MessageSendResult, 2), "MessageSendResult.Error");
    assert.equal(enumText("MessageSendResult", MessageSendResult, 9), "9");
    const m = new Message();
    m.state = 42 as MessageState;
    assert.match(inspect(m), /state: 42,/);
  });
});
