/**
 * Runs one of `test/logging/apps/` as a child process (through tsx, as `node app.js` would run a
 * built one), with the environment switches given and none inherited, and captures its output.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A finished child: exit code and what it wrote. */
export interface AppRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The switches the tests set; the parent's own values are never passed on. */
export interface LogEnv {
  readonly DEBUG?: string;
  readonly UAMQP_LOG_LEVEL?: string;
}

/** Runs `apps/<name>.ts` with `env` and `args`; fails after `timeoutMs` (the child is killed). */
export function runApp(
  name: string,
  env: LogEnv,
  args: readonly string[] = [],
  timeoutMs = 60_000,
): Promise<AppRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv["DEBUG"];
  delete childEnv["UAMQP_LOG_LEVEL"];
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", `test/logging/apps/${name}.ts`, ...args],
      { cwd: ROOT, env: childEnv, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(new Error(`${name}: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** One line of the library's log, split into its parts. */
export interface LogLine {
  readonly time: string;
  readonly namespace: string;
  readonly text: string;
}

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (uamqp:[a-z:]+) (.*)$/;

/** The lines of `stderr`, each checked to have the documented form `<ISO time> <namespace> <text>`. */
export function logLines(stderr: string): LogLine[] {
  return stderr
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const m = LINE.exec(l);
      if (!m) throw new Error(`not a log line: ${JSON.stringify(l)}\nin:\n${stderr}`);
      return { time: m[1]!, namespace: m[2]!, text: m[3]! };
    });
}
