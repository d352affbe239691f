/**
 * Settlement confirmation (beyond uamqp; docs/clients.md, "Confirmed settlement"): the `settleMode`
 * option and the settler of a received delivery.
 */
import { Accepted, Modified, Rejected, Released } from "../codec/definitions/messaging.js";
import type { IncomingDelivery } from "../engine/delivery.js";
import type { ReceiverLink } from "../engine/receiver-link.js";
import {
  MessageSettleFailed,
  confirmsOutcome,
  type MessageSettler,
  type SettlementState,
} from "../message/settlement.js";
import { ReceiverSettleMode } from "./link-states.js";
import { inClientTerms } from "./shutdown.js";

/**
 * How `accept()`, `reject()`, `release()` and `modify()` of received messages complete:
 * `"local"` (uamqp) resolves `true` once the settled disposition is queued; `"confirm"` (PeekLock
 * only) resolves `true` when the peer settles with the outcome asked for, and rejects with
 * {@link MessageSettleFailed} when it settles with another, or with the link's error when the link
 * is lost first (docs/clients.md, "Confirmed settlement", has an example).
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
 * Checks and resolves a `settleMode` option: `"local"` by default; `"confirm"` needs PeekLock (in
 * ReceiveAndDelete there is nothing to confirm).
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

/** The descriptor symbol of each outcome, as a source's `outcomes` lists it. */
const OUTCOME_SYMBOLS: Readonly<Record<SettlementState["type"], string>> = {
  accepted: Accepted.symbol,
  rejected: Rejected.symbol,
  released: Released.symbol,
  modified: Modified.symbol,
};

/**
 * How the deliveries of one receiver link settle: the link, the {@link SettleMode}, and the outcomes
 * the peer's source offers (`outcomes`, AMQP 1.0 specification section 3.5.3). One per link, shared
 * by the settlers of its deliveries.
 */
export class LinkSettlement {
  readonly link: ReceiverLink;
  readonly mode: SettleMode;
  /** The offered outcomes once read (the peer's attach, which precedes every delivery, fixes them). */
  #offered: readonly string[] | undefined = undefined;

  constructor(link: ReceiverLink, mode: SettleMode) {
    this.link = link;
    this.mode = mode;
  }

  /**
   * The outcomes offered when they leave out `state` (undefined: allowed, or none listed). A peer may
   * end the connection on an outcome it does not offer (RabbitMQ 3.10 does, for `modified`).
   */
  refused(state: SettlementState): readonly string[] | undefined {
    const offered = (this.#offered ??= this.link.remote?.source?.outcomes ?? NONE_LISTED);
    if (offered.length === 0) return undefined;
    return offered.includes(OUTCOME_SYMBOLS[state.type]) ? undefined : offered;
  }
}

const NONE_LISTED: readonly string[] = [];

/**
 * The settler of one received delivery (see {@link SettleMode}): `false` when it was already
 * settled; {@link MessageSettleFailed}, nothing sent, for an outcome the peer does not offer. A
 * class rather than a closure: one small object per received message.
 */
export class DeliverySettler implements MessageSettler {
  readonly #settlement: LinkSettlement;
  readonly #delivery: IncomingDelivery;

  constructor(settlement: LinkSettlement, delivery: IncomingDelivery) {
    this.#settlement = settlement;
    this.#delivery = delivery;
  }

  settle(state: SettlementState): Promise<boolean> {
    // Off the hot path: a message calls this only when settleNow() answered nothing.
    const now = this.settleNow(state);
    if (now !== undefined) return Promise.resolve(now);
    const offered = this.#settlement.refused(state);
    if (offered !== undefined && !this.#delivery.settled) {
      return Promise.reject(new MessageSettleFailed(state, undefined, offered));
    }
    return this.#confirmed(state);
  }

  /** @internal `"local"`: settles and answers at once; otherwise (or refused) undefined. */
  settleNow(state: SettlementState): boolean | undefined {
    const s = this.#settlement;
    if (s.mode !== SettleMode.Local) return undefined;
    const d = this.#delivery;
    if (!d.settled && s.refused(state) !== undefined) return undefined;
    return s.link.settle(d, state);
  }

  async #confirmed(state: SettlementState): Promise<boolean> {
    const confirmation = this.#settlement.link.settleAndConfirm(this.#delivery, state);
    if (!confirmation) return false;
    const c = await inClientTerms(confirmation);
    if (c.confirmed && !confirmsOutcome(state, c.state)) throw new MessageSettleFailed(state, c.state);
    return true;
  }
}
