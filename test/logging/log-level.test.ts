/**
 * `UAMQP_LOG_LEVEL` (and `DEBUG` naming a lifecycle namespace), with no code change: a client whose
 * broker restarts shows on stderr what recovery does, at the levels asked for, the password masked.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PASSWORD } from "./apps/secrets.js";
import { logLines, runApp, type LogLine } from "./run-app.js";

const RECOVERY = ["disconnected", "reconnecting", "reconnected", "closed"];

/** The distinct status events the application printed, in order (reconnecting may repeat). */
function statuses(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((l) => l !== "")
    .filter((l, i, all) => all[i - 1] !== l);
}

function has(lines: readonly LogLine[], namespace: string, text: RegExp): boolean {
  return lines.some((l) => l.namespace === namespace && text.test(l.text));
}

describe("UAMQP_LOG_LEVEL", () => {
  it("warn: the losses and the reconnect attempts of a client whose broker restarts, and nothing milder", async () => {
    const run = await runApp("broker-restart", { UAMQP_LOG_LEVEL: "warn" });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(statuses(run.stdout), RECOVERY);
    assert.ok(!run.stderr.includes(PASSWORD), "the password is masked");
    const lines = logLines(run.stderr);
    const client = /^restart-app amqp:\/\/trace-user:\*\*\*@127\.0\.0\.1:\d+\/restart-q /;
    assert.ok(
      lines.every((l) => l.namespace !== "uamqp:client" || client.test(l.text)),
      run.stderr,
    );
    assert.ok(has(lines, "uamqp:client", / connection lost: .*\(AMQP_CONNECTION\)$/), run.stderr);
    assert.ok(has(lines, "uamqp:client", / reconnecting \(attempt 1\) in \d+ ms$/), run.stderr);
    assert.ok(has(lines, "uamqp:connection", /^conn-1 SASLPlain\(127\.0\.0\.1:\d+\) closed: /), run.stderr);
    assert.ok(has(lines, "uamqp:link", /^conn-1 ch=0 sender "[^"]+" to "restart-q" detached: /), run.stderr);
    // info and debug lines stay out; so do the frame traces and the broker (no warning of its own).
    assert.ok(!has(lines, "uamqp:client", / recovered /), run.stderr);
    assert.ok(!lines.some((l) => / (open|attached|closed)(?: \(|$)/.test(l.text)), run.stderr);
    assert.ok(
      !lines.some((l) => l.namespace.endsWith(":frames") || l.namespace === "uamqp:broker"),
      run.stderr,
    );
  });

  it("info adds the recovery and the opens; debug adds the closes", async () => {
    const info = logLines((await runApp("broker-restart", { UAMQP_LOG_LEVEL: "info" })).stderr);
    assert.ok(has(info, "uamqp:client", / recovered \(attempt \d+, 0 messages sent again\)$/));
    assert.ok(has(info, "uamqp:connection", / open \(container-id "restart-app", peer "uamqp-broker"\)$/));
    assert.ok(has(info, "uamqp:broker", /^broker-conn-\d+ open \(SASL PLAIN as "trace-user"\)$/));
    assert.ok(!has(info, "uamqp:client", / closed$/));
    const debug = logLines((await runApp("broker-restart", { UAMQP_LOG_LEVEL: "DEBUG" })).stderr);
    assert.ok(has(debug, "uamqp:client", / closed$/));
    assert.ok(!debug.some((l) => l.namespace.endsWith(":frames")), "frames need DEBUG=uamqp:frames");
  });

  it("DEBUG=uamqp:client: every level of that namespace only", async () => {
    const run = await runApp("broker-restart", { DEBUG: "uamqp:client" });
    const lines = logLines(run.stderr);
    assert.deepEqual([...new Set(lines.map((l) => l.namespace))], ["uamqp:client"]);
    assert.ok(has(lines, "uamqp:client", / connection lost: /));
    assert.ok(has(lines, "uamqp:client", / recovered /));
    assert.ok(has(lines, "uamqp:client", / closed$/));
  });

  it("an unknown level is ignored with one line saying so; the application runs", async () => {
    const run = await runApp("broker-restart", { UAMQP_LOG_LEVEL: "loud" });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stderr,
      'uamqp: UAMQP_LOG_LEVEL="loud" is not one of error, warn, info, debug; ignored\n',
    );
  });
});
