/**
 * Writing a sender's queued deliveries as TRANSFER frames: delivery-ids and default delivery tags
 * assigned, deliveries split to the peer's max-frame-size (large chunks appended without a copy),
 * and sending paused by link credit, the peer's incoming window or transport back-pressure.
 */
import {
  beginFrame,
  endFrame,
  writeTransferPerformative,
  type TransferHead,
} from "../frames/frame-writer.js";
import { serialAdd } from "../util/serial.js";
import type { OutgoingDelivery } from "./delivery.js";
import type { SenderLink } from "./sender-link.js";
import type { AmqpSession } from "./session.js";

/** The TRANSFER performative template, rewritten for every frame (no allocation per frame). */
const TRANSFER_HEAD: TransferHead = {
  handle: 0,
  deliveryId: undefined,
  deliveryTag: undefined,
  messageFormat: undefined,
  settled: false,
  more: false,
};

/**
 * Writes as many queued deliveries of `link` as credit, the peer's incoming window and transport
 * back-pressure allow, advancing the session's delivery-id, next-outgoing-id and the peer's
 * incoming window. Unsettled deliveries are filed in `unsettled` by delivery-id; `link` is added
 * to `waiting` while it has deliveries it could not write, and removed once it has none.
 */
export function writeTransfers(
  session: AmqpSession,
  link: SenderLink,
  unsettled: Map<number, OutgoingDelivery>,
  waiting: Set<SenderLink>,
): void {
  const conn = session.connection;
  if (session.state !== "mapped" || !link.isAttached || !conn.canSendTransfers) {
    if (link.queued > 0) waiting.add(link);
    return;
  }
  const out = conn.output;
  const w = out.writer;
  const maxFrame = conn.remoteMaxFrameSize;
  const full = conn.fullPerformatives;
  const head = TRANSFER_HEAD;
  let d: OutgoingDelivery | undefined;
  while ((d = link.peek()) !== undefined) {
    if (session.remoteIncomingWindow <= 0 || out.blocked) {
      waiting.add(link);
      out.frameWritten();
      return;
    }
    const first = d.offset === 0;
    if (first) {
      d.deliveryId = session.nextDeliveryId;
      session.nextDeliveryId = serialAdd(session.nextDeliveryId, 1);
      d.tag ??= tagFor(d.deliveryId);
      if (!d.settled) unsettled.set(d.deliveryId, d);
    }
    head.handle = link.handle;
    head.deliveryId = first ? d.deliveryId : undefined;
    head.deliveryTag = first ? d.tag : undefined;
    head.messageFormat = first ? d.messageFormat : undefined;
    head.settled = d.settled;
    const at = beginFrame(w, 0, session.channel);
    head.more = false;
    writeTransferPerformative(w, head, full);
    const room = maxFrame - (w.pos - at);
    const left = d.payload.length - d.offset;
    if (left > room) {
      // Rewrite the performative with more=true (its size is unchanged but for one boolean).
      w.pos = at + 8;
      head.more = true;
      writeTransferPerformative(w, head, full);
    }
    const n = Math.min(left, maxFrame - (w.pos - at));
    const chunk = d.payload.subarray(d.offset, d.offset + n);
    if (n >= 16384) {
      w.patchU32(at, w.pos - at + n);
      out.appendView(chunk);
    } else {
      w.bytes(chunk);
      endFrame(w, at);
    }
    conn.traceOut(0x14, session.channel, head, n);
    d.offset += n;
    session.nextOutgoingId = serialAdd(session.nextOutgoingId, 1);
    session.remoteIncomingWindow--;
    out.frameWritten();
    if (d.offset >= d.payload.length) {
      link.transmitted(d);
    }
  }
  waiting.delete(link);
}

/** A 4-byte delivery tag from the delivery id (unique among a link's unsettled deliveries). */
function tagFor(id: number): Uint8Array {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(id, 0);
  return b;
}
