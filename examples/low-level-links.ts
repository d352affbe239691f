/**
 * Low-level links (uamqp's `MessageSender`, `MessageReceiver`): links on a session you manage,
 * send outcomes, manual credit.
 *
 *   npx tsx examples/low-level-links.ts
 */
import {
  Connection,
  Message,
  MessageReceiver,
  MessageSender,
  MessageSendResult,
  SASLAnonymous,
  SenderSettleMode,
  Session,
  Source,
  Target,
} from "uamqp";
import { Broker } from "uamqp/broker";

await using broker = await Broker.start({
  port: 0,
  hooks: { refused: { onDelivery: { outcome: "reject", condition: "amqp:not-allowed" } } },
});
const host = "127.0.0.1";
await using connection = new Connection(host, new SASLAnonymous(host, { tls: false, port: broker.port! }));
await connection.open({ timeout: 5000 });
const session = new Session(connection);

// A sender, uamqp's way: construct, then open (opening a link opens its connection and session).
const sender = new MessageSender(session, "low-level-example", new Target(`${broker.url}/work`), {
  maxMessageSize: 65_536,
});
await sender.open({ timeout: 5000 });
for (let i = 0; i < 5; i++) {
  const outcome = await sender.send(new Message({ body: `job ${i}` }));
  if (i === 0)
    console.log(
      `send: result ${outcome.result === MessageSendResult.Ok ? "Ok" : outcome.result}, state ${outcome.state?.type}`,
    );
}

// Outcomes other than accepted resolve too (send never rejects for a delivery).
const refused = await session.createSender("refused");
const r = await refused.send(new Message({ body: "not allowed" }));
console.log(
  `refused: result ${r.result === MessageSendResult.Error ? "Error" : r.result}, ${r.error?.condition ?? ""}`,
);

// Pre-settled sends: no outcome to wait for.
const fast = await session.createSender("work", { sendSettleMode: SenderSettleMode.Settled });
await fast.send(new Message({ body: "job 5 (pre-settled)" }));

// A receiver with manual credit: nothing arrives until credit is granted.
const got: string[] = [];
let done: () => void = () => undefined;
const allThere = new Promise<void>((resolve) => (done = resolve));
const receiver = new MessageReceiver(session, new Source(`${broker.url}/work`), "low-level-example", {
  creditMode: "manual",
  onMessageReceived: (m) => {
    got.push(m.toString());
    void m.accept();
    if (got.length === 6) done();
  },
});
await receiver.open({ timeout: 5000 });
console.log(`credit before: ${receiver.credit}`);
receiver.resetLinkCredit(2); // uamqp's reset_link_credit: exactly 2 messages may come
await new Promise((resolve) => setTimeout(resolve, 200));
console.log(`after resetLinkCredit(2): ${got.length} messages`);
receiver.addCredit(10);
await allThere;
console.log(`received: ${got.join(", ")}`);
await receiver.close();
await sender.close();
