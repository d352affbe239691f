/**
 * SASL (uamqp's `SASLPlain`, `SASLAnonymous`): a broker with users; credentials in the URL or in
 * an auth object; a wrong password is an `AuthenticationException`.
 *
 *   npx tsx examples/sasl.ts
 */
import {
  AuthenticationException,
  Message,
  receiveMessage,
  SASLAnonymous,
  SASLPlain,
  SendClient,
} from "uamqp";
import { Broker } from "uamqp/broker";

await using broker = await Broker.start({
  port: 0,
  sasl: { users: { alice: "s3cret" }, failedLoginDelayMs: 0 },
});
broker.observe((e) => {
  if (e.type === "connection-open")
    console.log(`broker: ${e.mechanism ?? "no SASL"} login as ${e.identity ?? "(anonymous)"}`);
});
const host = "127.0.0.1";

// 1. Credentials in the URL (percent-encoded): SASL PLAIN, as uamqp builds it from the URL.
await using fromUrl = new SendClient(`amqp://alice:s3cret@${host}:${broker.port}/orders`);
await fromUrl.sendMessage(new Message({ body: "via URL credentials" }));

// 2. An auth object (port and TLS from its options; plain TCP here).
const auth = new SASLPlain(host, "alice", "s3cret", { tls: false, port: broker.port! });
console.log(`auth: ${String(auth)}`); // the password is never shown
const message = await receiveMessage(`amqp://${host}:${broker.port}/orders`, { auth, timeout: 5000 });
console.log(`received: ${message?.toString() ?? "(nothing)"}`);

// 3. Refused: a wrong password, and ANONYMOUS on a broker with users.
for (const [name, wrong] of [
  ["wrong password", new SASLPlain(host, "alice", "guess", { tls: false, port: broker.port! })],
  ["anonymous", new SASLAnonymous(host, { tls: false, port: broker.port! })],
] as const) {
  await using client = new SendClient(`amqp://${host}:${broker.port}/orders`, {
    auth: wrong,
    reconnect: false,
  });
  try {
    await client.open();
    console.log(`${name}: accepted?`);
  } catch (e) {
    if (e instanceof AuthenticationException) console.log(`${name}: ${e.code} (${e.message})`);
    else throw e;
  }
}
