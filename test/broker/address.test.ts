/**
 * The broker's view of link addresses: the path our clients send (docs/addresses.md) and the full
 * URL Python uamqp sends name the same queue.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Source, Target } from "../../src/address/index.js";
import { normalizeAddress } from "../../src/broker/index.js";
import { receiveMessage, sendMessage } from "../../src/client/helpers.js";
import { MessageState } from "../../src/message/message-state.js";
import { startBroker, type TestBroker } from "../client/support.js";

describe("broker addresses: paths and full URLs", () => {
  it("normalizes bare names, paths and URLs to one queue name", () => {
    for (const [address, queue] of [
      ["orders", "orders"],
      ["/orders", "orders"],
      ["amqps://localhost:5671/orders?x=1", "orders"],
      ["AMQP://ns.servicebus.windows.net/orders", "orders"],
      ["sb://ns.servicebus.windows.net/orders", "orders"],
      ["/queue/orders", "queue/orders"],
      ["amqp://localhost/queue/orders", "queue/orders"],
      ["hub/ConsumerGroups/$Default/Partitions/0", "hub/ConsumerGroups/$Default/Partitions/0"],
      ["my%20queue", "my queue"],
      ["/my%20queue", "my queue"],
      ["amqp://h/my%20queue", "my queue"],
      ["100%", "100%"],
      ["queue://orders", "queue://orders"],
      ["amqp://h", ""],
    ] as const) {
      assert.equal(normalizeAddress(address), queue, address);
    }
  });

  describe("over the wire", () => {
    let t: TestBroker;
    before(async () => {
      t = await startBroker();
    });
    after(async () => {
      await t.broker.close();
    });

    for (const path of ["/orders-a", "/queue/orders-b", "/my%20orders"]) {
      it(`${path}: our client's path form and uamqp's full URL reach the same queue`, async () => {
        const url = `${t.broker.url}${path}`;
        const full = url.replace(/:\d+\//, "/"); // uamqp's form: scheme://host/path
        assert.notEqual(Target.parse(url).linkAddress, full);
        assert.deepEqual(await sendMessage(url, "path form"), [MessageState.SendComplete]);
        assert.deepEqual(await sendMessage(new Target(url, { linkAddress: full }), "full URL"), [
          MessageState.SendComplete,
        ]);
        const seen: string[] = [];
        for (const source of [new Source(url, { linkAddress: full }), Source.parse(url)]) {
          const m = await receiveMessage(source, { timeout: 5000 });
          assert.ok(m);
          seen.push(Buffer.from(m.data![0]!).toString());
        }
        assert.deepEqual(seen, ["path form", "full URL"]);
        assert.equal(t.broker.stats(normalizeAddress(path)).messageCount, 0);
      });
    }
  });
});
