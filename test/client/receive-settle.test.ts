/**
 * Settling received messages in settle mode "local" against a scripted peer: what goes on the wire
 * when the answer is known at once, and when the peer's source does not offer the outcome.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SASLAnonymous } from "../../src/auth/amqp-auth.js";
import { Connection } from "../../src/client/connection.js";
import { MessageReceiver } from "../../src/client/message-receiver.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { Attach, type AttachFields } from "../../src/frames/performatives.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { MessageSettleFailed } from "../../src/message/settlement.js";
import { startScriptedPeer, type ScriptedPeer, type ScriptFrame } from "../support/scripted-peer.js";
import { rejectionOf, until } from "../support/waits.js";

const OFFERED = ["amqp:accepted:list", "amqp:rejected:list", "amqp:released:list"];

/** Attaches the client's receivers with a source offering `OFFERED`, and sends `bodies` once credit comes. */
function offering(peer: ScriptedPeer, bodies: (string | Buffer)[]): void {
  let sent = false;
  peer.responder = (f, p) => {
    if (f.name === "ATTACH") {
      const a = f.fields as unknown as AttachFields;
      p.frame(f.channel, Attach, {
        ...a,
        role: !a.role,
        initialDeliveryCount: 0,
        source: { address: "q", outcomes: OFFERED },
      });
      return;
    }
    if (f.name === "FLOW" && f.fields["handle"] !== undefined && !sent) {
      sent = true;
      bodies.forEach((body, i) => {
        p.transfer(
          f.channel,
          { handle: f.fields["handle"] as number, deliveryId: i, deliveryTag: Buffer.from([i]) },
          typeof body === "string" ? new Message({ body }).encode() : body,
        );
      });
    }
  };
}

/** The delivery-ids the peer's DISPOSITIONs settled `accepted`, and every outcome type they carried. */
function dispositions(frames: readonly ScriptFrame[]): { accepted: number[]; types: string[] } {
  const accepted: number[] = [];
  const types: string[] = [];
  for (const f of frames) {
    if (f.name !== "DISPOSITION") continue;
    const state = f.fields["state"] as { type: string } | undefined;
    types.push(state?.type ?? "none");
    assert.equal(f.fields["settled"], true, "settle mode local: settled dispositions");
    if (state?.type !== "accepted") continue;
    const first = f.fields["first"] as number;
    const last = (f.fields["last"] as number | undefined) ?? first;
    for (let id = first; id <= last; id++) accepted.push(id);
  }
  return { accepted, types };
}

describe("receiving in settle mode local", () => {
  it("an outcome the source does not offer is refused without a frame; accept() then settles at once", async () => {
    const server = await startScriptedPeer({ autoAttach: false });
    try {
      const got: Message[] = [];
      const conn = new Connection(
        "127.0.0.1",
        new SASLAnonymous("127.0.0.1", { tls: false, port: server.port }),
        { closeTimeoutMs: 200 },
      );
      const session = conn.createSession();
      const opened = conn.open();
      const peer = await server.connection();
      offering(peer, ["a", "b"]);
      await opened;
      const receiver = new MessageReceiver(session, "q", "me", {
        onMessageReceived: (m) => {
          got.push(m);
        },
      });
      await receiver.open();
      await until(() => got.length === 2, "two messages");
      const [a, b] = got as [Message, Message];
      const e = await rejectionOf(a.modify({ deliveryFailed: true, undeliverableHere: false }), "modify()");
      assert.ok(e instanceof MessageSettleFailed);
      assert.deepEqual(e.offeredOutcomes, OFFERED);
      assert.equal(a.state, MessageState.ReceivedUnsettled, "nothing was sent");
      const accepted = [a.accept(), b.accept()];
      assert.equal(a.state, MessageState.ReceivedSettled, "settled when accept() returns");
      assert.deepEqual(await Promise.all(accepted), [true, true]);
      assert.equal(await b.accept(), false, "a second settlement: false");
      await until(() => dispositions(peer.frames).accepted.length === 2, "the dispositions of both");
      assert.deepEqual(dispositions(peer.frames), { accepted: [0, 1], types: ["accepted"] });
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it("an undecodable delivery is rejected with amqp:decode-error, its offset counted in the message", async () => {
    const server = await startScriptedPeer({ autoAttach: false });
    try {
      // A data section, then garbage where the next section should start.
      const garbage = Buffer.concat([
        Buffer.from(new Message({ body: "ok" }).encode()),
        Buffer.from([0x00, 0x53, 0x79, 0x40]),
      ]);
      const expected = (() => {
        try {
          Message.decode(garbage);
        } catch (e) {
          return (e as Error).message;
        }
        return assert.fail("the garbage decodes");
      })();
      const got: string[] = [];
      const conn = new Connection(
        "127.0.0.1",
        new SASLAnonymous("127.0.0.1", { tls: false, port: server.port }),
        { closeTimeoutMs: 200 },
      );
      const opened = conn.open();
      const peer = await server.connection();
      offering(peer, [garbage, "good"]);
      await opened;
      const receiver = new MessageReceiver(conn.createSession(), "q", "me", {
        onMessageReceived: (m) => {
          got.push(m.toString());
          void m.accept();
        },
      });
      await receiver.open();
      await until(() => dispositions(peer.frames).types.length === 2, "both settled");
      assert.deepEqual(got, ["good"]);
      const rejected = peer.frames.find(
        (f) => f.name === "DISPOSITION" && (f.fields["state"] as { type: string }).type === "rejected",
      );
      assert.ok(rejected, "a rejected disposition");
      assert.equal(rejected.fields["first"], 0);
      assert.deepEqual((rejected.fields["state"] as { error: unknown }).error, {
        condition: "amqp:decode-error",
        description: expected,
      });
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it("ReceiveClient autoComplete: every message handed out is accepted, in ranges", async () => {
    const server = await startScriptedPeer({ autoAttach: false });
    try {
      const bodies = Array.from({ length: 20 }, (_, i) => `m${i}`);
      const client = new ReceiveClient(`amqp://127.0.0.1:${server.port}/q`, { reconnect: false });
      const opened = client.open();
      offering(await server.connection(), bodies);
      await opened;
      const peer = await server.connection();
      const seen: string[] = [];
      for await (const m of client) {
        seen.push(m.toString());
        if (seen.length === bodies.length) break;
      }
      assert.deepEqual(seen, bodies);
      await until(() => dispositions(peer.frames).accepted.length === bodies.length, "every disposition");
      const d = dispositions(peer.frames);
      assert.deepEqual(
        d.accepted,
        bodies.map((_, i) => i),
      );
      assert.ok(d.types.length < bodies.length, `ranges: ${d.types.length} DISPOSITION frames`);
      await client.close();
    } finally {
      await server.close();
    }
  });
});
