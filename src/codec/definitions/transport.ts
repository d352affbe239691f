/**
 * Composite types of AMQP 1.0 part 2 (transport.xml): the performatives and `error`.
 * Each table lists the fields in spec order; the spec name is the kebab-case of each key.
 */
import { defineComposite } from "../composite.js";
import { ErrorComposite } from "./error.js";
import { DeliveryState, Source, TargetOrCoordinator } from "./messaging.js";

export { ErrorComposite };

/** `amqp:open:list` (0x10): negotiate connection parameters. */
export const Open = defineComposite({
  name: "open",
  code: 0x10,
  symbol: "amqp:open:list",
  fields: [
    { key: "containerId", type: "string", mandatory: true },
    { key: "hostname", type: "string" },
    { key: "maxFrameSize", type: "uint", default: 4294967295 },
    { key: "channelMax", type: "ushort", default: 65535 },
    { key: "idleTimeOut", type: "uint" },
    { key: "outgoingLocales", type: "symbol", multiple: true },
    { key: "incomingLocales", type: "symbol", multiple: true },
    { key: "offeredCapabilities", type: "symbol", multiple: true },
    { key: "desiredCapabilities", type: "symbol", multiple: true },
    { key: "properties", type: "fields" },
  ],
} as const);

/** `amqp:begin:list` (0x11): begin a session on a channel. */
export const Begin = defineComposite({
  name: "begin",
  code: 0x11,
  symbol: "amqp:begin:list",
  fields: [
    { key: "remoteChannel", type: "ushort" },
    { key: "nextOutgoingId", type: "uint", mandatory: true },
    { key: "incomingWindow", type: "uint", mandatory: true },
    { key: "outgoingWindow", type: "uint", mandatory: true },
    { key: "handleMax", type: "uint", default: 4294967295 },
    { key: "offeredCapabilities", type: "symbol", multiple: true },
    { key: "desiredCapabilities", type: "symbol", multiple: true },
    { key: "properties", type: "fields" },
  ],
} as const);

/** `amqp:attach:list` (0x12): attach a link to a session. `role` false = sender, true = receiver. */
export const Attach = defineComposite({
  name: "attach",
  code: 0x12,
  symbol: "amqp:attach:list",
  fields: [
    { key: "name", type: "string", mandatory: true },
    { key: "handle", type: "uint", mandatory: true },
    { key: "role", type: "boolean", mandatory: true },
    { key: "sndSettleMode", type: "ubyte", default: 2 },
    { key: "rcvSettleMode", type: "ubyte", default: 0 },
    { key: "source", type: Source },
    { key: "target", type: TargetOrCoordinator },
    { key: "unsettled", type: "map" },
    { key: "incompleteUnsettled", type: "boolean", default: false },
    { key: "initialDeliveryCount", type: "uint" },
    { key: "maxMessageSize", type: "ulong" },
    { key: "offeredCapabilities", type: "symbol", multiple: true },
    { key: "desiredCapabilities", type: "symbol", multiple: true },
    { key: "properties", type: "fields" },
  ],
} as const);

/** `amqp:flow:list` (0x13): update link and session flow state. */
export const Flow = defineComposite({
  name: "flow",
  code: 0x13,
  symbol: "amqp:flow:list",
  fields: [
    { key: "nextIncomingId", type: "uint" },
    { key: "incomingWindow", type: "uint", mandatory: true },
    { key: "nextOutgoingId", type: "uint", mandatory: true },
    { key: "outgoingWindow", type: "uint", mandatory: true },
    { key: "handle", type: "uint" },
    { key: "deliveryCount", type: "uint" },
    { key: "linkCredit", type: "uint" },
    { key: "available", type: "uint" },
    { key: "drain", type: "boolean", default: false },
    { key: "echo", type: "boolean", default: false },
    { key: "properties", type: "fields" },
  ],
} as const);

/** `amqp:transfer:list` (0x14): transfer (part of) a message. */
export const Transfer = defineComposite({
  name: "transfer",
  code: 0x14,
  symbol: "amqp:transfer:list",
  fields: [
    { key: "handle", type: "uint", mandatory: true },
    { key: "deliveryId", type: "uint" },
    { key: "deliveryTag", type: "binary" },
    { key: "messageFormat", type: "uint" },
    { key: "settled", type: "boolean" },
    { key: "more", type: "boolean", default: false },
    { key: "rcvSettleMode", type: "ubyte" },
    { key: "state", type: DeliveryState },
    { key: "resume", type: "boolean", default: false },
    { key: "aborted", type: "boolean", default: false },
    { key: "batchable", type: "boolean", default: false },
  ],
} as const);

/** `amqp:disposition:list` (0x15): delivery state changes for a range of deliveries. */
export const Disposition = defineComposite({
  name: "disposition",
  code: 0x15,
  symbol: "amqp:disposition:list",
  fields: [
    { key: "role", type: "boolean", mandatory: true },
    { key: "first", type: "uint", mandatory: true },
    { key: "last", type: "uint" },
    { key: "settled", type: "boolean", default: false },
    { key: "state", type: DeliveryState },
    { key: "batchable", type: "boolean", default: false },
  ],
} as const);

/** `amqp:detach:list` (0x16): detach a link endpoint. */
export const Detach = defineComposite({
  name: "detach",
  code: 0x16,
  symbol: "amqp:detach:list",
  fields: [
    { key: "handle", type: "uint", mandatory: true },
    { key: "closed", type: "boolean", default: false },
    { key: "error", type: ErrorComposite },
  ],
} as const);

/** `amqp:end:list` (0x17): end a session. */
export const End = defineComposite({
  name: "end",
  code: 0x17,
  symbol: "amqp:end:list",
  fields: [{ key: "error", type: ErrorComposite }],
} as const);

/** `amqp:close:list` (0x18): close a connection. */
export const Close = defineComposite({
  name: "close",
  code: 0x18,
  symbol: "amqp:close:list",
  fields: [{ key: "error", type: ErrorComposite }],
} as const);
