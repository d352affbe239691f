/**
 * A hand-written decoder for the transfer performative: it is decoded once per message frame, so it
 * avoids the generic table walk. Any encoding the generic decoder accepts is accepted here, and
 * anything unusual (a field of an unexpected type) falls back to the generic composite decoder.
 */
import type { Decoder } from "../codec/decoder.js";
import { FormatCode as F } from "../codec/format-codes.js";
import { DeliveryState } from "../codec/definitions/messaging.js";
import { Transfer } from "../codec/definitions/transport.js";
import { DecodeError } from "../errors/decode-error.js";
import type { TransferFields } from "./performatives.js";

function uintOf(d: Decoder, code: number): number | undefined {
  switch (code) {
    case F.Null:
      return undefined;
    case F.Uint0:
      return 0;
    case F.SmallUint:
      return d.u8();
    case F.Uint:
      return d.u32();
    default:
      return -1;
  }
}

function boolOf(d: Decoder, code: number): boolean | undefined | -1 {
  switch (code) {
    case F.Null:
      return undefined;
    case F.BooleanTrue:
      return true;
    case F.BooleanFalse:
      return false;
    case F.Boolean: {
      const b = d.u8();
      return b === 1 ? true : b === 0 ? false : -1;
    }
    default:
      return -1;
  }
}

/**
 * A transfer decoded into a reused object: its delivery-tag may be left in the frame, at
 * `[tagStart, tagEnd)` of the bytes decoded (`tagStart` -1: `deliveryTag` holds the tag, or there is
 * none). Most receivers never read a tag; one who does makes the view with {@link transferTag}.
 */
export interface InboundTransfer extends TransferFields {
  tagStart: number;
  tagEnd: number;
}

/** The delivery-tag of `t` decoded from `frame`: a view of the frame, or undefined when it has none. */
export function transferTag(t: InboundTransfer, frame: Buffer): Uint8Array | undefined {
  return t.deliveryTag ?? (t.tagStart >= 0 ? frame.subarray(t.tagStart, t.tagEnd) : undefined);
}

/** Whether `t` carries a delivery-tag (in `deliveryTag` or in the frame). */
export function hasTransferTag(t: InboundTransfer): boolean {
  return t.deliveryTag !== undefined || t.tagStart >= 0;
}

/** A transfer with every field present and undefined but `handle`: the object to pass as `out`. */
export function blankTransfer(): InboundTransfer {
  return {
    tagStart: -1,
    tagEnd: -1,
    handle: 0,
    deliveryId: undefined,
    deliveryTag: undefined,
    messageFormat: undefined,
    settled: undefined,
    more: undefined,
    rcvSettleMode: undefined,
    state: undefined,
    resume: undefined,
    aborted: undefined,
    batchable: undefined,
  };
}

/** `t` with every field absent, to be filled again. */
function cleared(t: InboundTransfer): InboundTransfer {
  t.tagStart = -1;
  t.tagEnd = -1;
  t.handle = 0;
  t.deliveryId = undefined;
  t.deliveryTag = undefined;
  t.messageFormat = undefined;
  t.settled = undefined;
  t.more = undefined;
  t.rcvSettleMode = undefined;
  t.state = undefined;
  t.resume = undefined;
  t.aborted = undefined;
  t.batchable = undefined;
  return t;
}

/**
 * Decodes a transfer body (after its descriptor). With `out`, the fields are written into `out`
 * (each one, those absent as undefined) and `out` is returned: a receiver decoding one frame after
 * the other reuses one object, valid until its next frame (whoever keeps a field copies it), and
 * the delivery-tag stays a range of the frame (see {@link InboundTransfer}).
 */
export function decodeTransferBody(d: Decoder): TransferFields;
export function decodeTransferBody(d: Decoder, out: InboundTransfer): InboundTransfer;
export function decodeTransferBody(d: Decoder, out?: InboundTransfer): TransferFields {
  const start = d.pos;
  const lc = d.u8();
  if (lc !== F.List8 && lc !== F.List32) {
    d.pos = start;
    return generic(d, out);
  }
  const wide = lc === F.List32;
  const size = wide ? d.u32() : d.u8();
  if (size > d.end - d.pos) throw new DecodeError(`transfer list size ${size} exceeds the frame`, start, lc);
  const stop = d.pos + size;
  const count = wide ? d.u32() : d.u8();
  const o: TransferFields = out === undefined ? { handle: 0 } : cleared(out);
  // Where the tag lies when it is left in the frame (`out` given).
  let tagStart = -1;
  let tagEnd = -1;
  let ok = count > 0; // handle is mandatory: the generic decoder reports it
  for (let i = 0; i < count && ok; i++) {
    const code = d.u8();
    // An absent field (peers that write every field send up to 6 nulls per frame); handle is mandatory.
    if (code === F.Null && i > 0) continue;
    switch (i) {
      case 0: {
        const v = uintOf(d, code);
        if (v === undefined || v < 0) ok = false;
        else o.handle = v;
        break;
      }
      case 1:
      case 3: {
        const v = uintOf(d, code);
        if (v === -1) ok = false;
        else if (v !== undefined) {
          if (i === 1) o.deliveryId = v;
          else o.messageFormat = v;
        }
        break;
      }
      case 2:
        if (code === F.Vbin8 || code === F.Vbin32) {
          const n = code === F.Vbin8 ? d.u8() : d.u32();
          if (out === undefined) o.deliveryTag = d.bytes(n, code);
          else {
            d.need(n, code);
            tagStart = d.pos;
            tagEnd = tagStart + n;
            d.pos = tagEnd;
          }
        } else if (code !== F.Null) ok = false;
        break;
      case 4:
      case 5:
      case 8:
      case 9:
      case 10: {
        const v = boolOf(d, code);
        if (v === -1) ok = false;
        else if (v !== undefined) {
          if (i === 4) o.settled = v;
          else if (i === 5) o.more = v;
          else if (i === 8) o.resume = v;
          else if (i === 9) o.aborted = v;
          else o.batchable = v;
        }
        break;
      }
      case 6:
        if (code === F.Ubyte) o.rcvSettleMode = d.u8();
        else if (code !== F.Null) ok = false;
        break;
      case 7:
        if (code === F.Described) o.state = DeliveryState.decodeDescribed(d);
        else if (code !== F.Null) ok = false;
        break;
      default:
        if (code === F.Described) d.described();
        else d.payload(code);
    }
  }
  if (!ok) {
    d.pos = start;
    return generic(d, out);
  }
  if (d.pos !== stop) throw new DecodeError("transfer list size does not match its content", start, lc);
  if (out !== undefined) {
    out.tagStart = tagStart;
    out.tagEnd = tagEnd;
  }
  return o;
}

/** The generic decoder's transfer, into `out` when given (its tag a view in `deliveryTag`). */
function generic(d: Decoder, out: InboundTransfer | undefined): TransferFields {
  const t = Transfer.decodeBody(d);
  if (out === undefined) return t;
  const o = cleared(out);
  o.handle = t.handle;
  o.deliveryId = t.deliveryId;
  o.deliveryTag = t.deliveryTag;
  o.messageFormat = t.messageFormat;
  o.settled = t.settled;
  o.more = t.more;
  o.rcvSettleMode = t.rcvSettleMode;
  o.state = t.state;
  o.resume = t.resume;
  o.aborted = t.aborted;
  o.batchable = t.batchable;
  return o;
}
