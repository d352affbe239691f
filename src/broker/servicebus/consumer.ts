/**
 * A Service Bus receiver: the delivery policy of a broker consumer whose link identifies as a
 * Service Bus client (or that reads a declared Service Bus entity). Its deliveries carry GUID lock
 * tokens and the broker-stamped metadata, a session receiver takes only its session's messages, and
 * its outcomes mean what they mean to Service Bus (docs/azure-emulator.md):
 *
 * | outcome the SDKs send | what happens |
 * | --- | --- |
 * | accepted (complete) | removed |
 * | released | back at the head, delivery-count unchanged |
 * | modified, not undeliverable-here (abandon) | properties applied, back at the head, delivery-count + 1 |
 * | modified, undeliverable-here (defer) | properties applied, deferred (received by sequence number) |
 * | rejected (dead-letter) | reason and properties applied, moved to the dead-letter queue; confirmed without the error |
 */
import type { DeliveryState } from "../../codec/definitions/messaging.js";
import type { AMQPValue } from "../../codec/values.js";
import type { DeliveryPolicy, Disposition, Queue } from "../queue.js";
import type { StoredMessage } from "../stored-message.js";
import { DEAD_LETTER_CONDITION, factsOf, MessageState, type ServiceBusEntity } from "./entity.js";
import { newLockToken } from "./lock-token.js";
import type { SessionHolder } from "./sessions.js";

/** What a Service Bus receiver needs from the namespace. */
export interface ConsumerHost {
  /** Applies `properties` to a message (abandon, defer). */
  modify(m: StoredMessage, properties: Readonly<Record<string, AMQPValue>> | undefined): void;
  /** Applies a dead-letter reason to a message about to move to its dead-letter queue. */
  markDeadLetter(entity: ServiceBusEntity, m: StoredMessage, reason: string, description: string): void;
}

function text(v: AMQPValue | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export class ServiceBusConsumer implements DeliveryPolicy, SessionHolder {
  readonly entity: ServiceBusEntity;
  readonly lockDuration: number;
  readonly accepts: ((m: StoredMessage) => boolean) | undefined;
  readonly #host: ConsumerHost;
  /** The session this receiver holds (undefined: not a session receiver, or not yet chosen). */
  #sessionId: string | undefined;
  /** Called when the session lock is lost (detaches the link). */
  onLockLost: (() => void) | undefined;

  constructor(host: ConsumerHost, entity: ServiceBusEntity, session: boolean) {
    this.#host = host;
    this.entity = entity;
    this.lockDuration = entity.settings.lockDuration;
    this.accepts = session
      ? (m) => this.#sessionId !== undefined && factsOf(m).groupId === this.#sessionId
      : undefined;
  }

  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** The session this receiver locked. */
  holdSession(sessionId: string): void {
    this.#sessionId = sessionId;
  }

  lockLost(): void {
    this.onLockLost?.();
  }

  newLockToken(): Buffer {
    return newLockToken();
  }

  payload(_queue: Queue, m: StoredMessage, lockedUntil: number | undefined): Buffer {
    factsOf(m).seenByServiceBus = true;
    return this.entity.stamp(m, MessageState.active, lockedUntil);
  }

  settle(
    _queue: Queue,
    m: StoredMessage,
    state: DeliveryState | undefined,
  ): { disposition: Disposition; confirm: DeliveryState | undefined } {
    switch (state?.type) {
      case undefined:
      case "accepted":
        return { disposition: { kind: "remove" }, confirm: state };
      case "modified":
        this.#host.modify(m, state.messageAnnotations);
        if (state.undeliverableHere === true) {
          this.entity.defer(m);
          return { disposition: { kind: "taken" }, confirm: state };
        }
        return { disposition: { kind: "requeue", failed: true }, confirm: state };
      case "rejected": {
        const info = state.error?.info ?? {};
        const { DeadLetterReason: reason, DeadLetterErrorDescription: description, ...rest } = info;
        this.#host.modify(m, Object.keys(rest).length > 0 ? rest : undefined);
        const condition = state.error?.condition;
        this.#host.markDeadLetter(
          this.entity,
          m,
          text(reason) ?? (condition === DEAD_LETTER_CONDITION ? "" : (condition ?? "")),
          text(description) ?? state.error?.description ?? "",
        );
        // Service Bus confirms a dead-lettering with the outcome alone (an error there is a failure).
        return { disposition: { kind: "dead-letter", reason: "rejected" }, confirm: { type: "rejected" } };
      }
      default:
        return { disposition: { kind: "requeue", failed: false }, confirm: state };
    }
  }
}
