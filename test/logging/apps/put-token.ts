/**
 * A small application for the logging tests: puts a SAS token on the embedded broker's `$cbs` node
 * the way token authentication does (the token is the request's AmqpValue body; the application properties
 * name the operation, type and audience), and prints the response's status code on stdout.
 *
 *   node --import tsx test/logging/apps/put-token.ts
 */
import { Broker } from "../../../src/broker/index.js";
import {
  Connection,
  Message,
  MessageReceiver,
  MessageSender,
  MessageSendResult,
  SASLAnonymous,
  Session,
} from "../../../src/index.js";
import { TOKEN } from "./secrets.js";

const broker = await Broker.start({ host: "127.0.0.1", port: 0 });
try {
  const port = Number(new URL(broker.url!).port);
  const conn = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port }));
  const session = new Session(conn);
  const response = new Promise<Message>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no response within 10 s")), 10_000);
    new MessageReceiver(session, "$cbs", "cbs-reply", {
      onMessageReceived: (m) => {
        clearTimeout(timer);
        resolve(m);
      },
    })
      .open({ timeout: 10_000 })
      .catch(reject);
  });
  const sender = new MessageSender(session, "cbs-request", "$cbs");
  await sender.open({ timeout: 10_000 });
  const request = new Message({
    body: TOKEN,
    bodyType: "value",
    properties: { messageId: "put-1", replyTo: "cbs-reply" },
    applicationProperties: {
      operation: "put-token",
      type: "servicebus.windows.net:sastoken",
      name: "amqp://127.0.0.1/orders",
      expiration: 1900000000,
    },
  });
  const outcome = await sender.send(request, { timeout: 10_000 });
  if (outcome.result !== MessageSendResult.Ok)
    throw new Error(`put-token not accepted: ${String(outcome.error)}`);
  const reply = await response;
  process.stdout.write(`status ${JSON.stringify(reply.applicationProperties?.["status-code"])}\n`);
  await conn.close();
} finally {
  await broker.close();
}
