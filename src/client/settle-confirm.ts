/**
 * Settlement confirmation (beyond uamqp, which settles received messages fire-and-forget and never
 * sees the service's answer): the `settleMode` option, the message settler of a receiver link, and
 * the error raised when the peer does not confirm the outcome asked for.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import { AMQPError, formatConditionMessage } from "../errors/amqp-error.js";
import type { IncomingDelivery } from "../engine/delivery.js";
import type { ReceiverLink, SettleConfirmation } from "../engine/receiver-link.js";
import type { MessageSettler, SettlementState } from "../message/settlement.js";
import { ReceiverSettleMode } from "./link-states.js";
import { inClientTerms } from "./shutdown.js";

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
 *   link is lost before the peer answered. A peer that answers the ATTACH with mode `first` gets
 *   settled dispositions, and the promises resolve on send as in `"local"`. PeekLock only.
 *
 * @example
 * ```ts
 * const client = new ReceiveClient(url, { settleMode: "confirm", autoComplete: false });
 * for await (const m of client) {
 *   try { await m.accept(); } // resolved: the broker has completed the message
 *   catch (e) { if (e instanceof MessageSettleFailed) console.log(e.condition); }
 * }
 * ```
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
 * The outcomes the peer's source offers (its `outcomes` field, AMQP 1.0 specification section
 * 3.5.3) when they leave out `state`; undefined when the peer allows it (it lists it, or lists
 * none). A peer may end the whole connection on an outcome it does not offer (RabbitMQ 3.10 does,
 * for `modified`).
 */
function refusedOutcome(link: ReceiverLink, state: SettlementState): readonly string[] | undefined {
  const offered = link.remote?.source?.outcomes;
  if (offered === undefined || offered.length === 0) return undefined;
  return offered.includes(`amqp:${state.type}:list`) ? undefined : offered;
}

/**
 * The settler of one received delivery. `"local"`: resolves `true` once the disposition is queued.
 * `"confirm"`: see {@link SettleMode}. Both resolve `false` when the delivery was already settled,
 * and reject with {@link MessageSettleFailed} (nothing sent) for an outcome the peer does not offer.
 */
export function deliverySettler(link: ReceiverLink, d: IncomingDelivery, mode: SettleMode): MessageSettler {
  return {
    settle: async (state) => {
      const offered = refusedOutcome(link, state);
      if (offered !== undefined && !d.settled) throw new MessageSettleFailed(state, undefined, offered);
      if (mode === SettleMode.Local) return link.settle(d, state);
      const confirmation = link.settleAndConfirm(d, state);
      if (!confirmation) return false;
      return checked(state, await inClientTerms(confirmation));
    },
  };
}
