/**
 * Composite types of AMQP 1.0 part 3 (messaging.xml) and part 4 (transactions.xml):
 * message header and properties sections, delivery states and outcomes, termini, lifetime policies,
 * the transaction coordinator target and its bodies.
 */
import { defineComposite, defineUnion, type Tagged } from "../composite.js";
import { ErrorComposite } from "./error.js";

/** `amqp:header:list` (0x70): transport headers of a message. */
export const HeaderSection = defineComposite({
  name: "header",
  code: 0x70,
  symbol: "amqp:header:list",
  fields: [
    { key: "durable", type: "boolean", default: false },
    { key: "priority", type: "ubyte", default: 4 },
    { key: "ttl", type: "uint" },
    { key: "firstAcquirer", type: "boolean", default: false },
    { key: "deliveryCount", type: "uint", default: 0 },
  ],
} as const);

/** `amqp:properties:list` (0x73): immutable properties of a message. */
export const PropertiesSection = defineComposite({
  name: "properties",
  code: 0x73,
  symbol: "amqp:properties:list",
  fields: [
    { key: "messageId", type: "any" },
    { key: "userId", type: "binary" },
    { key: "to", type: "any" },
    { key: "subject", type: "string" },
    { key: "replyTo", type: "any" },
    { key: "correlationId", type: "any" },
    { key: "contentType", type: "symbol" },
    { key: "contentEncoding", type: "symbol" },
    { key: "absoluteExpiryTime", type: "timestamp" },
    { key: "creationTime", type: "timestamp" },
    { key: "groupId", type: "string" },
    { key: "groupSequence", type: "uint" },
    { key: "replyToGroupId", type: "string" },
  ],
} as const);

/** Descriptor codes of the message sections (header and properties are the composites above). */
export const SectionCode = {
  Header: 0x70,
  DeliveryAnnotations: 0x71,
  MessageAnnotations: 0x72,
  Properties: 0x73,
  ApplicationProperties: 0x74,
  Data: 0x75,
  AmqpSequence: 0x76,
  AmqpValue: 0x77,
  Footer: 0x78,
} as const;

/** `amqp:received:list` (0x23). */
export const Received = defineComposite({
  name: "received",
  code: 0x23,
  symbol: "amqp:received:list",
  fields: [
    { key: "sectionNumber", type: "uint", mandatory: true },
    { key: "sectionOffset", type: "ulong", mandatory: true },
  ],
} as const);

/** `amqp:accepted:list` (0x24). */
export const Accepted = defineComposite({
  name: "accepted",
  code: 0x24,
  symbol: "amqp:accepted:list",
  fields: [],
} as const);

/** `amqp:rejected:list` (0x25). */
export const Rejected = defineComposite({
  name: "rejected",
  code: 0x25,
  symbol: "amqp:rejected:list",
  fields: [{ key: "error", type: ErrorComposite }],
} as const);

/** `amqp:released:list` (0x26). */
export const Released = defineComposite({
  name: "released",
  code: 0x26,
  symbol: "amqp:released:list",
  fields: [],
} as const);

/** `amqp:modified:list` (0x27). */
export const Modified = defineComposite({
  name: "modified",
  code: 0x27,
  symbol: "amqp:modified:list",
  fields: [
    { key: "deliveryFailed", type: "boolean" },
    { key: "undeliverableHere", type: "boolean" },
    { key: "messageAnnotations", type: "fields" },
  ],
} as const);

/** `amqp:declared:list` (0x33): a transaction id was allocated. */
export const Declared = defineComposite({
  name: "declared",
  code: 0x33,
  symbol: "amqp:declared:list",
  fields: [{ key: "txnId", type: "binary", mandatory: true }],
} as const);

/** The outcomes of a delivery, tagged by `type` (members of `DeliveryState` and `Outcome`). */
export type OutcomeMembers =
  | { readonly type: "accepted" }
  | Tagged<"rejected", ReturnType<typeof Rejected.decodeBody>>
  | { readonly type: "released" }
  | Tagged<"modified", ReturnType<typeof Modified.decodeBody>>
  | Tagged<"declared", ReturnType<typeof Declared.decodeBody>>;

/** An outcome: accepted, rejected, released, modified or declared, tagged by `type`. */
export const Outcome = defineUnion<OutcomeMembers>("outcome", [
  Accepted,
  Rejected,
  Released,
  Modified,
  Declared,
]);
export type Outcome = ReturnType<typeof Outcome.decode>;

/** `amqp:transactional-state:list` (0x34). */
export const TransactionalState = defineComposite({
  name: "transactional-state",
  code: 0x34,
  symbol: "amqp:transactional-state:list",
  fields: [
    { key: "txnId", type: "binary", mandatory: true },
    { key: "outcome", type: Outcome },
  ],
} as const);

/** A delivery state: an outcome, `received`, or `transactional-state`, tagged by `type`. */
export const DeliveryState = defineUnion<
  | OutcomeMembers
  | Tagged<"received", ReturnType<typeof Received.decodeBody>>
  | Tagged<"transactional-state", ReturnType<typeof TransactionalState.decodeBody>>
>("delivery-state", [Received, Accepted, Rejected, Released, Modified, Declared, TransactionalState]);
export type DeliveryState = ReturnType<typeof DeliveryState.decode>;

/** `amqp:source:list` (0x28). */
export const Source = defineComposite({
  name: "source",
  code: 0x28,
  symbol: "amqp:source:list",
  fields: [
    { key: "address", type: "any" },
    { key: "durable", type: "uint", default: 0 },
    { key: "expiryPolicy", type: "symbol", default: "session-end" },
    { key: "timeout", type: "uint", default: 0 },
    { key: "dynamic", type: "boolean", default: false },
    { key: "dynamicNodeProperties", type: "fields" },
    { key: "distributionMode", type: "symbol" },
    { key: "filter", type: "fields" },
    { key: "defaultOutcome", type: Outcome },
    { key: "outcomes", type: "symbol", multiple: true },
    { key: "capabilities", type: "symbol", multiple: true },
  ],
} as const);
export type SourceFields = ReturnType<typeof Source.decodeBody>;

/** `amqp:target:list` (0x29). */
export const Target = defineComposite({
  name: "target",
  code: 0x29,
  symbol: "amqp:target:list",
  fields: [
    { key: "address", type: "any" },
    { key: "durable", type: "uint", default: 0 },
    { key: "expiryPolicy", type: "symbol", default: "session-end" },
    { key: "timeout", type: "uint", default: 0 },
    { key: "dynamic", type: "boolean", default: false },
    { key: "dynamicNodeProperties", type: "fields" },
    { key: "capabilities", type: "symbol", multiple: true },
  ],
} as const);
export type TargetFields = ReturnType<typeof Target.decodeBody>;

/** `amqp:coordinator:list` (0x30): the target of a link to a transaction coordinator. */
export const Coordinator = defineComposite({
  name: "coordinator",
  code: 0x30,
  symbol: "amqp:coordinator:list",
  fields: [{ key: "capabilities", type: "symbol", multiple: true }],
} as const);

/** The target of an attach: a `target` or a transaction `coordinator`, tagged by `type`. */
export const TargetOrCoordinator = defineUnion<
  Tagged<"target", TargetFields> | Tagged<"coordinator", ReturnType<typeof Coordinator.decodeBody>>
>("target", [Target, Coordinator]);

/** `amqp:declare:list` (0x31): body of a declare message to a coordinator. */
export const Declare = defineComposite({
  name: "declare",
  code: 0x31,
  symbol: "amqp:declare:list",
  fields: [{ key: "globalId", type: "any" }],
} as const);

/** `amqp:discharge:list` (0x32): body of a discharge message to a coordinator. */
export const Discharge = defineComposite({
  name: "discharge",
  code: 0x32,
  symbol: "amqp:discharge:list",
  fields: [
    { key: "txnId", type: "binary", mandatory: true },
    { key: "fail", type: "boolean" },
  ],
} as const);

/** Lifetime policies of dynamic nodes (no fields). */
export const DeleteOnClose = defineComposite({
  name: "delete-on-close",
  code: 0x2b,
  symbol: "amqp:delete-on-close:list",
  fields: [],
} as const);
export const DeleteOnNoLinks = defineComposite({
  name: "delete-on-no-links",
  code: 0x2c,
  symbol: "amqp:delete-on-no-links:list",
  fields: [],
} as const);
export const DeleteOnNoMessages = defineComposite({
  name: "delete-on-no-messages",
  code: 0x2d,
  symbol: "amqp:delete-on-no-messages:list",
  fields: [],
} as const);
export const DeleteOnNoLinksOrMessages = defineComposite({
  name: "delete-on-no-links-or-messages",
  code: 0x2e,
  symbol: "amqp:delete-on-no-links-or-messages:list",
  fields: [],
} as const);
