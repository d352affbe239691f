/**
 * A small application for the logging tests: opens a `Connection` to the embedded broker with the
 * `debug` option given as the first argument (`true` or `false`), never calling `setLogger()`.
 * Prints `open` on stdout.
 *
 *   node --import tsx test/logging/apps/debug-option.ts true
 */
import { Broker } from "../../../src/broker/index.js";
import { Connection, SASLAnonymous } from "../../../src/index.js";

const debug = process.argv[2] === "true";
const broker = await Broker.start({ host: "127.0.0.1", port: 0 });
try {
  const port = Number(new URL(broker.url!).port);
  const conn = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port }), { debug });
  await conn.open({ timeout: 10_000 });
  process.stdout.write("open\n");
  await conn.close();
} finally {
  await broker.close();
}
