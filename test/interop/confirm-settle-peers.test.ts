/**
 * settleMode "confirm" against the Qpid Proton broker of scripts/peers, which honours
 * receiver-settle-mode second for consumers (it settles after applying the outcome).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SASLAnonymous } from "../../src/auth/amqp-auth.js";
import { Connection } from "../../src/client/connection.js";
import { MessageReceiver } from "../../src/client/message-receiver.js";
import { MessageSender } from "../../src/client/message-sender.js";
import { Session } from "../../src/client/session.js";
import { RcvSettleMode } from "../../src/engine/link.js";
import { Message } from "../../src/message/message.js";
import { peerSkip, startPeer, type RunningPeer } from "../support/peers.js";
import { until } from "../support/waits.js";

const TIMEOUT = { timeout: 120_000 };

describe(
  "settleMode confirm against the Qpid Proton broker",
  { skip: peerSkip("proton"), ...TIMEOUT },
  () => {
    let peer: RunningPeer;
    before(async () => {
      peer = await startPeer("proton");
    }, TIMEOUT);
    after(async () => {
      await peer.stop();
    });

    it("accept and release resolve on the broker's settling disposition", async () => {
      await using conn = new Connection(
        peer.host,
        new SASLAnonymous(peer.host, { tls: false, port: peer.port }),
      );
      await conn.open();
      const session = new Session(conn);
      const q = `confirm-${process.pid}`;
      const sender = new MessageSender(session, "me", q);
      await sender.open();
      for (const body of ["a", "b"]) await sender.send(new Message({ body }));
      const got: Message[] = [];
      const receiver = new MessageReceiver(session, q, "me", {
        settleMode: "confirm",
        prefetch: 0,
        onMessageReceived: (m) => got.push(m),
      });
      await receiver.open();
      assert.equal(receiver.link.remote?.rcvSettleMode, RcvSettleMode.Second);
      receiver.addCredit(2);
      await until(() => got.length >= 2, "2 messages");
      assert.equal(await got[0]!.accept(), true);
      assert.equal(await got[1]!.release(), true);
      receiver.addCredit(2);
      await until(() => got.length >= 3, "the released message again");
      assert.equal(Buffer.from(got[2]!.data![0]!).toString(), "b", "the released message only");
      assert.equal(await got[2]!.accept(), true);
      await receiver.close();
    });
  },
);
