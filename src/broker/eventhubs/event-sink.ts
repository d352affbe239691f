/**
 * What a sender to `<hub>` or `<hub>/Partitions/<id>` writes to: each transfer is one event, or a
 * batch (message format 0x80013700) whose data sections are events, appended to one partition as a
 * whole (the one named, or the one the hub routes the batch's partition key to).
 */
import type { DeliveryState } from "../../engine/delivery.js";
import { DecodeError } from "../../errors/decode-error.js";
import { readDataSections, scanSections } from "../message-scan.js";
import { BATCH_FORMAT, type MessageSink } from "../message-sink.js";
import type { EventHub } from "./event-hub.js";
import { readEvent, type IncomingEvent } from "./event-format.js";
import type { PartitionLog } from "./partition-log.js";

const ACCEPTED: DeliveryState = { type: "accepted" };

function rejected(condition: string, description: string): DeliveryState {
  return { type: "rejected", error: { condition, description } };
}

export class EventSink implements MessageSink {
  readonly #hub: EventHub;
  readonly #partition: PartitionLog | undefined;

  /** Writes to `partition`, or (without one) wherever `hub` routes each transfer. */
  constructor(hub: EventHub, partition: PartitionLog | undefined) {
    this.#hub = hub;
    this.#partition = partition;
  }

  accept(payload: Buffer, messageFormat: number): DeliveryState {
    let events: IncomingEvent[];
    let key: string | undefined;
    try {
      if (messageFormat === BATCH_FORMAT) {
        const envelope = readEvent(payload);
        const map = scanSections(payload);
        const inner = map ? readDataSections(payload, map) : undefined;
        if (!inner)
          return rejected("amqp:decode-error", "a batch's body must be data sections, one event each");
        events = inner.map((bytes) => readEvent(bytes));
        key = envelope.partitionKey ?? events[0]?.partitionKey;
      } else if (messageFormat === 0) {
        const event = readEvent(payload);
        events = [event];
        key = event.partitionKey;
      } else {
        return rejected(
          "amqp:not-implemented",
          `an event hub takes AMQP messages (message format 0) and batches (0x80013700), ` +
            `not message format 0x${messageFormat.toString(16)}`,
        );
      }
    } catch (e) {
      if (e instanceof DecodeError)
        return rejected("amqp:decode-error", `the event is not a message: ${e.message}`);
      throw e;
    }
    this.#hub.append(events, key, this.#partition, Date.now());
    return ACCEPTED;
  }
}
