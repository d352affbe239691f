/**
 * The ATTACH a session sends for one of its links: a generated link name, settle modes, termini and
 * limits taken from the link options, and the options answering a peer's ATTACH on the accepting side.
 */
import type { SourceFields, TargetFields } from "../codec/definitions/messaging.js";
import type { AttachFields } from "../frames/performatives.js";
import { ReceiverSettleMode, SenderSettleMode, type LinkOptions } from "./link.js";

/** Options of `AmqpSession.acceptLink`: our endpoint answering a peer's ATTACH. */
export interface AcceptLinkOptions {
  /** Our source terminus (the node we bind when we send; undefined refuses a receiving peer). */
  source?: SourceFields | undefined;
  /** Our target terminus (the node we bind when we receive; undefined refuses a sending peer). */
  target?: TargetFields | undefined;
  /** Receivers: automatic credit, issued once attached. @defaultValue 0 (manual credit) */
  autoCredit?: number;
  /** @defaultValue what the peer asked for, else Mixed */
  sndSettleMode?: SenderSettleMode;
  /** @defaultValue what the peer asked for, else First */
  rcvSettleMode?: ReceiverSettleMode;
  maxMessageSize?: number | bigint;
  properties?: LinkOptions["properties"];
  offeredCapabilities?: string[];
}

let nameCounter = 0;

/** A link name unique in this process (`sender-…` or `receiver-…`, from the pid, a counter and the time). */
export function generatedLinkName(role: boolean): string {
  return `${role ? "receiver" : "sender"}-${process.pid}-${++nameCounter}-${Date.now().toString(36)}`;
}

/**
 * The ATTACH fields of a link (`role` true = receiver) on our handle `handle`. A sender announces
 * initial-delivery-count 0; a max-message-size of 0 means no limit and is left out.
 */
export function attachFields(
  name: string,
  handle: number,
  role: boolean,
  options: LinkOptions,
): AttachFields {
  const a: AttachFields = { name, handle, role };
  if (options.sndSettleMode !== undefined) a.sndSettleMode = options.sndSettleMode;
  if (options.rcvSettleMode !== undefined) a.rcvSettleMode = options.rcvSettleMode;
  if (options.source !== undefined) a.source = options.source;
  if (options.target !== undefined) a.target = { type: "target", ...options.target };
  if (options.maxMessageSize !== undefined && options.maxMessageSize !== 0)
    a.maxMessageSize = BigInt(options.maxMessageSize);
  if (options.properties !== undefined) a.properties = options.properties;
  if (options.offeredCapabilities !== undefined) a.offeredCapabilities = options.offeredCapabilities;
  if (options.desiredCapabilities !== undefined) a.desiredCapabilities = options.desiredCapabilities;
  if (!role) a.initialDeliveryCount = 0;
  return a;
}

/**
 * The link options of our answer to the peer's ATTACH `remote`: its link name, and the settle modes
 * of `options`, else the ones the peer asked for, else the spec defaults. The termini are set by
 * the caller (they are not taken from the peer).
 */
export function acceptedLinkOptions(remote: AttachFields, options: AcceptLinkOptions): LinkOptions {
  return {
    name: remote.name,
    sndSettleMode:
      options.sndSettleMode ??
      (remote.sndSettleMode as SenderSettleMode | undefined) ??
      SenderSettleMode.Mixed,
    rcvSettleMode:
      options.rcvSettleMode ??
      (remote.rcvSettleMode as ReceiverSettleMode | undefined) ??
      ReceiverSettleMode.First,
    ...(options.maxMessageSize !== undefined ? { maxMessageSize: options.maxMessageSize } : {}),
    ...(options.properties !== undefined ? { properties: options.properties } : {}),
    ...(options.offeredCapabilities !== undefined
      ? { offeredCapabilities: options.offeredCapabilities }
      : {}),
  };
}
