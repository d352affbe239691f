/**
 * A small application run as a child process by the logging tests, with the environment switches
 * they set: through the embedded broker, with a SASL PLAIN password, it sends one message carrying
 * a token-like application property and receives it back. The session and links are created
 * before `open()` (pipelined), so their frames wait behind the SASL layer. Prints `received <body>`
 * on stdout; the library's lines go to stderr.
 *
 *   node --import tsx test/logging/apps/send-receive.ts
 */
import { Broker } from "../../../src/broker/index.js";
import {
  Connection,
  Message,
  MessageReceiver,
  MessageSender,
  MessageSendResult,
  SASLPlain,
  Session,
} from "../../../src/index.js";
import { PASSWORD, TOKEN, USER } from "./secrets.js";

const broker = await Broker.start({ host: "127.0.0.1", port: 0, sasl: { users: { [USER]: PASSWORD } } });
try {
  const port = Number(new URL(broker.url!).port);
  const conn = new Connection("127.0.0.1", new SASLPlain("127.0.0.1", USER, PASSWORD, { tls: false, port }));
  const session = new Session(conn);
  const sender = new MessageSender(session, "app", "orders");
  await Promise.all([conn.open({ timeout: 10_000 }), sender.open({ timeout: 10_000 })]);
  const outcome = await sender.send(
    new Message({ body: "hello", applicationProperties: { authorization: TOKEN } }),
    { timeout: 10_000 },
  );
  if (outcome.result !== MessageSendResult.Ok) throw new Error(`send failed: ${String(outcome.error)}`);
  const received = await new Promise<Message>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no message within 10 s")), 10_000);
    const receiver = new MessageReceiver(session, "orders", "app", {
      onMessageReceived: (m) => {
        clearTimeout(timer);
        void m.accept();
        resolve(m);
      },
    });
    receiver.open({ timeout: 10_000 }).catch(reject);
  });
  if (received.applicationProperties?.["authorization"] !== TOKEN) throw new Error("the property was lost");
  process.stdout.write(`received ${received.toString()}\n`);
  await conn.close();
} finally {
  await broker.close();
}
