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

/** Decodes a transfer body (after its descriptor). */
export function decodeTransferBody(d: Decoder): TransferFields {
  const start = d.pos;
  const lc = d.u8();
  if (lc !== F.List8 && lc !== F.List32) {
    d.pos = start;
    return Transfer.decodeBody(d);
  }
  const wide = lc === F.List32;
  const size = wide ? d.u32() : d.u8();
  if (size > d.end - d.pos) throw new DecodeError(`transfer list size ${size} exceeds the frame`, start, lc);
  const stop = d.pos + size;
  const count = wide ? d.u32() : d.u8();
  const out: TransferFields = { handle: 0 };
  let ok = count > 0; // handle is mandatory: the generic decoder reports it
  for (let i = 0; i < count && ok; i++) {
    const code = d.u8();
    // An absent field (peers that write every field send up to 6 nulls per frame); handle is mandatory.
    if (code === F.Null && i > 0) continue;
    switch (i) {
      case 0: {
        const v = uintOf(d, code);
        if (v === undefined || v < 0) ok = false;
        else out.handle = v;
        break;
      }
      case 1:
      case 3: {
        const v = uintOf(d, code);
        if (v === -1) ok = false;
        else if (v !== undefined) {
          if (i === 1) out.deliveryId = v;
          else out.messageFormat = v;
        }
        break;
      }
      case 2:
        if (code === F.Vbin8) out.deliveryTag = d.bytes(d.u8(), code);
        else if (code === F.Vbin32) out.deliveryTag = d.bytes(d.u32(), code);
        else if (code !== F.Null) ok = false;
        break;
      case 4:
      case 5:
      case 8:
      case 9:
      case 10: {
        const v = boolOf(d, code);
        if (v === -1) ok = false;
        else if (v !== undefined) {
          if (i === 4) out.settled = v;
          else if (i === 5) out.more = v;
          else if (i === 8) out.resume = v;
          else if (i === 9) out.aborted = v;
          else out.batchable = v;
        }
        break;
      }
      case 6:
        if (code === F.Ubyte) out.rcvSettleMode = d.u8();
        else if (code !== F.Null) ok = false;
        break;
      case 7:
        if (code === F.Described) out.state = DeliveryState.decodeDescribed(d);
        else if (code !== F.Null) ok = false;
        break;
      default:
        if (code === F.Described) d.described();
        else d.payload(code);
    }
  }
  if (!ok) {
    d.pos = start;
    return Transfer.decodeBody(d);
  }
  if (d.pos !== stop) throw new DecodeError("transfer list size does not match its content", start, lc);
  return out;
}
