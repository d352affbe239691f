#!/usr/bin/env node
/**
 * The `uamqp` command: `demo`, `broker`, `send`, `receive`.
 */
import { parseArgs } from "node:util";
import { UsageError, positiveInt, type CliIo } from "./args.js";
import { runBrokerCommand } from "./broker-command.js";
import { runDemo } from "./demo.js";
import { runReceive, runSend } from "./send-receive.js";
import { getPlatformInfo } from "../util/platform.js";

const USAGE = `usage: uamqp <command> [options]

commands:
  demo      [--count N=100000] [--size B=64]        start the embedded broker, send and receive N messages
  broker    [--port P=5672] [--host H] [--tls-cert F --tls-key F] [--ws-port P] [--user name:password]... [--allow-anonymous]
  send      <url> [--count N=1] [--body TEXT] [--size B] [--settled]
  receive   <url> [--count N=1] [--timeout MS=5000]
  version   the package version, node, openssl, OS (also --version)
`;

/**
 * Runs the command line `argv` (without node and the script) with `io`'s streams and returns the exit
 * code; it never ends the process (`bin.ts` turns the code into the process's exit code).
 *
 * @example
 * ```ts
 * const io = { stdout: process.stdout, stderr: process.stderr };
 * const code = await main(["send", "amqp://127.0.0.1:5672/q", "--count", "10"], io);
 * ```
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "demo": {
        const { values } = parseArgs({
          args: rest,
          options: { count: { type: "string" }, size: { type: "string" } },
        });
        return await runDemo({
          count: positiveInt(values.count, 100_000, "--count"),
          size: Math.max(16, positiveInt(values.size, 64, "--size")),
          out: io.stdout,
        });
      }
      case "broker":
        return await runBrokerCommand(rest, io);
      case "send":
        return await runSend(rest, io);
      case "receive":
        return await runReceive(rest, io);
      case "version":
      case "--version":
        io.stdout.write(`${getPlatformInfo()}\n`);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.stderr.write(`uamqp: unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError || String((e as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`uamqp: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    const err = e as { message?: string; code?: string };
    io.stderr.write(`uamqp: ${err.message ?? String(e)}${err.code ? ` (${err.code})` : ""}\n`);
    return 1;
  }
}
