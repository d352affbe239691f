/**
 * Who observes the broker's events (`Broker.observe`), and telling them. Every event is logged
 * first (src/broker/broker-log.ts decides which are); `observed` is a plain field, read per message
 * by the parts that build per-message events only when someone listens.
 */
import { logBrokerEvent } from "./broker-log.js";
import type { BrokerEvent } from "./options.js";

export class BrokerEvents {
  /** Whether anyone observes the events. */
  observed = false;
  readonly #listeners = new Set<(event: BrokerEvent) => void>();

  /** Calls `listener` for every event; returns a function that removes it. */
  add(listener: (event: BrokerEvent) => void): () => void {
    this.#listeners.add(listener);
    this.observed = true;
    return () => {
      this.#listeners.delete(listener);
      this.observed = this.#listeners.size > 0;
    };
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
    this.observed = false;
  }

  /** Logs `event` and tells every listener; a listener that throws disturbs neither the others nor the broker. */
  emit(event: BrokerEvent): void {
    logBrokerEvent(event);
    if (!this.observed) return;
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // A failing observer must not disturb the broker.
      }
    }
  }
}
