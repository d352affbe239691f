/**
 * setLogger(): partial loggers, `warning` for `warn` (Python's name), and a logger
 * that throws never breaks a connection.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { sendMessage, receiveMessage } from "../../src/client/helpers.js";
import { MessageState } from "../../src/message/message-state.js";
import { getLogger, setLogger } from "../../src/util/log.js";
import { startBroker, type TestBroker } from "./support.js";

describe("setLogger", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker();
  });
  after(async () => {
    await t.broker.close();
  });
  afterEach(() => {
    setLogger(undefined);
  });

  it("warning() stands in for a missing warn(), called on its logger", () => {
    const lines: string[] = [];
    const logger = {
      prefix: "py",
      warning(this: { prefix: string }, m: string) {
        lines.push(`${this.prefix}: ${m}`);
      },
    };
    setLogger(logger);
    getLogger().warn("reconnecting");
    assert.deepEqual(lines, ["py: reconnecting"]);
  });

  it("warn() wins over warning() when a logger has both", () => {
    const seen: string[] = [];
    setLogger({ warn: () => seen.push("warn"), warning: () => seen.push("warning") });
    getLogger().warn("x");
    assert.deepEqual(seen, ["warn"]);
  });

  it("levels the logger lacks are silent", () => {
    const infos: string[] = [];
    setLogger({ info: (m) => infos.push(m) });
    getLogger().debug("d");
    getLogger().warn("w");
    getLogger().error("e");
    getLogger().info("i");
    assert.deepEqual(infos, ["i"]);
  });

  it("a logger that throws loses its line, not the connection: traced send and receive still work", async () => {
    let calls = 0;
    const boom = (): void => {
      calls++;
      throw new Error("logger broke");
    };
    setLogger({ debug: boom, info: boom, warn: boom, error: boom });
    assert.doesNotThrow(() => getLogger().error("x"));
    const states = await sendMessage(t.url("log-throw"), "still sent", { debug: true });
    assert.deepEqual(states, [MessageState.SendComplete]);
    const m = await receiveMessage(t.url("log-throw"), { timeout: 5000, debug: true });
    assert.equal(m?.toString(), "still sent");
    assert.ok(calls > 2, `the trace went through the logger (${calls} calls)`);
  });
});
