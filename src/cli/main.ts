#!/usr/bin/env node
/**
 * The `uamqp` command: `demo`, `broker`, `send`, `receive`.
 */
import { parseArgs } from "node:util";
import { UsageError, positiveInt } from "./args.js";
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

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
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
        });
      }
      case "broker":
        return await runBrokerCommand(rest);
      case "send":
        return await runSend(rest);
      case "receive":
        return await runReceive(rest);
      case "version":
      case "--version":
        process.stdout.write(`${getPlatformInfo()}\n`);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`uamqp: unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError || String((e as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`uamqp: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    const err = e as { message?: string; code?: string };
    process.stderr.write(`uamqp: ${err.message ?? String(e)}${err.code ? ` (${err.code})` : ""}\n`);
    return 1;
  }
}
