/**
 * Sends payloads to an address over an engine connection and receives them back from it: the
 * round trip the engine tests run against every peer.
 */
import assert from "node:assert/strict";
import type { AmqpConnection } from "../../src/engine/connection.js";
import type { IncomingDelivery } from "../../src/engine/delivery.js";
import { SenderSettleMode } from "../../src/engine/link.js";

/**
 * Sends `payloads` to `address` (every outcome awaited and checked `accepted` unless pre-settled;
 * at most 2000 in flight), then receives as many from `address` and settles them. Ends the
 * session it used; the caller owns the connection.
 */
export async function engineRoundTrip(
  conn: AmqpConnection,
  address: string,
  payloads: Buffer[],
  settled: boolean,
): Promise<Buffer[]> {
  const session = conn.createSession();
  const sender = session.attachSender({
    target: { address },
    sndSettleMode: settled ? SenderSettleMode.Settled : SenderSettleMode.Unsettled,
  });
  await sender.attached();
  const window = 2000;
  for (let i = 0; i < payloads.length; i += window) {
    const outcomes = await Promise.all(payloads.slice(i, i + window).map((p) => sender.send(p)));
    if (!settled)
      assert.ok(
        outcomes.every((o) => o?.type === "accepted"),
        "every message accepted",
      );
  }
  const receiver = session.attachReceiver({ source: { address }, autoCredit: 500 });
  const got: Buffer[] = [];
  await new Promise<void>((resolve) => {
    receiver.onDelivery = (d: IncomingDelivery) => {
      got.push(d.payload);
      receiver.settle(d);
      if (got.length === payloads.length) resolve();
    };
  });
  await receiver.detach();
  await sender.detach();
  await session.end();
  return got;
}
