/**
 * The session's window accounting (AMQP 1.0 §2.5.6): its options and defaults, the transfer-ids and
 * windows it announces in BEGIN and FLOW, and the peer's incoming window learnt from a FLOW. The
 * per-transfer steps (next ids, window decrement and reopening) stay inline in the session's
 * transfer paths.
 */
import type { BeginFields, FlowFields } from "../frames/performatives.js";
import { serialAdd, serialDiff } from "../util/serial.js";
import type { AmqpSession } from "./session.js";

/** Session options. */
export interface SessionOptions {
  /** Transfer frames we accept before the window must be reopened. @defaultValue 65536 */
  incomingWindow?: number;
  /** @defaultValue 65536 */
  outgoingWindow?: number;
  /** Highest handle the peer may use. @defaultValue 4294967295 */
  handleMax?: number;
}

/** Default incoming and outgoing window, in transfer frames. */
export const DEFAULT_WINDOW_SIZE = 65536;

/** The largest handle-max (the spec's default when a BEGIN leaves it out). */
export const MAX_HANDLE_MAX = 0xffffffff;

/** Our BEGIN: next-outgoing-id, windows and handle-max (and `remoteChannel` when answering the peer's). */
export function beginFields(s: AmqpSession): BeginFields {
  const begin: BeginFields = {
    nextOutgoingId: s.nextOutgoingId,
    incomingWindow: s.incomingWindow,
    outgoingWindow: s.outgoingWindowSize,
    handleMax: s.handleMax,
  };
  if (s.remoteChannel !== undefined) begin.remoteChannel = s.remoteChannel;
  return begin;
}

/** The session fields of a FLOW; next-incoming-id only once the peer's BEGIN set it. */
export function sessionFlowFields(s: AmqpSession): FlowFields {
  const f: FlowFields = {
    nextIncomingId: s.nextIncomingId,
    incomingWindow: s.incomingWindow,
    nextOutgoingId: s.nextOutgoingId,
    outgoingWindow: s.outgoingWindowSize,
  };
  if (s.remote === undefined) delete f.nextIncomingId;
  return f;
}

/**
 * The peer's incoming window after its FLOW, counted from our next-outgoing-id: what it allows up to
 * next-incoming-id + incoming-window (the window itself when it has not seen our BEGIN yet).
 */
export function remoteIncomingWindowAfter(flow: FlowFields, nextOutgoingId: number): number {
  return flow.nextIncomingId === undefined
    ? flow.incomingWindow
    : serialDiff(nextOutgoingId, serialAdd(flow.nextIncomingId, flow.incomingWindow));
}
