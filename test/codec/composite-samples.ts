/**
 * A fully populated and a minimal value of every composite of src/codec/definitions/, shared by the
 * composite round-trip tests and the composite fuzz tests.
 */
import { createHash } from "node:crypto";
import type { CompositeType } from "../../src/codec/composite.js";
import { ErrorComposite } from "../../src/codec/definitions/error.js";
import {
  Accepted,
  Coordinator,
  Declare,
  Declared,
  DeleteOnClose,
  DeleteOnNoLinks,
  DeleteOnNoLinksOrMessages,
  DeleteOnNoMessages,
  Discharge,
  HeaderSection,
  Modified,
  PropertiesSection,
  Received,
  Rejected,
  Released,
  Source,
  Target,
  TransactionalState,
  type SourceFields,
} from "../../src/codec/definitions/messaging.js";
import {
  SaslChallenge,
  SaslInit,
  SaslMechanisms,
  SaslOutcome,
  SaslResponse,
} from "../../src/codec/definitions/security.js";
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
} from "../../src/codec/definitions/transport.js";
import {
  AMQPArray,
  AMQPDescribed,
  AMQPDouble,
  AMQPSymbol,
  AMQPuLong,
  AMQPUuid,
} from "../../src/codec/index.js";
import { ByteWriter } from "../../src/util/byte-writer.js";

export interface CompositeSample {
  readonly type: CompositeType<object>;
  /** Every field set (the last one too, so nothing is dropped). */
  readonly full: object;
  /** Only the mandatory fields. */
  readonly minimal: object;
}

function sample<T extends object>(type: CompositeType<T>, full: T, minimal: T): CompositeSample {
  return { type: type, full, minimal };
}

const error = {
  condition: "amqp:resource-limit-exceeded",
  description: "too many links",
  info: { "retry-after": 5, reason: "quota", nested: new Map([[new AMQPSymbol("k"), [1, "two"]]]) },
};

const source: SourceFields = {
  address: "queue-a",
  durable: 2,
  expiryPolicy: "never",
  timeout: 60,
  dynamic: false,
  dynamicNodeProperties: { "lifetime-policy": new AMQPDescribed(new AMQPuLong(0x2b), []) },
  distributionMode: "move",
  filter: {
    "apache.org:selector-filter:string": new AMQPDescribed(
      new AMQPuLong(0x0000468c00000004n),
      "amqp.annotation.x-opt-offset > '-1'",
    ),
  },
  defaultOutcome: {
    type: "modified",
    deliveryFailed: true,
    undeliverableHere: false,
    messageAnnotations: { a: 1 },
  },
  outcomes: ["amqp:accepted:list", "amqp:rejected:list"],
  capabilities: ["queue"],
};

const target = {
  address: "topic-b",
  durable: 1,
  expiryPolicy: "link-detach",
  timeout: 0,
  dynamic: true,
  dynamicNodeProperties: {
    "supported-dist-modes": new AMQPArray("symbol", [new AMQPSymbol("move"), new AMQPSymbol("copy")]),
  },
  capabilities: ["topic", "shared"],
};

const txnId = Buffer.from("txn-0001");

/** Every composite, with its full and minimal value. */
export const compositeSamples: readonly CompositeSample[] = [
  sample(
    Open,
    {
      containerId: "container-1",
      hostname: "example.com",
      maxFrameSize: 65536,
      channelMax: 255,
      idleTimeOut: 30000,
      outgoingLocales: ["en-US"],
      incomingLocales: ["en-US", "de-DE"],
      offeredCapabilities: ["ANONYMOUS-RELAY"],
      desiredCapabilities: ["DELAYED_DELIVERY", "SHARED-SUBS"],
      properties: { product: "uamqp", version: "0.1.0", pid: 42 },
    },
    { containerId: "c" },
  ),
  sample(
    Begin,
    {
      remoteChannel: 3,
      nextOutgoingId: 1,
      incomingWindow: 2048,
      outgoingWindow: 0xffffffff,
      handleMax: 255,
      offeredCapabilities: ["a"],
      desiredCapabilities: ["b", "c"],
      properties: { x: true },
    },
    { nextOutgoingId: 0, incomingWindow: 0, outgoingWindow: 0 },
  ),
  sample(
    Attach,
    {
      name: "link-1",
      handle: 7,
      role: true,
      sndSettleMode: 2,
      rcvSettleMode: 1,
      source,
      target: { type: "target", ...target },
      unsettled: new Map([[Buffer.from("tag-1"), new AMQPDescribed(new AMQPuLong(0x24), [])]]),
      incompleteUnsettled: true,
      initialDeliveryCount: 100,
      maxMessageSize: 1048576n,
      offeredCapabilities: ["x"],
      desiredCapabilities: ["y"],
      properties: { "com.microsoft:timeout": 60000, epoch: 5n },
    },
    { name: "l", handle: 0, role: false },
  ),
  sample(
    Flow,
    {
      nextIncomingId: 10,
      incomingWindow: 2048,
      nextOutgoingId: 11,
      outgoingWindow: 2048,
      handle: 1,
      deliveryCount: 5,
      linkCredit: 300,
      available: 0,
      drain: true,
      echo: true,
      properties: { "x-opt": "y" },
    },
    { incomingWindow: 1, nextOutgoingId: 2, outgoingWindow: 3 },
  ),
  sample(
    Transfer,
    {
      handle: 0,
      deliveryId: 70000,
      deliveryTag: Buffer.from([0, 0, 0, 1]),
      messageFormat: 0x80013700,
      settled: false,
      more: true,
      rcvSettleMode: 1,
      state: { type: "transactional-state", txnId, outcome: { type: "accepted" } },
      resume: false,
      aborted: false,
      batchable: true,
    },
    { handle: 0 },
  ),
  sample(
    Disposition,
    {
      role: true,
      first: 0,
      last: 99,
      settled: true,
      state: { type: "rejected", error },
      batchable: false,
    },
    { role: false, first: 5 },
  ),
  sample(Detach, { handle: 3, closed: true, error }, { handle: 3 }),
  sample(End, { error }, {}),
  sample(Close, { error: { condition: "amqp:connection:forced" } }, {}),
  sample(ErrorComposite, error, { condition: "amqp:internal-error" }),
  sample(
    SaslMechanisms,
    { saslServerMechanisms: ["PLAIN", "ANONYMOUS", "EXTERNAL"] },
    { saslServerMechanisms: ["PLAIN"] },
  ),
  sample(
    SaslInit,
    { mechanism: "PLAIN", initialResponse: Buffer.from("\0user\0pass"), hostname: "example.com" },
    { mechanism: "ANONYMOUS" },
  ),
  sample(SaslChallenge, { challenge: Buffer.from("challenge") }, { challenge: Buffer.alloc(0) }),
  sample(SaslResponse, { response: Buffer.from("response") }, { response: Buffer.alloc(0) }),
  sample(SaslOutcome, { code: 1, additionalData: Buffer.from("why") }, { code: 0 }),
  sample(Source, source, {}),
  sample(Target, target, {}),
  sample(Coordinator, { capabilities: ["amqp:local-transactions", "amqp:multi-txns-per-ssn"] }, {}),
  sample(
    HeaderSection,
    { durable: true, priority: 9, ttl: 60000, firstAcquirer: true, deliveryCount: 2 },
    {},
  ),
  sample(
    PropertiesSection,
    {
      messageId: new AMQPUuid("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
      userId: Buffer.from("user"),
      to: "queue-a",
      subject: "subject",
      replyTo: "reply-queue",
      correlationId: new AMQPuLong(42n),
      contentType: "application/json",
      contentEncoding: "gzip",
      absoluteExpiryTime: new Date(1_700_000_060_000),
      creationTime: new Date(1_700_000_000_000),
      groupId: "group",
      groupSequence: 3,
      replyToGroupId: "reply-group",
    },
    {},
  ),
  sample(Received, { sectionNumber: 2, sectionOffset: 1024n }, { sectionNumber: 0, sectionOffset: 0n }),
  sample(Accepted, {}, {}),
  sample(Rejected, { error }, {}),
  sample(Released, {}, {}),
  sample(
    Modified,
    {
      deliveryFailed: true,
      undeliverableHere: true,
      messageAnnotations: { "x-opt-retries": 3, rate: new AMQPDouble(0.5) },
    },
    {},
  ),
  sample(Declared, { txnId }, { txnId: Buffer.from([1]) }),
  sample(TransactionalState, { txnId, outcome: { type: "released" } }, { txnId }),
  sample(Declare, { globalId: Buffer.from("global") }, {}),
  sample(Discharge, { txnId, fail: true }, { txnId }),
  sample(DeleteOnClose, {}, {}),
  sample(DeleteOnNoLinks, {}, {}),
  sample(DeleteOnNoMessages, {}, {}),
  sample(DeleteOnNoLinksOrMessages, {}, {}),
];

/**
 * Encodes every sample (full and minimal, trailing nulls dropped and `full`) and every composite
 * with its mandatory fields absent (the error's text), into one digest: the same digest with and
 * without generated field writers means the same bytes and errors. `check` sees each encoding
 * without `full`.
 */
export function compositeEncodingsDigest(
  check: (type: CompositeType<object>, bytes: Buffer, value: object) => void,
): { count: number; digest: string } {
  const hash = createHash("sha256");
  let count = 0;
  for (const { type, full, minimal } of compositeSamples) {
    for (const value of [full, minimal]) {
      for (const all of [false, true]) {
        const w = new ByteWriter(64);
        type.encode(w, value, all);
        const bytes = w.toBuffer();
        hash.update(`${type.name} ${all}:`).update(bytes);
        if (!all) {
          check(type, bytes, value);
          count++;
        }
      }
    }
    if (type.fields.some((f) => f.mandatory === true)) {
      try {
        type.encode(new ByteWriter(64), {});
        hash.update(`${type.name}: no error`);
      } catch (e) {
        hash.update(`${type.name}: ${String(e)}`);
      }
    }
  }
  return { count, digest: hash.digest("hex") };
}
