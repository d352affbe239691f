/**
 * The per-entity management node `<entity>/$management` of the Service Bus emulation: the
 * `com.microsoft:*` operations the Service Bus SDKs send, as request/response messages with
 * amqp-value map bodies. The keys and types read and written are those of `@azure/service-bus`
 * (core/managementClient.js) and `azure-servicebus` (mgmt_handlers.py). Anything else is answered at
 * once with 501.
 */
import {
  AMQPArray,
  AMQPBinary,
  AMQPSymbol,
  AMQPType,
  AMQPUuid,
  AMQPDescribed,
  type AMQPValue,
} from "../../codec/values.js";
import type { NodeRequest, NodeResponse } from "../options.js";
import { storeMessage } from "../stored-message.js";
import type { ManagementSettlement, ServiceBusEntity } from "./entity.js";
import { swapGuidOrder } from "./lock-token.js";

/** Suffix of the per-entity management node. */
const MANAGEMENT_SUFFIX = "/$management";

/** Whether `name` (a resolved address) is a per-entity management node `<entity>/$management`. */
export function isEntityManagementNode(name: string): boolean {
  return name.length > MANAGEMENT_SUFFIX.length && name.endsWith(MANAGEMENT_SUFFIX);
}

/** The entity a management node serves. */
export function managedEntity(node: string): string {
  return node.slice(0, -MANAGEMENT_SUFFIX.length);
}

/** Condition names Service Bus answers failed requests with (`errorCondition`). */
const MESSAGE_NOT_FOUND = "com.microsoft:message-not-found";
const MESSAGE_LOCK_LOST = "com.microsoft:message-lock-lost";
/** 9999-12-31T23:59:59.999Z, the latest time .NET (and so Service Bus) represents. */
const LAST_TIMESTAMP_MS = 253_402_300_799_999;
const SESSION_LOCK_LOST = "com.microsoft:session-lock-lost";

// ---- reading request bodies ------------------------------------------------------------------------

function keyText(k: AMQPValue): string | undefined {
  if (typeof k === "string") return k;
  if (k instanceof AMQPSymbol) return k.value;
  return undefined;
}

/** The request body as a map by key text (string or symbol keys). */
function bodyMap(body: AMQPValue | undefined): Map<string, AMQPValue> {
  const out = new Map<string, AMQPValue>();
  const v = body instanceof AMQPDescribed ? body.value : body;
  if (v instanceof Map) {
    for (const [k, val] of v as Map<AMQPValue, AMQPValue>) {
      const key = keyText(k);
      if (key !== undefined) out.set(key, val);
    }
  }
  return out;
}

/** The items of a list or an array. */
function items(v: AMQPValue | undefined): readonly AMQPValue[] | undefined {
  if (v instanceof AMQPArray) return v.value;
  if (Array.isArray(v)) return v as readonly AMQPValue[];
  return undefined;
}

/** A whole number (int, long, unsigned, or a long sent as 8 big-endian bytes). */
function integer(v: AMQPValue | undefined): number | undefined {
  let x: unknown = v instanceof AMQPType ? v.value : v;
  if (x instanceof Uint8Array && x.length === 8) x = Buffer.from(x).readBigInt64BE(0);
  if (typeof x === "bigint") return Number(x);
  if (typeof x === "number" && Number.isInteger(x)) return x;
  return undefined;
}

function text(v: AMQPValue | undefined): string | undefined {
  if (typeof v === "string") return v;
  if (v instanceof AMQPSymbol) return v.value;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  return undefined;
}

function bytes(v: AMQPValue | undefined): Buffer | undefined {
  if (v instanceof AMQPBinary) return Buffer.from(v.value);
  if (v instanceof Uint8Array) return Buffer.from(v);
  return undefined;
}

/** A lock token as sent (standard GUID byte order), in delivery-tag order. */
function lockToken(v: AMQPValue | undefined): Buffer | undefined {
  const raw = v instanceof AMQPUuid ? v.value : v instanceof Uint8Array ? v : undefined;
  return raw?.length === 16 ? swapGuidOrder(raw) : undefined;
}

function stringMap(v: AMQPValue | undefined): Map<string, AMQPValue> | undefined {
  const m = bodyMap(v);
  return m.size > 0 ? m : undefined;
}

// ---- answers -----------------------------------------------------------------------------------------

function ok(body?: Record<string, AMQPValue>): NodeResponse {
  return { statusCode: 200, ...(body !== undefined ? { body } : {}) };
}

function fail(statusCode: number, statusDescription: string, errorCondition?: string): NodeResponse {
  return { statusCode, statusDescription, ...(errorCondition !== undefined ? { errorCondition } : {}) };
}

const badRequest = (what: string): NodeResponse => fail(400, what, "amqp:invalid-field");

const longArray = (ns: readonly number[]): AMQPArray =>
  new AMQPArray(
    "long",
    ns.map((n) => BigInt(n)),
  );

// ---- operations ----------------------------------------------------------------------------------------

/** Answers one request to the management node of `entity`. */
export function handleEntityRequest(entity: ServiceBusEntity, req: NodeRequest): NodeResponse {
  const body = bodyMap(req.body);
  switch (req.operation) {
    case "com.microsoft:peek-message":
      return peek(entity, body);
    case "com.microsoft:schedule-message":
      return schedule(entity, body);
    case "com.microsoft:cancel-scheduled-message":
      return cancelScheduled(entity, body);
    case "com.microsoft:renew-lock":
      return renewLock(entity, body);
    case "com.microsoft:receive-by-sequence-number":
      return receiveBySequenceNumber(entity, body);
    case "com.microsoft:update-disposition":
      return updateDisposition(entity, body);
    case "com.microsoft:renew-session-lock":
      return renewSessionLock(entity, body);
    case "com.microsoft:set-session-state":
      return setSessionState(entity, body);
    case "com.microsoft:get-session-state":
      return getSessionState(entity, body);
    case "com.microsoft:get-message-sessions":
      return getMessageSessions(entity, body);
    default:
      return fail(
        501,
        `operation '${req.operation ?? ""}' is not implemented by this broker's '${entity.name}/$management'`,
        "amqp:not-implemented",
      );
  }
}

function peek(entity: ServiceBusEntity, body: Map<string, AMQPValue>): NodeResponse {
  const from = integer(body.get("from-sequence-number")) ?? 1;
  const count = integer(body.get("message-count")) ?? 1;
  if (count < 1) return badRequest("'message-count' must be at least 1");
  const found = entity.peek(from, count, text(body.get("session-id")));
  if (found.length === 0) return { statusCode: 204, statusDescription: "No Content" };
  return ok({ messages: found.map((message) => ({ message })) });
}

function schedule(entity: ServiceBusEntity, body: Map<string, AMQPValue>): NodeResponse {
  const list = items(body.get("messages"));
  if (!list) return badRequest("'messages' is missing");
  const parsed: Buffer[] = [];
  for (const entry of list) {
    const payload = bytes(bodyMap(entry).get("message"));
    if (!payload) return badRequest("every entry of 'messages' needs an encoded 'message'");
    parsed.push(payload);
  }
  const now = Date.now();
  const seqs = parsed.map((payload) => entity.scheduleEncoded(storeMessage(payload, 0, now)));
  return ok({ "sequence-numbers": longArray(seqs) });
}

function sequenceNumbers(body: Map<string, AMQPValue>): number[] | undefined {
  const list = items(body.get("sequence-numbers"));
  if (!list) return undefined;
  const out: number[] = [];
  for (const v of list) {
    const n = integer(v);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

function cancelScheduled(entity: ServiceBusEntity, body: Map<string, AMQPValue>): NodeResponse {
  const seqs = sequenceNumbers(body);
  if (!seqs) return badRequest("'sequence-numbers' is missing or malformed");
  // Cancelling a message that is no longer scheduled (already enqueued, or cancelled) changes nothing.
  for (const s of seqs) entity.cancelScheduled(s);
  return ok();
}

function lockTokens(body: Map<string, AMQPValue>): Buffer[] | undefined {
  const list = items(body.get("lock-tokens"));
  if (!list) return undefined;
  const out: Buffer[] = [];
  for (const v of list) {
    const t = lockToken(v);
    if (!t) return undefined;
    out.push(t);
  }
  return out;
}

/**
 * The lock tokens of a renew-lock: GUIDs as Service Bus clients send them, or, from a plain AMQP
 * consumer, the delivery tags of its PeekLock deliveries as binary (8 bytes; docs/broker.md).
 */
function renewTokens(body: Map<string, AMQPValue>): Buffer[] | undefined {
  const list = items(body.get("lock-tokens"));
  if (!list) return undefined;
  const out: Buffer[] = [];
  for (const v of list) {
    const raw = v instanceof AMQPBinary ? v.value : v instanceof Uint8Array ? v : undefined;
    const t = raw !== undefined && raw.length > 0 && raw.length !== 16 ? Buffer.from(raw) : lockToken(v);
    if (!t) return undefined;
    out.push(t);
  }
  return out;
}

function renewLock(entity: ServiceBusEntity, body: Map<string, AMQPValue>): NodeResponse {
  const tokens = renewTokens(body);
  if (!tokens) return badRequest("'lock-tokens' is missing or malformed");
  const expirations: Date[] = [];
  for (const t of tokens) {
    const until = entity.renewLock(t);
    if (until === undefined) {
      return fail(
        410,
        "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.",
        MESSAGE_LOCK_LOST,
      );
    }
    // A lock that lasts until settled (`queues.lockDuration: 0`) is answered with the last timestamp.
    expirations.push(new Date(Math.min(until, LAST_TIMESTAMP_MS)));
  }
  return ok({ expirations: new AMQPArray("timestamp", expirations) });
}

function receiveBySequenceNumber(entity: ServiceBusEntity, body: Map<string, AMQPValue>): NodeResponse {
  const seqs = sequenceNumbers(body);
  if (!seqs) return badRequest("'sequence-numbers' is missing or malformed");
  // receiver-settle-mode 0 is ReceiveAndDelete, 1 PeekLock (the default).
  const peekLock = integer(body.get("receiver-settle-mode")) !== 0;
  const got = entity.receiveDeferred(seqs, peekLock, text(body.get("session-id")));
  if (!got) {
    return fail(
      404,
      `The message with the sequence number(s) [${seqs.join(", ")}] was not found among the deferred messages of '${entity.name}'.`,
      MESSAGE_NOT_FOUND,
    );
  }
  return ok({
    messages: got.map((r) => ({
      message: entity.stamp(r.message, 1, r.lockedUntil),
      ...(r.token ? { "lock-token": new AMQPUuid(swapGuidOrder(r.token)) } : {}),
    })),
  });
}

const STATUSES: ReadonlySet<string> = new Set(["completed", "abandoned", "defered", "suspended"]);

function updateDisposition(entity: ServiceBusEntity, body: Map<string, AMQPValue>): NodeResponse {
  const tokens = lockTokens(body);
  if (!tokens) return badRequest("'lock-tokens' is missing or malformed");
  const status = text(body.get("disposition-status"));
  if (status === undefined || !STATUSES.has(status)) {
    return badRequest(`'disposition-status' must be completed, abandoned, defered or suspended`);
  }
  const settlement: ManagementSettlement = {
    status: status as ManagementSettlement["status"],
    deadLetterReason: text(body.get("deadletter-reason")),
    deadLetterDescription: text(body.get("deadletter-description")),
    propertiesToModify: stringMap(body.get("properties-to-modify")),
  };
  for (const t of tokens) {
    if (entity.settle(t, settlement) === "lock-lost") {
      return fail(
        410,
        "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.",
        MESSAGE_LOCK_LOST,
      );
    }
  }
  return ok();
}

function sessionId(body: Map<string, AMQPValue>): string | undefined {
  return text(body.get("session-id"));
}

function renewSessionLock(entity: ServiceBusEntity, body: Map<string, AMQPValue>): NodeResponse {
  const id = sessionId(body);
  if (id === undefined) return badRequest("'session-id' is missing");
  const until = entity.sessions.renew(id);
  if (until === undefined) {
    return fail(410, `The session lock of '${id}' was lost or never held.`, SESSION_LOCK_LOST);
  }
  return ok({ expiration: new Date(until) });
}

function setSessionState(entity: ServiceBusEntity, body: Map<string, AMQPValue>): NodeResponse {
  const id = sessionId(body);
  if (id === undefined) return badRequest("'session-id' is missing");
  const v = body.get("session-state");
  const state = v === null || v === undefined ? undefined : bytes(v);
  if (v !== null && v !== undefined && state === undefined) {
    return badRequest("'session-state' must be binary or null");
  }
  entity.sessions.setState(id, state);
  return ok();
}

function getSessionState(entity: ServiceBusEntity, body: Map<string, AMQPValue>): NodeResponse {
  const id = sessionId(body);
  if (id === undefined) return badRequest("'session-id' is missing");
  const state = entity.sessions.state(id);
  return ok({ "session-state": state ?? null });
}

function getMessageSessions(entity: ServiceBusEntity, body: Map<string, AMQPValue>): NodeResponse {
  const skip = Math.max(0, integer(body.get("skip")) ?? 0);
  const top = Math.max(0, integer(body.get("top")) ?? 0x7fffffff);
  const since = body.get("last-updated-time");
  const sinceMs = since instanceof Date ? since.getTime() : 0;
  const ids = [...new Set([...entity.sessionsWithMessages(), ...entity.sessions.withStateSince(sinceMs)])];
  const page = ids.slice(skip, skip + top);
  if (page.length === 0) return { statusCode: 204, statusDescription: "No Content" };
  return ok({ skip: skip + page.length, "sessions-ids": new AMQPArray("string", page) });
}
