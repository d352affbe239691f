/**
 * Disposition range coalescing: the settlements a session decides during a tick are queued and
 * written once per tick, consecutive delivery-ids with the same role, settled flag and simple
 * outcome (accepted, released or none) merged into one DISPOSITION range.
 */
import { Disposition, type DispositionFields } from "../frames/performatives.js";
import { serialAdd } from "../util/serial.js";
import type { AmqpConnection } from "./connection.js";
import type { DeliveryState } from "./delivery.js";

/** A DISPOSITION waiting for the end of the tick: delivery-ids `first`..`last` (serial numbers). */
export interface PendingDisposition {
  /** true = we are the receiver of these deliveries. */
  role: boolean;
  first: number;
  last: number;
  settled: boolean;
  state: DeliveryState | undefined;
}

/**
 * Queues the disposition of delivery `id`, extending the last range of `list` when `id` follows it
 * with the same role, settled flag and simple outcome. Returns true when `list` was empty: the
 * caller must then ask for a flush before the end of the tick.
 */
export function queueDisposition(
  list: PendingDisposition[],
  role: boolean,
  id: number,
  settled: boolean,
  state: DeliveryState | undefined,
): boolean {
  const last = list[list.length - 1];
  if (
    last !== undefined &&
    last.role === role &&
    last.settled === settled &&
    serialAdd(last.last, 1) === id &&
    sameSimpleState(last.state, state)
  ) {
    last.last = id;
    return false;
  }
  list.push({ role, first: id, last: id, settled, state });
  return list.length === 1;
}

/** Writes one DISPOSITION frame on `channel` for each queued range of `list`. */
export function writeDispositions(
  connection: AmqpConnection,
  channel: number,
  list: readonly PendingDisposition[],
): void {
  for (const p of list) {
    const f: DispositionFields = { role: p.role, first: p.first };
    if (p.last !== p.first) f.last = p.last;
    if (p.settled) f.settled = true;
    if (p.state !== undefined) f.state = p.state;
    connection.writeFrame(channel, Disposition, f);
  }
}

/** Both absent, or the same outcome without fields (accepted or released): one range may carry both. */
function sameSimpleState(a: DeliveryState | undefined, b: DeliveryState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.type === b.type && (a.type === "accepted" || a.type === "released");
}
