/**
 * Error policies and recovery (uamqp's `ErrorPolicy`, `ErrorAction`): which failures are retried
 * and after how long, and what a client does when its broker goes away and comes back.
 *
 *   npx tsx examples/error-policy.ts
 */
import { type AMQPError, ClientMessageError, ErrorAction, ErrorPolicy, Message, SendClient } from "uamqp";
import { Broker } from "uamqp/broker";

// 1. A vendor condition (here Service Bus's "server busy"): uamqp's on_error decides. Retry twice,
//    100 ms apart; the other conditions keep uamqp's rules (amqp:not-found fails at once…).
let attempts = 0;
const policy = new ErrorPolicy({
  maxRetries: 2,
  onError: (error: AMQPError) => {
    attempts++;
    console.log(`policy asked about ${error.condition ?? error.code}`);
    return error.condition === "com.microsoft:server-busy"
      ? new ErrorAction({ retry: true, backoffMs: 100 })
      : new ErrorAction({ retry: false });
  },
});
const busy = await Broker.start({
  port: 0,
  hooks: { busy: { onDelivery: { outcome: "reject", condition: "com.microsoft:server-busy" } } },
});
{
  await using client = new SendClient(`${busy.url}/busy`, { errorPolicy: policy });
  const message = new Message({ body: "retried" });
  const started = Date.now();
  try {
    await client.sendMessage(message);
  } catch (e) {
    if (!(e instanceof ClientMessageError)) throw e;
    console.log(
      `gave up after ${message.retries} retries, ${attempts} decisions, ≥ ${Math.floor((Date.now() - started) / 100) * 100} ms: ${e.condition ?? ""}`,
    );
  }
}
await busy.close();

// 2. Recovery: the broker restarts on the same port; the client reconnects with backoff and sends
//    what was waiting (at-least-once). `reconnect: false` would fail the client instead.
let broker = await Broker.start({ port: 0 });
const port = broker.port!;
const client = new SendClient(`${broker.url}/orders`, {
  reconnect: { initialMs: 100, maxMs: 1000, maxAttempts: 20 },
});
const statuses = (async () => {
  for await (const status of client.status()) {
    console.log(
      `status: ${status.type}${status.type === "reconnecting" ? ` (attempt ${status.attempt})` : ""}`,
    );
  }
})();
await client.sendMessage(new Message({ body: "before the restart" }));
await broker.close(); // the connection drops
broker = await Broker.start({ port }); // the same port, an empty broker
await client.sendMessage(new Message({ body: "after the restart" }));
console.log(`new broker holds ${broker.stats("orders").messageCount} message(s)`);
await client.close();
await statuses;
await broker.close();
