/** `uamqp send` and `uamqp receive` against any AMQP 1.0 URL. */
import { readFileSync } from "node:fs";
import { Address } from "../address/index.js";
import type { TransportOptions } from "../auth/amqp-auth.js";
import { resolveAuth } from "../auth/address-auth.js";
import { Connection } from "../client/connection.js";
import { SenderSettleMode } from "../client/link-states.js";
import { MessageReceiver } from "../client/message-receiver.js";
import { MessageSender } from "../client/message-sender.js";
import { Message } from "../message/message.js";
import { MessageSendResult } from "../message/send-result.js";
import { enumText } from "../util/enum-names.js";
import {
  UsageError,
  booleanFlag,
  integerValue,
  parseCommand,
  positiveInt,
  stringFlag,
  type CliIo,
  type CommandSpec,
  type FlagSpec,
  type ParsedCommand,
} from "./args.js";
import { failureLine, redactor, traceTo } from "./client-output.js";
import { commandHelp } from "./help.js";
import { asBuffer } from "../util/buffer-view.js";

const DEFAULT_OPEN_TIMEOUT_MS = 30_000;
const DEFAULT_SEND_TIMEOUT_MS = 30_000;
const DEFAULT_RECEIVE_TIMEOUT_MS = 5000;

const CONNECTION = "connection";

/** The flags of both commands: how to reach the broker, and the trace. */
const CONNECTION_FLAGS: readonly FlagSpec[] = [
  {
    group: CONNECTION,
    name: "ca",
    type: "string",
    value: "FILE",
    help: "trust this CA certificate (PEM) for an amqps:// or wss:// broker, e.g. a self-signed one (default: Node's CAs)",
  },
  {
    group: CONNECTION,
    name: "open-timeout",
    type: "string",
    value: "MS",
    help: `bound on connecting, logging in and attaching the link (default ${DEFAULT_OPEN_TIMEOUT_MS})`,
  },
  {
    group: CONNECTION,
    name: "debug",
    type: "boolean",
    help: "print every frame in and out to stderr, one line each (passwords never shown)",
  },
];

const URL_HELP =
  "URL: amqp://, amqps://, ws:// or wss:// host[:port]/address; user:password@ before the host logs in with SASL PLAIN (else ANONYMOUS). The password is never printed.";
const EXIT_HELP =
  "Exits 0 on success, 1 with a one-line reason and its error code when the command fails (connection refused, login refused, unknown address, time-out, TLS), 2 for a bad command line.";

export const SEND_COMMAND: CommandSpec = {
  name: "send",
  positionals: "<url>",
  summary: "send messages to an address of any AMQP 1.0 broker",
  description: [
    "Sends --count messages to the URL's address and waits for the broker to accept each one.",
    URL_HELP,
    EXIT_HELP,
  ],
  flags: [
    {
      group: "messages",
      name: "count",
      type: "string",
      value: "N",
      help: "how many messages to send (default 1)",
    },
    {
      group: "messages",
      name: "body",
      type: "string",
      value: "TEXT",
      help: 'the body of each message, as UTF-8 bytes (default "hello")',
    },
    {
      group: "messages",
      name: "size",
      type: "string",
      value: "BYTES",
      help: "instead of --body: a body of this many bytes ('a' repeated)",
    },
    {
      group: "messages",
      name: "settled",
      type: "boolean",
      help: "send pre-settled (at most once): do not wait for the broker's outcome",
    },
    {
      group: "messages",
      name: "timeout",
      type: "string",
      value: "MS",
      help: `bound on waiting for link credit and each message's outcome (default ${DEFAULT_SEND_TIMEOUT_MS})`,
    },
    ...CONNECTION_FLAGS,
  ],
  examples: [
    "uamqp send amqp://127.0.0.1:5672/orders --count 10 --body 'hello'",
    "uamqp send amqps://alice:s3cret@localhost:5671/orders --ca ca.pem --debug",
  ],
};

export const RECEIVE_COMMAND: CommandSpec = {
  name: "receive",
  positionals: "<url>",
  summary: "receive messages from an address of any AMQP 1.0 broker and print their bodies",
  description: [
    "Receives up to --count messages from the URL's address, prints each body on its own line to stdout and accepts it; the number received goes to stderr. It stops early when no message arrives within --timeout: with none at all (an empty queue) it says so and exits 1, with some it exits 0.",
    URL_HELP,
    EXIT_HELP,
  ],
  flags: [
    {
      group: "messages",
      name: "count",
      type: "string",
      value: "N",
      help: "how many messages to receive at most (default 1)",
    },
    {
      group: "messages",
      name: "timeout",
      type: "string",
      value: "MS",
      help: `how long to wait for the next message once the link is open; none at all exits 1 (default ${DEFAULT_RECEIVE_TIMEOUT_MS})`,
    },
    ...CONNECTION_FLAGS,
  ],
  examples: [
    "uamqp receive amqp://127.0.0.1:5672/orders --count 10 --timeout 2000",
    "uamqp receive amqps://alice:s3cret@localhost:5671/orders --ca ca.pem",
  ],
};

/** The target, connection and trace shared by both commands. */
interface Target {
  readonly address: Address;
  /** The URL with its password masked. */
  readonly url: string;
  readonly connection: Connection;
  readonly openTimeoutMs: number;
  readonly caGiven: boolean;
  readonly redact: (text: string) => string;
  /** Puts the logger back when `--debug` replaced it. */
  readonly restoreLogger: () => void;
}

function openTarget(spec: CommandSpec, parsed: ParsedCommand, io: CliIo): Target {
  const raw = parsed.positionals[0];
  if (raw === undefined) {
    throw new UsageError(`${spec.name} needs a URL, e.g. amqp://127.0.0.1:5672/queue`);
  }
  let address: Address;
  try {
    address = Address.parse(raw);
  } catch (e) {
    // The address's own message masks the password.
    throw new UsageError((e as Error).message);
  }
  const creds = address.credentials();
  const redact = redactor(creds ? [creds.password] : []);
  const openTimeoutMs =
    stringFlag(parsed, "open-timeout") === undefined
      ? DEFAULT_OPEN_TIMEOUT_MS
      : integerValue(stringFlag(parsed, "open-timeout")!, "--open-timeout", { min: 1 });
  const caFile = stringFlag(parsed, "ca");
  const endpoint = address.endpoint();
  if (caFile !== undefined && !endpoint.tls) {
    throw new UsageError(`--ca applies to amqps:// and wss:// URLs, not ${endpoint.scheme}://`);
  }
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read --ca ${caFile}: ${(e as Error).message}`, { showUsage: false });
    }
  }
  const transport: TransportOptions = {
    connectTimeoutMs: openTimeoutMs,
    ...(ca !== undefined ? { ca } : {}),
  };
  const auth = resolveAuth(address, undefined, transport);
  const debug = booleanFlag(parsed, "debug");
  const restoreLogger = debug ? traceTo(io.stderr, redact) : (): void => undefined;
  let connection: Connection;
  try {
    connection = new Connection(address.hostname, auth, debug ? { debug: true } : {});
  } catch (e) {
    restoreLogger();
    throw e;
  }
  return {
    address,
    url: address.toString(),
    connection,
    openTimeoutMs,
    caGiven: ca !== undefined,
    redact,
    restoreLogger,
  };
}

/** Runs `body` on the target; a failure becomes one line on stderr and exit code 1. */
async function withTarget(
  spec: CommandSpec,
  args: string[],
  io: CliIo,
  body: (target: Target, parsed: ParsedCommand) => Promise<number>,
): Promise<number> {
  const parsed = parseCommand(spec, args);
  if (parsed.help) {
    io.stdout.write(commandHelp(spec));
    return 0;
  }
  const target = openTarget(spec, parsed, io);
  try {
    return await body(target, parsed);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    io.stderr.write(`uamqp: ${target.redact(failureLine(e, target))}\n`);
    return 1;
  } finally {
    await target.connection.close();
    target.restoreLogger();
  }
}

export function runSend(args: string[], io: CliIo): Promise<number> {
  return withTarget(SEND_COMMAND, args, io, async (target, parsed) => {
    const count = positiveInt(stringFlag(parsed, "count"), 1, "--count");
    const size = stringFlag(parsed, "size");
    const text = stringFlag(parsed, "body");
    if (size !== undefined && text !== undefined) throw new UsageError("give --body or --size, not both");
    const body = size !== undefined ? Buffer.alloc(positiveInt(size, 1, "--size"), 0x61) : (text ?? "hello");
    const timeoutMs = positiveInt(stringFlag(parsed, "timeout"), DEFAULT_SEND_TIMEOUT_MS, "--timeout");
    const settled = booleanFlag(parsed, "settled");
    const sender = new MessageSender(target.connection.createSession(), "uamqp-cli", target.address, {
      sendSettleMode: settled ? SenderSettleMode.Settled : SenderSettleMode.Unsettled,
    });
    await sender.open({ timeout: target.openTimeoutMs });
    const outcomes = await Promise.all(
      Array.from({ length: count }, () => sender.send(new Message({ body }), { timeout: timeoutMs })),
    );
    const failed = outcomes.filter((o) => o.result !== MessageSendResult.Ok);
    io.stdout.write(`sent ${count - failed.length} of ${count} message(s) to ${target.url}\n`);
    if (failed.length > 0) {
      const first = failed[0]!;
      const why =
        first.error !== undefined
          ? failureLine(first.error, target)
          : first.result === MessageSendResult.Timeout
            ? `no outcome within ${timeoutMs} ms (AMQP_TIMEOUT)`
            : enumText("MessageSendResult", MessageSendResult, first.result);
      io.stderr.write(`uamqp: ${failed.length} of ${count} message(s) not accepted: ${target.redact(why)}\n`);
      return 1;
    }
    return 0;
  });
}

export function runReceive(args: string[], io: CliIo): Promise<number> {
  return withTarget(RECEIVE_COMMAND, args, io, async (target, parsed) => {
    const count = positiveInt(stringFlag(parsed, "count"), 1, "--count");
    const timeoutMs = positiveInt(stringFlag(parsed, "timeout"), DEFAULT_RECEIVE_TIMEOUT_MS, "--timeout");
    let got = 0;
    let timer: NodeJS.Timeout | undefined;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const receiver = new MessageReceiver(target.connection.createSession(), target.address, "uamqp-cli", {
      prefetch: Math.min(count, 1000),
      onMessageReceived: (m: Message) => {
        if (got >= count) return;
        got++;
        io.stdout.write(`${render(m)}\n`);
        void m.accept();
        clearTimeout(timer);
        if (got >= count) done();
        else timer = setTimeout(done, timeoutMs);
      },
    });
    await receiver.open({ timeout: target.openTimeoutMs });
    // Bound the wait for the first message from the moment the link is open (a message that
    // arrived with the attach has already started the next wait).
    if (got === 0) timer = setTimeout(done, timeoutMs);
    await finished;
    clearTimeout(timer);
    if (got === 0) {
      io.stderr.write(`uamqp: no message arrived at ${target.url} within ${timeoutMs} ms\n`);
      return 1;
    }
    io.stderr.write(`received ${got} message(s)\n`);
    return 0;
  });
}

function render(m: Message): string {
  if (m.data) return m.data.map((d) => asBuffer(d).toString("utf8")).join("");
  return JSON.stringify(m.value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
