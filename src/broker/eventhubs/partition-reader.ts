/**
 * A receiver of one partition in one consumer group: a sending link of the broker with its own
 * cursor into the partition's log. It sends the events from its cursor as credit allows, removes
 * nothing, and follows the log as it grows. Deliveries are pre-settled unless the receiver asked
 * for unsettled ones (reading changes nothing, so there is nothing for an outcome to decide); an
 * outcome, when one comes, is ignored.
 */
import { SenderSettleMode } from "../../engine/link.js";
import type { SenderLink } from "../../engine/sender-link.js";
import type { LinkRecord } from "../link-record.js";
import { withRuntimeMetric, type StoredEvent } from "./event-format.js";
import type { PartitionLog, StartPoint } from "./partition-log.js";

const ignore = (): void => undefined;

export class PartitionReader {
  readonly link: SenderLink;
  readonly record: LinkRecord;
  /** `com.microsoft:epoch` of the receiver (undefined: a receiver without one). */
  readonly epoch: bigint | undefined;
  readonly #log: PartitionLog;
  readonly #runtimeMetric: boolean;
  readonly #settled: boolean;
  #cursor: number;
  #after: ((e: StoredEvent) => boolean) | undefined;
  #pumping = false;
  #again = false;

  constructor(
    log: PartitionLog,
    link: SenderLink,
    record: LinkRecord,
    start: StartPoint,
    options: { epoch: bigint | undefined; runtimeMetric: boolean },
  ) {
    this.#log = log;
    this.link = link;
    this.record = record;
    this.epoch = options.epoch;
    this.#runtimeMetric = options.runtimeMetric;
    this.#settled = link.local.sndSettleMode !== SenderSettleMode.Unsettled;
    this.#cursor = start.sequenceNumber;
    this.#after = start.after;
  }

  /** Starts following the log; stops when the link is gone. */
  start(): void {
    const unwatch = this.#log.watch(() => {
      this.pump();
    });
    this.link.onCredit = () => {
      this.pump();
    };
    this.record.whenGone(() => {
      unwatch();
      this.link.onCredit = undefined;
    });
    this.pump();
  }

  /** Sends events from the cursor while the receiver has credit and the log has events. */
  pump(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      while (this.#sendAvailable()) {
        // A send called back into pump(): look again.
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Sends what credit allows; true when pump() was called meanwhile (there may be more to send). */
  #sendAvailable(): boolean {
    this.#again = false;
    const link = this.link;
    const log = this.#log;
    const now = Date.now();
    log.expire(now);
    // Events the retention dropped are skipped: the reader goes on from the oldest one kept.
    if (this.#cursor < log.beginSequenceNumber) this.#cursor = log.beginSequenceNumber;
    while (link.isAttached && link.linkCredit > link.queued) {
      const e = log.at(this.#cursor);
      if (!e) break;
      this.#cursor++;
      if (this.#after) {
        if (!this.#after(e)) continue;
        this.#after = undefined;
      }
      const last = log.lastEnqueued;
      const payload = this.#runtimeMetric && last ? withRuntimeMetric(e, last, now) : e.payload;
      link.send(payload, { settled: this.#settled }).then(ignore, ignore);
    }
    return this.#again;
  }
}
