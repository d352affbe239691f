/**
 * A consumer in its own process, for tests that stop it with SIGSTOP (test/broker/locks.test.ts):
 * rhea attaches a PeekLock receiver to a queue of the broker, grants `count` credit and settles
 * nothing. Once it holds `count` messages it prints one JSON line `{ "held": count, "at": <ms> }`
 * and keeps its connection open (sending rhea's heartbeats) until it is stopped or killed.
 *
 * Usage: node --import tsx test/broker/lock-holder.ts <port> <queue> <count>
 */
import rhea from "rhea";

const [port, queue, count] = [Number(process.argv[2]), process.argv[3]!, Number(process.argv[4])];
const container = rhea.create_container({ id: "lock-holder" });
container.on("error", () => undefined);
const conn = container.connect({ host: "127.0.0.1", port, reconnect: false });
conn.on("disconnected", () => {
  process.exit(2);
});
const receiver = conn.open_receiver({ source: queue, credit_window: 0, autoaccept: false });
let held = 0;
receiver.on("message", () => {
  held++;
  if (held === count) process.stdout.write(`${JSON.stringify({ held, at: Date.now() })}\n`);
});
receiver.on("receiver_open", () => {
  receiver.add_credit(count);
});
