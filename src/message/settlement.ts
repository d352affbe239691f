/**
 * What a received message needs to settle itself: the outcome shapes (members of the codec's
 * `DeliveryState` union), the settler interface that the receiving layer implements, and what a
 * settlement the peer confirms must match (a receiver's `settleMode: "confirm"`).
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import type { AMQPValue } from "../codec/values.js";
import { AMQPError, formatConditionMessage } from "../errors/amqp-error.js";
import type { AnnotationsMap } from "./annotations.js";

/** An outcome a receiver can settle with: accepted, rejected, released or modified. */
export type SettlementState = Extract<
  DeliveryState,
  { type: "accepted" | "rejected" | "released" | "modified" }
>;

/**
 * Settles one received delivery. Implemented by the receiving link layer and handed to the message
 * when it is decoded (`Message.decode(bytes, { settler })`).
 */
export interface MessageSettler {
  /**
   * Sends the disposition. Resolves `true` when it was sent, `false` when the delivery could not be
   * settled any more (e.g. the link is gone and the peer already settled it).
   */
  settle(state: SettlementState): Promise<boolean>;
  /**
   * @internal Settles at once when the answer is known at once, without a promise: what
   * {@link MessageSettler.settle} would resolve with. Undefined when it is not (the settlement
   * waits for the peer, or would fail): then nothing was done, and `settle` is called instead.
   */
  settleNow?(state: SettlementState): boolean | undefined;
}

/** Options of `reject()`: the AMQP error to attach to the `rejected` outcome. */
export interface RejectOptions {
  /** The error condition symbol; default `amqp:internal-error`. */
  readonly condition?: string | undefined;
  /** A description of the error. */
  readonly description?: string | undefined;
  /** Supplementary information (an AMQP `fields` map). */
  readonly info?: Record<string, AMQPValue> | undefined;
}

/**
 * Options of `modify()`. Both flags are explicit (uamqp's `modify(failed, deliverable)` sent its
 * `deliverable` argument as `undeliverable-here`, the opposite of its name).
 */
export interface ModifyOptions {
  /** Count this delivery as a failed attempt (the peer increments the delivery count). */
  readonly deliveryFailed: boolean;
  /** Do not redeliver the message to this link. */
  readonly undeliverableHere: boolean;
  /** Annotations the peer merges into the message's message annotations. */
  readonly messageAnnotations?: AnnotationsMap | undefined;
}

/**
 * The peer settled a received message with another outcome than the one asked for (confirm
 * settle mode), e.g. Azure Service Bus answering `accept()` with `rejected` /
 * `com.microsoft:message-lock-lost` when the lock expired. `condition`, `description` and `info`
 * are those of the peer's `rejected` error, when it sent one.
 *
 * @example
 * ```ts
 * try { await message.accept(); }
 * catch (e) {
 *   if (e instanceof MessageSettleFailed && e.condition === "com.microsoft:message-lock-lost") {
 *     // the message will be (or was) delivered again
 *   }
 * }
 * ```
 */
export class MessageSettleFailed extends AMQPError {
  /** Always `"AMQP_MESSAGE_SETTLE_FAILED"`. */
  override readonly code: string = "AMQP_MESSAGE_SETTLE_FAILED";
  /** The outcome the application asked for. */
  readonly requested: SettlementState;
  /** The state the peer settled the delivery with (undefined: none). */
  readonly outcome: DeliveryState | undefined;
  /**
   * Set when nothing was sent because the peer's source does not offer the requested outcome:
   * the outcomes it offers (e.g. RabbitMQ 3.10: accepted, rejected, released, no modified). The
   * message stays unsettled; settle it with one of these.
   */
  readonly offeredOutcomes: readonly string[] | undefined;

  /**
   * @param requested - the outcome asked for
   * @param outcome - the state the peer settled with (its `rejected` error fills `condition`…)
   * @param offeredOutcomes - the peer's offered outcomes, when `requested` is not among them
   */
  constructor(
    requested: SettlementState,
    outcome: DeliveryState | undefined,
    offeredOutcomes?: readonly string[],
  ) {
    const error = outcome?.type === "rejected" ? outcome.error : undefined;
    const got = outcome?.type ?? "no outcome";
    const why = error ? ` (${formatConditionMessage(error.condition, error.description)})` : "";
    super(
      offeredOutcomes
        ? `the peer does not offer the ${requested.type} outcome on this link (it offers ${offeredOutcomes.join(", ") || "none"}): nothing was sent, the message is still unsettled`
        : `asked the peer to settle the message ${requested.type}, it settled it ${got}${why}`,
      {
        condition: error?.condition,
        description: error?.description,
        info: error?.info as Readonly<Record<string, unknown>> | undefined,
        retryable: false,
      },
    );
    this.requested = requested;
    this.outcome = outcome;
    this.offeredOutcomes = offeredOutcomes;
  }
}

/**
 * Whether the peer's settling state confirms `requested`: the same outcome; for `rejected`, a
 * peer error with another condition does not (a lock-lost answer to a reject). A settlement
 * without state confirms (the peer adopted ours).
 */
export function confirmsOutcome(requested: SettlementState, outcome: DeliveryState | undefined): boolean {
  if (outcome === undefined) return true;
  if (outcome.type !== requested.type) return false;
  if (outcome.type === "rejected" && requested.type === "rejected" && outcome.error !== undefined) {
    return outcome.error.condition === requested.error?.condition;
  }
  return true;
}
