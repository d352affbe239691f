/**
 * Settlement confirmation (beyond uamqp, which settles received messages fire-and-forget and never
 * sees the service's answer, quirk 8): the `settleMode` option, the message settler of a receiver
 * link, and the error raised when the peer does not confirm the outcome asked for.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import { AMQPError, formatConditionMessage } from "../errors/amqp-error.js";
import type { IncomingDelivery } from "../engine/delivery.js";
import type { ReceiverLink, SettleConfirmation } from "../engine/receiver-link.js";
import type { MessageSettler, SettlementState } from "../message/settlement.js";
import { ReceiverSettleMode } from "./link-states.js";

/**
 * How `accept()`, `reject()`, `release()` and `modify()` of received messages complete.
 *
 * - `"local"` (uamqp): the disposition is sent settled; the promise resolves `true` once it is
 *   queued, and the peer's view of it is never known.
 * - `"confirm"`: the link is attached with receiver-settle-mode `second`; the disposition is sent
 *   unsettled and the promise resolves `true` only when the peer settles the delivery with the
 *   outcome asked for. It rejects with {@link MessageSettleFailed} when the peer settles with
 *   another outcome (e.g. `rejected` with `com.microsoft:message-lock-lost`), and with the link's
 *   error (`LinkDetach`, `AMQPConnectionError`, `AMQPClientShutdown` for a local close) when the
 *   link is lost before the peer answered. PeekLock only.
 */
export const SettleMode = {
  /** Resolve when the settled disposition is sent (uamqp behaviour). */
  Local: "local",
  /** Resolve when the peer confirms the outcome (receiver-settle-mode second). */
  Confirm: "confirm",
} as const;
/** One of the {@link SettleMode} values: `"local"` or `"confirm"`. */
export type SettleMode = (typeof SettleMode)[keyof typeof SettleMode];

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
   * @param requested - the outcome asked for
   * @param outcome - the state the peer settled with (its `rejected` error fills `condition`…)
   */
  constructor(requested: SettlementState, outcome: DeliveryState | undefined) {
    const error = outcome?.type === "rejected" ? outcome.error : undefined;
    const got = outcome?.type ?? "no outcome";
    const why = error ? ` (${formatConditionMessage(error.condition, error.description)})` : "";
    super(`asked the peer to settle the message ${requested.type}, it settled it ${got}${why}`, {
      condition: error?.condition,
      description: error?.description,
      info: error?.info as Readonly<Record<string, unknown>> | undefined,
      retryable: false,
    });
    this.requested = requested;
    this.outcome = outcome;
  }
}

/**
 * Checks and resolves a `settleMode` option: `"local"` by default. `"confirm"` needs PeekLock (in
 * ReceiveAndDelete messages arrive settled and there is nothing to confirm).
 *
 * @throws {RangeError} an unknown mode, or `"confirm"` with ReceiveAndDelete.
 */
export function resolveSettleMode(
  mode: SettleMode | undefined,
  receiveSettleMode: ReceiverSettleMode,
): SettleMode {
  const m: unknown = mode ?? SettleMode.Local;
  if (m !== SettleMode.Local && m !== SettleMode.Confirm) {
    throw new RangeError(`settleMode must be "local" or "confirm", got ${String(m)}`);
  }
  if (m === SettleMode.Confirm && receiveSettleMode !== ReceiverSettleMode.PeekLock) {
    throw new RangeError('settleMode "confirm" needs receiveSettleMode PeekLock');
  }
  return m;
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

/** The result of a confirmed settlement: `true`, or throws {@link MessageSettleFailed}. */
function checked(requested: SettlementState, c: SettleConfirmation): boolean {
  if (c.confirmed && !confirmsOutcome(requested, c.state)) throw new MessageSettleFailed(requested, c.state);
  return true;
}

/**
 * The settler of one received delivery. `"local"`: resolves `true` once the disposition is queued.
 * `"confirm"`: see {@link SettleMode}. Both resolve `false` when the delivery was already settled.
 */
export function deliverySettler(link: ReceiverLink, d: IncomingDelivery, mode: SettleMode): MessageSettler {
  if (mode === SettleMode.Local) {
    return { settle: (state) => Promise.resolve(link.settle(d, state)) };
  }
  return {
    settle: async (state) => {
      const confirmation = link.settleAndConfirm(d, state);
      if (!confirmation) return false;
      return checked(state, await confirmation);
    },
  };
}
