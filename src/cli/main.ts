#!/usr/bin/env node
/**
 * The `uamqp` command: `demo`, `broker`, `send`, `receive`, `version` (docs/cli.md).
 */
import { UsageError, parseCommand, type CliIo, type CommandSpec } from "./args.js";
import { BROKER_COMMAND, runBrokerCommand } from "./broker-command.js";
import { DEMO_COMMAND, runDemoCommand } from "./demo.js";
import { commandHelp, globalHelp, shortUsage } from "./help.js";
import { RECEIVE_COMMAND, SEND_COMMAND, runReceive, runSend } from "./send-receive.js";
import { getPlatformInfo } from "../util/platform.js";

const VERSION_COMMAND: CommandSpec = {
  name: "version",
  summary: "print the package version, node, openssl and the OS (also --version)",
  description: ["Prints one line: the uamqp version, then node's, OpenSSL's and the operating system's."],
  flags: [],
  examples: ["uamqp version"],
};

const COMMANDS: readonly CommandSpec[] = [
  DEMO_COMMAND,
  BROKER_COMMAND,
  SEND_COMMAND,
  RECEIVE_COMMAND,
  VERSION_COMMAND,
];

function runVersion(args: string[], io: CliIo): number {
  const parsed = parseCommand(VERSION_COMMAND, args);
  io.stdout.write(parsed.help ? commandHelp(VERSION_COMMAND) : `${getPlatformInfo()}\n`);
  return 0;
}

/**
 * Runs the command line `argv` (without node and the script) with `io`'s streams and returns the exit
 * code: 0 success, 1 the command failed (one line on stderr says why), 2 a bad command line or
 * configuration (one line, and the command's usage for a bad command line). It never ends the
 * process (`bin.ts` turns the code into the process's exit code).
 *
 * @example
 * ```ts
 * const io = { stdout: process.stdout, stderr: process.stderr };
 * const code = await main(["send", "amqp://127.0.0.1:5672/q", "--count", "10"], io);
 * ```
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  const spec = COMMANDS.find((c) => c.name === command);
  try {
    switch (command) {
      case "demo":
        return await runDemoCommand(rest, io);
      case "broker":
        return await runBrokerCommand(rest, io);
      case "send":
        return await runSend(rest, io);
      case "receive":
        return await runReceive(rest, io);
      case "version":
        return runVersion(rest, io);
      case "--version":
        return runVersion([], io);
      case "help": {
        const about = COMMANDS.find((c) => c.name === rest[0]);
        if (rest[0] !== undefined && about === undefined) {
          io.stderr.write(`uamqp: unknown command "${rest[0]}"\n${globalHelp(COMMANDS)}`);
          return 2;
        }
        io.stdout.write(about === undefined ? globalHelp(COMMANDS) : commandHelp(about));
        return 0;
      }
      case undefined:
      case "--help":
      case "-h":
        io.stdout.write(globalHelp(COMMANDS));
        return command === undefined ? 2 : 0;
      default:
        io.stderr.write(`uamqp: unknown command "${command}"\n${globalHelp(COMMANDS)}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`uamqp: ${e.message}\n${e.showUsage && spec ? shortUsage(spec) : ""}`);
      return 2;
    }
    const err = e as { message?: string; code?: string; systemCode?: string };
    const hint =
      err.systemCode === "EADDRINUSE" ? "; choose another port (--port, --tls-port, --ws-port)" : "";
    io.stderr.write(`uamqp: ${err.message ?? String(e)}${hint}${err.code ? ` (${err.code})` : ""}\n`);
    return 1;
  }
}
