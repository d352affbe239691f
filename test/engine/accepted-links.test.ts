/**
 * Links the peer opens and our engine accepts (server role): an initiating ATTACH is never a
 * refusal, whatever terminus it lacks.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { AmqpConnection } from "../../src/engine/connection.js";
import type { ReceiverLink } from "../../src/engine/receiver-link.js";
import type { SenderLink } from "../../src/engine/sender-link.js";
import { Attach, Begin, Open } from "../../src/frames/performatives.js";
import { ProtocolId } from "../../src/frames/protocol-header.js";
import { closeCleanly, scriptedConnection, type ScriptedPeer } from "../support/scripted-peer.js";
import { within } from "../support/waits.js";

const beginFields = { nextOutgoingId: 0, incomingWindow: 1000, outgoingWindow: 1000 };

let open: { conn: AmqpConnection; peer: ScriptedPeer } | undefined;
afterEach(async () => {
  if (open) await closeCleanly(open.conn, open.peer);
  open = undefined;
});

/** A server connection whose sessions accept every link with `options`; records each link. */
async function acceptingServer(): Promise<{
  conn: AmqpConnection;
  peer: ScriptedPeer;
  accepted: { link: SenderLink | ReceiverLink; attachedAtOnce: boolean }[];
}> {
  const { conn, peer } = scriptedConnection({ role: "server" });
  open = { conn, peer };
  const accepted: { link: SenderLink | ReceiverLink; attachedAtOnce: boolean }[] = [];
  conn.onRemoteBegin = (session) => {
    session.onRemoteAttach = (attach) => {
      const link = attach.role
        ? session.acceptLink(attach, { source: { address: "q" } })
        : session.acceptLink(attach, { target: { address: "q" }, autoCredit: 10 });
      accepted.push({ link, attachedAtOnce: link.isAttached });
    };
  };
  peer.header(ProtocolId.Amqp);
  peer.frame(0, Open, { containerId: "peer" });
  peer.frame(0, Begin, beginFields);
  await peer.frameNamed("BEGIN");
  return { conn, peer, accepted };
}

describe("engine: accepting links the peer opens", () => {
  it("an accepted receiver grants credit immediately when the sender's ATTACH has no source", async () => {
    const { peer, accepted } = await acceptingServer();
    // A sender may leave its source out (the field is optional); that is not a refusal.
    peer.frame(0, Attach, {
      name: "no-source",
      handle: 0,
      role: false,
      target: { type: "target", address: "q" },
      initialDeliveryCount: 0,
    });
    const flow = await peer.frameWhere((f) => f.name === "FLOW" && f.fields["handle"] === 0, "credit");
    assert.equal(flow.fields["linkCredit"], 10);
    assert.equal(accepted.length, 1);
    // Attached when accepted, not after the grace a refusal of our own ATTACH would get.
    assert.equal(accepted[0]!.attachedAtOnce, true);
    await within(accepted[0]!.link.attached(), "attached()");
    // The answering ATTACH comes before the credit.
    const names = peer.frames.map((f) => f.name);
    assert.ok(names.indexOf("ATTACH") < names.indexOf("FLOW"));
  });

  it("an accepted sender stands at once when the receiver's ATTACH has no target", async () => {
    const { peer, accepted } = await acceptingServer();
    peer.frame(0, Attach, { name: "no-target", handle: 0, role: true, source: { address: "q" } });
    await peer.frameNamed("ATTACH");
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.attachedAtOnce, true);
    assert.equal(accepted[0]!.link.isAttached, true);
  });
});
