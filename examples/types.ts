/**
 * Types (uamqp's `uamqp.types` and `utils.data_factory`): AMQP values in JavaScript, explicit type
 * wrappers, `wrap()` / `unwrap()`, and typed application properties through a broker.
 *
 *   npx tsx examples/types.ts
 */
import {
  AMQPArray,
  AMQPChar,
  AMQPDescribed,
  AMQPLong,
  AMQPSymbol,
  AMQPTimestamp,
  AMQPuInt,
  AMQPuLong,
  AMQPUuid,
  codec,
  Message,
  receiveMessage,
  sendMessage,
  typeOf,
  unwrap,
  wrap,
} from "uamqp";
import { Broker } from "uamqp/broker";

// 1. Plain JavaScript values have a default AMQP type; wrap() shows it.
for (const v of ["text", 5, 2 ** 40, 1.5, 7n, true, null, new Date(0), new Uint8Array([1, 2])]) {
  console.log(`${String(v).padEnd(40)} → ${typeOf(wrap(v))}`);
}

// 2. Wrappers force a type (uamqp's AMQPuInt, AMQPSymbol, AMQPArray, …).
const typed = {
  uint: new AMQPuInt(7),
  ulong: new AMQPuLong(2n ** 63n),
  long: new AMQPLong(5),
  symbol: new AMQPSymbol("x-opt-kind"),
  char: new AMQPChar("é"),
  uuid: new AMQPUuid("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
  timestamp: new AMQPTimestamp(1_700_000_000_000),
  symbols: new AMQPArray("symbol", ["PLAIN", "ANONYMOUS"]),
  described: new AMQPDescribed(new AMQPSymbol("com.example:point"), [1, 2]),
};
const bytes = codec.encode(typed);
const decoded = codec.decode(bytes);
console.log(`encoded ${bytes.length} bytes; decoded back:`, unwrap(decoded));

// 3. Typed values survive a trip through a broker in application properties and annotations.
await using broker = await Broker.start({ port: 0 });
const url = `${broker.url}/typed`;
await sendMessage(
  url,
  new Message({
    body: { nested: [1, "two", new AMQPSymbol("three")] },
    applicationProperties: { count: new AMQPuInt(3), big: 2n ** 40n, when: new Date(1_700_000_000_000) },
    messageAnnotations: { "x-opt-sequence-number": 42n },
  }),
);
const m = await receiveMessage(url, { timeout: 5000 });
const count = m?.applicationProperties?.["count"];
console.log(
  `count is ${typeOf(count)} ${String(unwrap(count))}; big is ${typeof m?.applicationProperties?.["big"]}`,
);
console.log("body:", unwrap(m?.value), "annotations:", m?.messageAnnotations);
