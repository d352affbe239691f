/**
 * The Service Bus emulation of the broker (docs/azure-emulator.md): entity settings (declared in the
 * `serviceBus` option or defaults), topics and their subscriptions (fan-out), the address forms
 * (`<entity>/$DeadLetterQueue`, `<entity>/$management`), what happens when a message is enqueued
 * (scheduling, default time to live, topic fan-out) or dead-lettered (the reason), Service Bus
 * receivers (identification, sessions, the ATTACH answer) and the per-entity management node.
 *
 * It plugs into the broker through small hooks: the registry's address alias and queue lifecycle,
 * the queue host's enqueue and dead-letter calls, the consumer attach, and request nodes.
 */
import type { AttachFields } from "../../frames/performatives.js";
import type { SourceFields } from "../../codec/definitions/messaging.js";
import { AMQPDescribed, AMQPSymbol, AMQPType, type AMQPValue } from "../../codec/values.js";
import { BrokerError } from "../errors.js";
import {
  BROKER_DEFAULTS,
  type BrokerErrorFields,
  type BrokerOptions,
  type NodeRequest,
  type NodeResponse,
} from "../options.js";
import type { DeadLetterReason, Queue, QueueSettings } from "../queue.js";
import { messageAnnotationsInclude } from "../message-scan.js";
import { copyForQueue, replacePayload, setExpiry, type StoredMessage } from "../stored-message.js";
import { ServiceBusConsumer } from "./consumer.js";
import { copyFacts, factsOf, ServiceBusEntity, type EntitySettings } from "./entity.js";
import { dotNetTicks } from "./lock-token.js";
import { handleEntityRequest, managedEntity } from "./management.js";
import type { ServiceBusEntityOptions, ServiceBusOptions } from "./options.js";
import { editMessage } from "./sections.js";

/** The source filter of Service Bus session receivers. */
export const SESSION_FILTER = "com.microsoft:session-filter";
/** The ATTACH property carrying a session lock's expiry (.NET ticks). */
const LOCKED_UNTIL_UTC = "com.microsoft:locked-until-utc";
/** The ATTACH property bounding the wait for the next available session (ms). */
const SERVER_TIMEOUT = "com.microsoft:timeout";
/** Service Bus waits at most this long for the next available session. */
const MAX_SESSION_WAIT_MS = 65_000;
/** The annotation of a scheduled message (searched as bytes before decoding anything). */
const SCHEDULED_KEY = Buffer.from("x-opt-scheduled-enqueue-time");
const SERVICE_BUS_DEFAULT_LOCK_MS = 60_000;

const SUBSCRIPTION = /^(.+)\/Subscriptions\/([^/]+)$/;
const DLQ_SEGMENT = /\/\$deadletterqueue(?=\/|$)/gi;

/** The queues the namespace works with (the broker's registry). */
export interface EntityStore {
  get(name: string): Queue | undefined;
  /** The queue, created if missing. */
  ensure(name: string): Queue;
  /** The queue a link may use: existing, or created when auto-creation is on. */
  forUse(name: string): Queue | undefined;
  /** Queue name of an address. */
  resolve(address: string): string;
}

/** How attaching a consumer goes on (implemented by the broker's attach code). */
export interface ConsumerAttach<R> {
  /** Answers the ATTACH; `filter` is merged into the source's, `properties` are the link's. */
  accept(answer: { filter?: Record<string, AMQPValue>; properties?: Record<string, AMQPValue> }): R;
  /** Refuses the link with `error`. */
  refuse(error: BrokerErrorFields): void;
  /** Whether the link can still be answered (its session is still there). */
  answerable(): boolean;
  /** Starts delivering to the accepted link; returns the function that closes it with an error. */
  start(
    accepted: R,
    policy: ServiceBusConsumer | undefined,
  ): { close(error: BrokerErrorFields): void; whenGone(fn: () => void): void };
}

/** The settings of each kind of entity, as given. */
interface Declared {
  readonly queues: ReadonlyMap<string, ServiceBusEntityOptions>;
  readonly topics: ReadonlyMap<string, { ttl: number; subscriptions: Map<string, ServiceBusEntityOptions> }>;
}

export class ServiceBusNamespace {
  #store: EntityStore | undefined;
  readonly #declared: Declared;
  readonly #defaults: { lockDuration: number; maxDeliveryCount: number };
  readonly #entities = new WeakMap<Queue, ServiceBusEntity>();
  readonly #settingsCache = new WeakMap<Queue, EntitySettings>();
  /** Topic name → names of its subscription queues. */
  readonly #topics = new Map<string, Set<string>>();
  /** Dead-letter reasons decided by a settlement, applied when the message moves. */
  readonly #pendingDeadLetter = new WeakMap<StoredMessage, { reason: string; description: string }>();

  /** @throws {BrokerError} for malformed `serviceBus` options. */
  constructor(options: BrokerOptions) {
    const sb = options.serviceBus ?? {};
    this.#declared = checkOptions(sb);
    const generic = options.queues?.lockDuration ?? 0;
    this.#defaults = {
      lockDuration: sb.lockDuration ?? (generic > 0 ? generic : SERVICE_BUS_DEFAULT_LOCK_MS),
      maxDeliveryCount: options.queues?.maxDeliveryCount ?? BROKER_DEFAULTS.queues.maxDeliveryCount,
    };
  }

  /** Works with `store` (the broker's registry, which calls this namespace back) and creates the declared entities. */
  bind(store: EntityStore): void {
    this.#store = store;
    for (const name of this.#declared.queues.keys()) store.ensure(name);
    for (const [topic, t] of this.#declared.topics) {
      this.#topics.set(topic, this.#topics.get(topic) ?? new Set());
      store.ensure(topic);
      for (const sub of t.subscriptions.keys()) store.ensure(`${topic}/Subscriptions/${sub}`);
    }
  }

  get #queues(): EntityStore {
    if (!this.#store) throw new BrokerError("the Service Bus namespace is not bound to the broker's queues");
    return this.#store;
  }

  // ---- addresses and the registry ---------------------------------------------------------------------

  /** `<entity>/$DeadLetterQueue` (any case) is the dead-letter queue `<entity>/$deadletter`. */
  alias(name: string): string {
    return name.includes("$") ? name.replace(DLQ_SEGMENT, "/$deadletter") : name;
  }

  /** Per-queue settings for the registry (a declared entity's max delivery count). */
  queueSettings(name: string): QueueSettings {
    return { maxDeliveryCount: this.settingsOf(name).maxDeliveryCount };
  }

  /** A queue was created: a subscription makes its topic one. */
  created(q: Queue): void {
    if (q.temporary) return;
    const sub = SUBSCRIPTION.exec(q.name);
    if (!sub) return;
    const topic = sub[1]!;
    let subs = this.#topics.get(topic);
    if (!subs) {
      subs = new Set();
      this.#topics.set(topic, subs);
    }
    subs.add(q.name);
    if (!this.#queues.get(topic)) this.#queues.ensure(topic);
  }

  /** A queue was deleted: its entity state goes with it. */
  deleted(q: Queue): void {
    this.#entities.get(q)?.close();
    this.#entities.delete(q);
    const sub = SUBSCRIPTION.exec(q.name);
    if (sub) this.#topics.get(sub[1]!)?.delete(q.name);
  }

  /** Whether `name` is a topic (declared, or one of its subscriptions was used). */
  isTopic(name: string): boolean {
    return this.#topics.has(name);
  }

  // ---- settings and entities ----------------------------------------------------------------------------

  /** The settings of the entity named `name` (a dead-letter queue has its entity's). */
  settingsOf(name: string): EntitySettings {
    const base = name.endsWith("/$deadletter") ? name.slice(0, -"/$deadletter".length) : name;
    const dlq = base !== name;
    let given: ServiceBusEntityOptions | undefined = this.#declared.queues.get(base);
    let ttl = 0;
    const sub = SUBSCRIPTION.exec(base);
    if (!given && sub) {
      const t = this.#declared.topics.get(sub[1]!);
      given = t?.subscriptions.get(sub[2]!);
      ttl = t?.ttl ?? 0;
    }
    const topic = this.#declared.topics.get(base);
    return {
      lockDuration: given?.lockDuration ?? this.#defaults.lockDuration,
      maxDeliveryCount: given?.maxDeliveryCount ?? this.#defaults.maxDeliveryCount,
      defaultMessageTimeToLive: dlq ? 0 : (given?.defaultMessageTimeToLive ?? topic?.ttl ?? ttl),
      requiresSession: !dlq && given?.requiresSession === true,
      declared: given !== undefined || topic !== undefined,
    };
  }

  /** The settings of a queue, looked up once. */
  #settings(queue: Queue): EntitySettings {
    let s = this.#settingsCache.get(queue);
    if (!s) {
      s = this.settingsOf(queue.name);
      this.#settingsCache.set(queue, s);
    }
    return s;
  }

  /** The Service Bus state of a queue (created on first need). */
  entityOf(queue: Queue): ServiceBusEntity {
    let e = this.#entities.get(queue);
    if (!e) {
      e = new ServiceBusEntity(this, queue, this.#settings(queue));
      this.#entities.set(queue, e);
    }
    return e;
  }

  // ---- queue host hooks ------------------------------------------------------------------------------------

  /**
   * Before `queue` stores `m`: a message scheduled for later is held, a topic hands a copy to each
   * subscription (none: dropped, as Service Bus does), a default time to live applies. True when the
   * message went elsewhere.
   */
  onEnqueue(queue: Queue, m: StoredMessage): boolean {
    if (queue.temporary) return false;
    if (m.messageFormat === 0 && messageAnnotationsInclude(m.payload, SCHEDULED_KEY)) {
      const at = factsOf(m).scheduledAt;
      if (at !== undefined && at > Date.now()) {
        this.entityOf(queue).schedule(m, at);
        return true;
      }
    }
    const settings = this.#settings(queue);
    if (settings.defaultMessageTimeToLive > 0 && m.expiresAt === Infinity) {
      setExpiry(m, m.enqueuedAt + settings.defaultMessageTimeToLive);
    }
    const subs = this.#topics.size > 0 ? this.#topics.get(queue.name) : undefined;
    if (subs) {
      for (const name of subs) {
        const sub = this.#queues.get(name);
        if (!sub) continue;
        const copy = copyForQueue(m);
        copyFacts(m, copy);
        sub.enqueue(copy);
      }
      return true;
    }
    const entity = this.#entities.get(queue);
    if (entity) {
      queueMicrotask(() => {
        entity.sessions.wake();
      });
    }
    return false;
  }

  /**
   * Before `m` moves from `queue` to its dead-letter queue: the reason a settlement gave, or for a
   * Service Bus entity or message the reason of the broker's own dead-lettering, as application
   * properties `DeadLetterReason` / `DeadLetterErrorDescription`, and `x-opt-deadletter-source`.
   */
  onDeadLetter(queue: Queue, m: StoredMessage, reason: DeadLetterReason): void {
    if (m.messageFormat !== 0) return;
    let why = this.#pendingDeadLetter.get(m);
    this.#pendingDeadLetter.delete(m);
    if (!why && (factsOf(m).seenByServiceBus || this.settingsOf(queue.name).declared)) {
      if (reason === "max-delivery-count") {
        why = {
          reason: "MaxDeliveryCountExceeded",
          description: `Message could not be consumed after ${queue.maxDeliveryCount} delivery attempts.`,
        };
      } else if (reason === "expired") {
        why = {
          reason: "TTLExpiredException",
          description: "The message expired and was dead lettered.",
        };
      }
    }
    if (!why) return;
    const props = new Map<string, AMQPValue>();
    if (why.reason !== "") props.set("DeadLetterReason", why.reason);
    if (why.description !== "") props.set("DeadLetterErrorDescription", why.description);
    replacePayload(
      m,
      editMessage(m.payload, {
        applicationProperties: props,
        annotations: new Map([["x-opt-deadletter-source", queue.name]]),
      }),
    );
  }

  // ---- EntityHost / ConsumerHost --------------------------------------------------------------------------

  /** Records the reason of a dead-lettering about to happen (applied by {@link onDeadLetter}). */
  markDeadLetter(_entity: ServiceBusEntity, m: StoredMessage, reason: string, description: string): void {
    this.#pendingDeadLetter.set(m, { reason, description });
  }

  deadLetter(entity: ServiceBusEntity, m: StoredMessage, reason: string, description: string): void {
    this.markDeadLetter(entity, m, reason, description);
    entity.queue.deadLetter(m, "rejected");
  }

  modify(m: StoredMessage, properties: Readonly<Record<string, AMQPValue>> | undefined): void {
    if (!properties || m.messageFormat !== 0) return;
    const entries = Object.entries(properties);
    if (entries.length === 0) return;
    replacePayload(m, editMessage(m.payload, { applicationProperties: new Map(entries) }));
  }

  // ---- receivers ---------------------------------------------------------------------------------------------

  /**
   * Attaches a consumer of `queue`. A receiver is a Service Bus receiver when its ATTACH carries a
   * `com.microsoft:` link property or the session filter (as both Azure SDKs do), or when the entity
   * is declared in the `serviceBus` option; other receivers are plain AMQP consumers.
   */
  attachConsumer<R>(attach: AttachFields, queue: Queue, how: ConsumerAttach<R>): void {
    const source: SourceFields = attach.source ?? {};
    const filter = source.filter;
    const session = filter !== undefined && SESSION_FILTER in filter;
    if (this.isTopic(queue.name)) {
      how.refuse({
        condition: "amqp:not-allowed",
        description: `'${queue.name}' is a topic: receive from '${queue.name}/Subscriptions/<name>'`,
      });
      return;
    }
    const settings = this.#settings(queue);
    if (!session && !settings.declared && !identifiesAsServiceBus(attach, queue.name)) {
      how.start(how.accept({}), undefined);
      return;
    }
    if (settings.requiresSession && !session) {
      how.refuse({
        condition: "amqp:not-allowed",
        description: `'${queue.name}' requires sessions: receive with a session filter`,
      });
      return;
    }
    const entity = this.entityOf(queue);
    const consumer = new ServiceBusConsumer(this, entity, session);
    if (!session) {
      how.start(how.accept({}), consumer);
      return;
    }
    const requested = sessionIdOf(filter[SESSION_FILTER]);
    if (requested !== undefined) {
      if (entity.sessions.lock(requested, consumer) === undefined) {
        how.refuse({
          condition: "com.microsoft:session-cannot-be-locked",
          description: `The session '${requested}' is locked by another receiver.`,
        });
        return;
      }
      this.#startSession(how, entity, consumer, requested);
      return;
    }
    const wait = Math.min(
      MAX_SESSION_WAIT_MS,
      Math.max(0, numberOf(attach.properties?.[SERVER_TIMEOUT]) ?? MAX_SESSION_WAIT_MS),
    );
    entity.sessions.waitForSession(
      consumer,
      () => entity.sessionsWithMessages().find((id) => !entity.sessions.isLocked(id)),
      wait,
      (id) => {
        if (!how.answerable()) {
          if (id !== undefined) entity.sessions.release(id, consumer);
          return;
        }
        if (id === undefined) {
          how.refuse({
            condition: "com.microsoft:timeout",
            description: `No session of '${queue.name}' became available within ${wait} ms.`,
          });
          return;
        }
        this.#startSession(how, entity, consumer, id);
      },
    );
  }

  #startSession<R>(
    how: ConsumerAttach<R>,
    entity: ServiceBusEntity,
    consumer: ServiceBusConsumer,
    sessionId: string,
  ): void {
    consumer.holdSession(sessionId);
    const until = entity.sessions.renew(sessionId) ?? Date.now() + entity.settings.lockDuration;
    const link = how.accept({
      filter: { [SESSION_FILTER]: sessionId },
      properties: { [LOCKED_UNTIL_UTC]: dotNetTicks(until) },
    });
    const started = how.start(link, consumer);
    consumer.onLockLost = () => {
      started.close({
        condition: "com.microsoft:session-lock-lost",
        description: `The session lock of '${sessionId}' has expired.`,
      });
    };
    started.whenGone(() => {
      entity.sessions.release(sessionId, consumer);
      entity.sessions.wake();
    });
  }

  // ---- the management node -----------------------------------------------------------------------------------

  /** Answers a request to `<entity>/$management`. */
  handleRequest(node: string, request: NodeRequest): NodeResponse {
    const name = managedEntity(node);
    const queue = this.#queues.forUse(name);
    if (!queue) {
      return {
        statusCode: 404,
        statusDescription: `the entity '${name}' could not be found`,
        errorCondition: "amqp:not-found",
      };
    }
    return handleEntityRequest(this.entityOf(queue), request);
  }
}

/** Event Hubs partition addresses (their consumers are Event Hubs clients, not Service Bus ones). */
const EVENT_HUBS_ADDRESS = /\/(ConsumerGroups|Partitions)\//i;

/**
 * Whether an ATTACH comes from a Service Bus receiver: a `com.microsoft:` link property (both Azure
 * SDKs' receivers send `com.microsoft:receiver-name`), no source filter but the session filter (an
 * Event Hubs consumer sends the same property with a selector filter), and not an Event Hubs
 * partition address.
 */
function identifiesAsServiceBus(attach: AttachFields, address: string): boolean {
  const p = attach.properties;
  if (p === undefined || !Object.keys(p).some((k) => k.startsWith("com.microsoft:"))) return false;
  const filter = attach.source?.filter ?? {};
  if (Object.keys(filter).some((k) => k !== SESSION_FILTER)) return false;
  return !EVENT_HUBS_ADDRESS.test(address);
}

function sessionIdOf(v: AMQPValue | undefined): string | undefined {
  const x = v instanceof AMQPDescribed ? v.value : v;
  if (typeof x === "string") return x;
  if (x instanceof AMQPSymbol) return x.value;
  return undefined;
}

function numberOf(v: AMQPValue | undefined): number | undefined {
  const x: unknown = v instanceof AMQPType ? v.value : v;
  if (typeof x === "number") return x;
  if (typeof x === "bigint") return Number(x);
  return undefined;
}

// ---- option checks -------------------------------------------------------------------------------------------

const ENTITY_KEYS = new Set([
  "lockDuration",
  "maxDeliveryCount",
  "defaultMessageTimeToLive",
  "requiresSession",
]);
const TOPIC_KEYS = new Set(["defaultMessageTimeToLive", "subscriptions"]);
const TOP_KEYS = new Set(["queues", "topics", "lockDuration"]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkKeys(where: string, v: unknown, allowed: ReadonlySet<string>): Record<string, unknown> {
  if (!isRecord(v)) throw new BrokerError(`${where} must be an object`);
  for (const k of Object.keys(v)) {
    if (!allowed.has(k)) {
      throw new BrokerError(`${where} has an unknown option '${k}' (known: ${[...allowed].join(", ")})`);
    }
  }
  return v;
}

function asRecord(where: string, v: unknown): Record<string, unknown> {
  if (!isRecord(v)) throw new BrokerError(`${where} must be an object (entities by name)`);
  return v;
}

function checkMs(where: string, v: unknown, min: number): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || !Number.isInteger(v)) {
    throw new BrokerError(`${where} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
}

function checkEntity(where: string, v: unknown): ServiceBusEntityOptions {
  const e = checkKeys(where, v, ENTITY_KEYS);
  checkMs(`${where}.lockDuration`, e["lockDuration"], 1);
  checkMs(`${where}.maxDeliveryCount`, e["maxDeliveryCount"], 1);
  checkMs(`${where}.defaultMessageTimeToLive`, e["defaultMessageTimeToLive"], 0);
  if (e["requiresSession"] !== undefined && typeof e["requiresSession"] !== "boolean") {
    throw new BrokerError(`${where}.requiresSession must be a boolean`);
  }
  return e;
}

/** Checks the `serviceBus` option (it may come from a JSON file) and indexes its entities. */
function checkOptions(sb: ServiceBusOptions): Declared {
  const top = checkKeys("serviceBus", sb, TOP_KEYS);
  checkMs("serviceBus.lockDuration", top["lockDuration"], 1);
  const queues = new Map<string, ServiceBusEntityOptions>();
  for (const [name, q] of Object.entries(asRecord("serviceBus.queues", sb.queues ?? {}))) {
    queues.set(name, checkEntity(`serviceBus.queues['${name}']`, q));
  }
  const topics = new Map<string, { ttl: number; subscriptions: Map<string, ServiceBusEntityOptions> }>();
  for (const [name, t] of Object.entries(asRecord("serviceBus.topics", sb.topics ?? {}))) {
    const where = `serviceBus.topics['${name}']`;
    const topic = checkKeys(where, t, TOPIC_KEYS);
    checkMs(`${where}.defaultMessageTimeToLive`, topic["defaultMessageTimeToLive"], 0);
    if (queues.has(name)) throw new BrokerError(`'${name}' is declared both as a queue and as a topic`);
    const subscriptions = new Map<string, ServiceBusEntityOptions>();
    for (const [s, o] of Object.entries(asRecord(`${where}.subscriptions`, topic["subscriptions"] ?? {}))) {
      if (s === "" || s.includes("/")) throw new BrokerError(`${where}: invalid subscription name '${s}'`);
      subscriptions.set(s, checkEntity(`${where}.subscriptions['${s}']`, o));
    }
    topics.set(name, { ttl: (topic["defaultMessageTimeToLive"] as number | undefined) ?? 0, subscriptions });
  }
  return { queues, topics };
}
