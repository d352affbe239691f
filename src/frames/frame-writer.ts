/**
 * Writes frames into a reusable `ByteWriter`: a 4-byte size slot is reserved, the body is encoded
 * in place, then the size is patched (nothing is measured or copied twice).
 *
 * The transfer performative has a hand-written encoder: it is the one frame written per message.
 */
import { beginCompound, endCompound } from "../codec/compound-writer.js";
import { writeBinary, writeBoolean, writeUbyte, writeUint } from "../codec/scalar-writers.js";
import { FormatCode as F } from "../codec/format-codes.js";
import type { CompositeType } from "../codec/composite.js";
import type { ByteWriter } from "../util/byte-writer.js";

/** Starts a frame; returns its start offset for `endFrame`. */
export function beginFrame(w: ByteWriter, type: number, channel: number): number {
  w.ensure(8);
  const at = w.pos;
  const b = w.buf;
  // size (patched later), doff = 2, type, channel
  b[at + 4] = 2;
  b[at + 5] = type;
  b[at + 6] = channel >>> 8;
  b[at + 7] = channel & 0xff;
  w.pos = at + 8;
  return at;
}

/** Patches the size of the frame started at `at`; returns the frame size. */
export function endFrame(w: ByteWriter, at: number): number {
  const size = w.pos - at;
  w.patchU32(at, size);
  return size;
}

/**
 * Writes a whole frame whose body is one composite (a performative or SASL frame); `full` writes
 * every field of the composite (see `CompositeType.encode`).
 */
export function writeCompositeFrame<T extends object>(
  w: ByteWriter,
  type: number,
  channel: number,
  composite: CompositeType<T>,
  value: T,
  full = false,
): number {
  const at = beginFrame(w, type, channel);
  composite.encode(w, value, full);
  return endFrame(w, at);
}

/** An empty frame (heartbeat): 8 bytes, no body. */
export function writeEmptyFrame(w: ByteWriter): void {
  w.ensure(8);
  const b = w.buf;
  const at = w.pos;
  b[at] = 0;
  b[at + 1] = 0;
  b[at + 2] = 0;
  b[at + 3] = 8;
  b[at + 4] = 2;
  b[at + 5] = 0;
  b[at + 6] = 0;
  b[at + 7] = 0;
  w.pos = at + 8;
}

/** The fields of a transfer that the engine writes on the hot path. */
export interface TransferHead {
  handle: number;
  /** Omitted on continuation frames. */
  deliveryId: number | undefined;
  deliveryTag: Uint8Array | undefined;
  messageFormat: number | undefined;
  settled: boolean;
  more: boolean;
  /** Receiver settle mode override (rarely used). */
  rcvSettleMode?: number | undefined;
  aborted?: boolean | undefined;
}

/**
 * Writes the transfer performative (descriptor + list) for `t`, dropping trailing absent fields, or
 * with `full` all 11 fields (absent ones as null; see `CompositeType.encode`). Field order: handle,
 * delivery-id, delivery-tag, message-format, settled, more, rcv-settle-mode, state, resume, aborted,
 * batchable. `settled` and `more` are always written when any later field is.
 */
export function writeTransferPerformative(w: ByteWriter, t: TransferHead, full = false): void {
  w.u8u8(F.Described, F.SmallUlong);
  w.u8(0x14);
  const at = beginCompound(w);
  writeUint(w, t.handle);
  const aborted = t.aborted === true;
  const hasRcv = t.rcvSettleMode !== undefined;
  if (full) {
    if (t.deliveryId === undefined) w.u8(F.Null);
    else writeUint(w, t.deliveryId);
    if (t.deliveryTag === undefined) w.u8(F.Null);
    else writeBinary(w, t.deliveryTag);
    if (t.messageFormat === undefined) w.u8(F.Null);
    else writeUint(w, t.messageFormat);
    // settled … batchable: at most 8 bytes, written in one go (this is the per-message path).
    w.ensure(8);
    const b = w.buf;
    let p = w.pos;
    b[p++] = t.settled ? F.BooleanTrue : F.BooleanFalse;
    b[p++] = t.more ? F.BooleanTrue : F.BooleanFalse;
    if (hasRcv) {
      b[p++] = F.Ubyte;
      b[p++] = t.rcvSettleMode!;
    } else b[p++] = F.Null;
    b[p++] = F.Null; // state
    b[p++] = F.Null; // resume
    b[p++] = aborted ? F.BooleanTrue : F.Null;
    b[p++] = F.Null; // batchable
    w.pos = p;
    endCompound(w, at, 11, F.List8, F.List32);
    return;
  }
  let count = 1;
  const needMore = t.more || hasRcv || aborted;
  const needSettled = t.settled || needMore;
  const needFormat = t.messageFormat !== undefined || needSettled;
  const needTag = t.deliveryTag !== undefined || needFormat;
  const needId = t.deliveryId !== undefined || needTag;
  if (needId) {
    if (t.deliveryId === undefined) w.u8(F.Null);
    else writeUint(w, t.deliveryId);
    count++;
  }
  if (needTag) {
    if (t.deliveryTag === undefined) w.u8(F.Null);
    else writeBinary(w, t.deliveryTag);
    count++;
  }
  if (needFormat) {
    if (t.messageFormat === undefined) w.u8(F.Null);
    else writeUint(w, t.messageFormat);
    count++;
  }
  if (needSettled) {
    writeBoolean(w, t.settled);
    count++;
  }
  if (needMore) {
    writeBoolean(w, t.more);
    count++;
  }
  if (hasRcv || aborted) {
    if (hasRcv) writeUbyte(w, t.rcvSettleMode!);
    else w.u8(F.Null);
    count++;
  }
  if (aborted) {
    w.u8(F.Null); // state
    w.u8(F.Null); // resume
    writeBoolean(w, true);
    count += 3;
  }
  endCompound(w, at, count, F.List8, F.List32);
}
