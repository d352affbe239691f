/** `uamqp broker`: runs the embedded broker until SIGINT/SIGTERM (or `io.signal` aborts). */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Broker } from "../broker/broker.js";
import { UsageError, positiveInt, type CliIo } from "./args.js";

export async function runBrokerCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-port": { type: "string" },
      "ws-port": { type: "string" },
      user: { type: "string", multiple: true },
      "allow-anonymous": { type: "boolean" },
    },
  });
  const users: Record<string, string> = {};
  for (const u of values.user ?? []) {
    const i = u.indexOf(":");
    if (i <= 0) throw new UsageError(`--user expects name:password`);
    users[u.slice(0, i)] = u.slice(i + 1);
  }
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  const port =
    values.port === undefined ? 5672 : values.port === "0" ? 0 : positiveInt(values.port, 5672, "--port");
  const broker = await Broker.start({
    port,
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values["tls-cert"] !== undefined && values["tls-key"] !== undefined
      ? {
          tls: {
            cert: readFileSync(values["tls-cert"], "utf8"),
            key: readFileSync(values["tls-key"], "utf8"),
            ...(values["tls-port"] !== undefined
              ? { port: positiveInt(values["tls-port"], 5671, "--tls-port") }
              : {}),
          },
        }
      : {}),
    ...(values["ws-port"] !== undefined
      ? { webSocket: { port: positiveInt(values["ws-port"], 0, "--ws-port") } }
      : {}),
    ...(Object.keys(users).length > 0
      ? { sasl: { users, ...(values["allow-anonymous"] === true ? { allowAnonymous: true } : {}) } }
      : {}),
  });
  io.stdout.write(`uamqp broker listening on ${broker.url}\n`);
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
