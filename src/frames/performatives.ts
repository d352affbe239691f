/**
 * Dispatch tables from descriptor codes to the composite definitions of frame bodies.
 */
import { DecodeError } from "../errors/decode-error.js";
import type { Decoder } from "../codec/decoder.js";
import { FormatCode as F } from "../codec/format-codes.js";
import {
  Attach,
  Begin,
  Close,
  Detach,
  Disposition,
  End,
  Flow,
  Open,
  Transfer,
} from "../codec/definitions/transport.js";
import {
  SaslChallenge,
  SaslInit,
  SaslMechanisms,
  SaslOutcome,
  SaslResponse,
} from "../codec/definitions/security.js";

/** Descriptor codes of the performatives and SASL frames. */
export const PerformativeCode = {
  Open: 0x10,
  Begin: 0x11,
  Attach: 0x12,
  Flow: 0x13,
  Transfer: 0x14,
  Disposition: 0x15,
  Detach: 0x16,
  End: 0x17,
  Close: 0x18,
  SaslMechanisms: 0x40,
  SaslInit: 0x41,
  SaslChallenge: 0x42,
  SaslResponse: 0x43,
  SaslOutcome: 0x44,
} as const;

export type OpenFields = ReturnType<typeof Open.decodeBody>;
export type BeginFields = ReturnType<typeof Begin.decodeBody>;
export type AttachFields = ReturnType<typeof Attach.decodeBody>;
export type FlowFields = ReturnType<typeof Flow.decodeBody>;
export type TransferFields = ReturnType<typeof Transfer.decodeBody>;
export type DispositionFields = ReturnType<typeof Disposition.decodeBody>;
export type DetachFields = ReturnType<typeof Detach.decodeBody>;
export type EndFields = ReturnType<typeof End.decodeBody>;
export type CloseFields = ReturnType<typeof Close.decodeBody>;
export type SaslMechanismsFields = ReturnType<typeof SaslMechanisms.decodeBody>;
export type SaslInitFields = ReturnType<typeof SaslInit.decodeBody>;
export type SaslChallengeFields = ReturnType<typeof SaslChallenge.decodeBody>;
export type SaslResponseFields = ReturnType<typeof SaslResponse.decodeBody>;
export type SaslOutcomeFields = ReturnType<typeof SaslOutcome.decodeBody>;

const SYMBOLIC: Record<string, number> = {
  "amqp:open:list": 0x10,
  "amqp:begin:list": 0x11,
  "amqp:attach:list": 0x12,
  "amqp:flow:list": 0x13,
  "amqp:transfer:list": 0x14,
  "amqp:disposition:list": 0x15,
  "amqp:detach:list": 0x16,
  "amqp:end:list": 0x17,
  "amqp:close:list": 0x18,
  "amqp:sasl-mechanisms:list": 0x40,
  "amqp:sasl-init:list": 0x41,
  "amqp:sasl-challenge:list": 0x42,
  "amqp:sasl-response:list": 0x43,
  "amqp:sasl-outcome:list": 0x44,
};

/**
 * Reads the described-type constructor and descriptor of a frame body; returns the numeric code.
 * @throws {DecodeError} if the body is not a described value with a known frame descriptor.
 */
export function readPerformativeCode(d: Decoder): number {
  const at = d.pos;
  const c = d.u8();
  if (c !== F.Described) throw new DecodeError("frame body is not a described performative", at, c);
  const dc = d.u8();
  let code: number | undefined;
  if (dc === F.SmallUlong) code = d.u8();
  else if (dc === F.Ulong) {
    const v = d.u64();
    code = v < 0x100n ? Number(v) : -1;
  } else if (dc === F.Sym8 || dc === F.Sym32) {
    code = SYMBOLIC[d.text(dc === F.Sym8 ? d.u8() : d.u32(), dc)];
  }
  if (code === undefined || code < 0 || ((code < 0x10 || code > 0x18) && (code < 0x40 || code > 0x44))) {
    throw new DecodeError("unknown performative descriptor", at + 1, dc);
  }
  return code;
}

/** Human-readable names for traces. */
export const PerformativeName: Record<number, string> = {
  0x10: "OPEN",
  0x11: "BEGIN",
  0x12: "ATTACH",
  0x13: "FLOW",
  0x14: "TRANSFER",
  0x15: "DISPOSITION",
  0x16: "DETACH",
  0x17: "END",
  0x18: "CLOSE",
  0x40: "SASL-MECHANISMS",
  0x41: "SASL-INIT",
  0x42: "SASL-CHALLENGE",
  0x43: "SASL-RESPONSE",
  0x44: "SASL-OUTCOME",
};

export { Attach, Begin, Close, Detach, Disposition, End, Flow, Open, Transfer };
export { SaslChallenge, SaslInit, SaslMechanisms, SaslOutcome, SaslResponse };
