/**
 * A small application for the logging tests: a `SendClient` (name `restart-app`, a PLAIN password
 * in its URL) sends a message, its broker stops abruptly and comes back on the same port, the
 * client recovers and sends another. Prints the client's status events on stdout, one type a line.
 *
 *   node --import tsx test/logging/apps/broker-restart.ts
 */
import { Broker } from "../../../src/broker/index.js";
import { Message, SendClient, type ClientStatus } from "../../../src/index.js";
import { PASSWORD, USER } from "./secrets.js";

/** Resolves when `check` holds for a status event seen so far; rejects after 10 s. */
function waitFor(seen: ClientStatus[], check: (s: ClientStatus) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  return new Promise((resolve, reject) => {
    const look = (): void => {
      if (seen.some(check)) resolve();
      else if (Date.now() > deadline) reject(new Error(`no ${what} within 10 s`));
      else setTimeout(look, 5);
    };
    look();
  });
}

const broker = await Broker.start({ host: "127.0.0.1", port: 0, sasl: { users: { [USER]: PASSWORD } } });
try {
  const url = `${broker.url!.replace("amqp://", `amqp://${USER}:${PASSWORD}@`)}/restart-q`;
  const client = new SendClient(url, {
    clientName: "restart-app",
    reconnect: { initialMs: 20, maxMs: 200, maxAttempts: 50 },
  });
  const seen: ClientStatus[] = [];
  void (async () => {
    for await (const s of client.status()) {
      seen.push(s);
      process.stdout.write(`${s.type}\n`);
    }
  })();
  await client.sendMessage(new Message({ body: "before" }), { signal: AbortSignal.timeout(10_000) });
  await broker.stop({ abrupt: true });
  await waitFor(seen, (s) => s.type === "reconnecting", "reconnect attempt");
  await broker.restart();
  await waitFor(seen, (s) => s.type === "reconnected", "recovery");
  await client.sendMessage(new Message({ body: "after" }), { signal: AbortSignal.timeout(10_000) });
  await client.close();
} finally {
  await broker.close();
}
