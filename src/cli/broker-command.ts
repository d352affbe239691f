/** `uamqp broker`: runs the embedded broker until SIGINT/SIGTERM (or `io.signal` aborts). */
import { Broker } from "../broker/broker.js";
import { BrokerError } from "../broker/errors.js";
import { UsageError, parseCommand, stringFlag, type CliIo, type CommandSpec } from "./args.js";
import {
  BROKER_FLAGS,
  brokerOptions,
  configFromFlags,
  configSummary,
  mergeConfig,
  readConfigFile,
  type BrokerConfig,
} from "./broker-config.js";
import { commandHelp } from "./help.js";

export const BROKER_COMMAND: CommandSpec = {
  name: "broker",
  summary: "run the embedded AMQP 1.0 broker (amqp, and amqps / ws / wss when asked) until Ctrl-C",
  description: [
    "Runs the embedded broker until SIGINT (Ctrl-C) or SIGTERM, then closes every connection and exits 0. At start it prints one line per listener ('uamqp broker listening on <url>': amqp, then amqps and ws/wss when asked for) and one line per area of its effective configuration: users by name only (never a password), whether anonymous clients get in, SASL, TLS, limits, queues, $cbs and the authorization rules.",
    "It binds 127.0.0.1 unless --host says otherwise. Every option can also come from --config FILE, a JSON file with the options of Broker.start (docs/cli.md); flags override the file.",
    "Exits 0 when stopped, 1 when it cannot start (e.g. a port in use), 2 for a bad command line or configuration.",
  ],
  flags: [
    ...BROKER_FLAGS,
    {
      group: "configuration",
      name: "config",
      type: "string",
      value: "FILE",
      help: "read the options from a JSON file (Broker.start's options, TLS as file paths); flags override it",
    },
  ],
  examples: [
    "uamqp broker                                   # amqp://127.0.0.1:5672, anyone gets in",
    "uamqp broker --user alice:s3cret --max-connections 100 --idle-timeout 60000",
    "uamqp broker --tls-cert server.pem --tls-key server.key --tls-port 5671 --ws-port 8080",
    "uamqp broker --user alice:s3cret --user bob:pw --grant alice:send,listen:orders,billing/* --grant bob:listen:orders",
    "uamqp broker --config broker.json --port 5673",
  ],
};

export async function runBrokerCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(BROKER_COMMAND, args);
  if (parsed.help) {
    io.stdout.write(commandHelp(BROKER_COMMAND));
    return 0;
  }
  const configFile = stringFlag(parsed, "config");
  const fromFlags = configFromFlags(parsed);
  const config: BrokerConfig =
    configFile === undefined ? fromFlags : mergeConfig(readConfigFile(configFile), fromFlags);
  const broker = await startBroker(config);
  for (const url of [broker.url, broker.tlsUrl, broker.wsUrl]) {
    if (url !== undefined) io.stdout.write(`uamqp broker listening on ${url}\n`);
  }
  for (const line of configSummary(config)) io.stdout.write(`${line}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      io.signal?.removeEventListener("abort", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener("abort", stop);
  });
  await broker.close();
  io.stdout.write("uamqp broker stopped\n");
  return 0;
}

/**
 * Starts the broker. A configuration the broker refuses (`BrokerError`) or TLS material OpenSSL
 * cannot use is a configuration error (exit 2); a port that cannot be bound is a failure (exit 1).
 */
async function startBroker(config: BrokerConfig): Promise<Broker> {
  try {
    return await Broker.start(brokerOptions(config));
  } catch (e) {
    if (e instanceof BrokerError) throw new UsageError(`${e.message} (${e.code})`, { showUsage: false });
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_OSSL")) {
      throw new UsageError(`the TLS certificate or key cannot be used: ${(e as Error).message} (${code})`, {
        showUsage: false,
      });
    }
    throw e;
  }
}
