/** `uamqp send` and `uamqp receive` against any AMQP 1.0 URL. */
import { parseArgs } from "node:util";
import { Address } from "../address/index.js";
import { SASLAnonymous, SASLPlain, type AMQPAuth } from "../auth/amqp-auth.js";
import { Connection } from "../client/connection.js";
import { SenderSettleMode } from "../client/link-states.js";
import { MessageReceiver } from "../client/message-receiver.js";
import { MessageSender } from "../client/message-sender.js";
import type { Message } from "../message/message.js";
import { Message as Msg } from "../message/message.js";
import { MessageSendResult } from "../message/send-result.js";
import { UsageError, positiveInt, type CliIo } from "./args.js";

function authFor(address: Address): AMQPAuth {
  const e = address.endpoint();
  const transport = { tls: e.tls, port: e.port, ...(e.webSocket ? { type: 2 as const } : {}) };
  const creds = address.credentials();
  return creds
    ? new SASLPlain(e.hostname, creds.username, creds.password, transport)
    : new SASLAnonymous(e.hostname, transport);
}

function parseUrl(url: string | undefined): Address {
  if (url === undefined) throw new UsageError("a URL is required, e.g. amqp://127.0.0.1:5672/queue");
  return Address.parse(url);
}

export async function runSend(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      count: { type: "string" },
      body: { type: "string" },
      size: { type: "string" },
      settled: { type: "boolean" },
    },
  });
  const address = parseUrl(positionals[0]);
  const count = positiveInt(values.count, 1, "--count");
  const body =
    values.size !== undefined
      ? Buffer.alloc(positiveInt(values.size, 1, "--size"), 0x61)
      : (values.body ?? "hello");
  const conn = new Connection(address.hostname, authFor(address));
  try {
    const sender = new MessageSender(conn.createSession(), "uamqp-cli", address, {
      sendSettleMode: values.settled ? SenderSettleMode.Settled : SenderSettleMode.Unsettled,
    });
    await sender.open({ timeout: 30_000 });
    const outcomes = await Promise.all(Array.from({ length: count }, () => sender.send(new Msg({ body }))));
    const failed = outcomes.filter((o) => o.result !== MessageSendResult.Ok);
    io.stdout.write(`sent ${count - failed.length} of ${count} message(s) to ${address.toString()}\n`);
    if (failed.length > 0) {
      io.stderr.write(`uamqp: ${failed.length} failed: ${failed[0]!.error?.message ?? "unknown"}\n`);
      return 1;
    }
    return 0;
  } finally {
    await conn.close();
  }
}

export async function runReceive(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { count: { type: "string" }, timeout: { type: "string" } },
  });
  const address = parseUrl(positionals[0]);
  const count = positiveInt(values.count, 1, "--count");
  const timeoutMs = positiveInt(values.timeout, 5000, "--timeout");
  const conn = new Connection(address.hostname, authFor(address));
  let got = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let timer = setTimeout(resolve, timeoutMs);
      const receiver = new MessageReceiver(conn.createSession(), address, "uamqp-cli", {
        prefetch: Math.min(count, 1000),
        onMessageReceived: (m: Message) => {
          got++;
          io.stdout.write(`${render(m)}\n`);
          void m.accept();
          clearTimeout(timer);
          if (got >= count) resolve();
          else timer = setTimeout(resolve, timeoutMs);
        },
      });
      receiver.open({ timeout: 30_000 }).catch(reject);
    });
    io.stderr.write(`received ${got} message(s)\n`);
    return got > 0 ? 0 : 1;
  } finally {
    await conn.close();
  }
}

function render(m: Message): string {
  if (m.data)
    return m.data.map((d) => Buffer.from(d.buffer, d.byteOffset, d.length).toString("utf8")).join("");
  return JSON.stringify(m.value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
