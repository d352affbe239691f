/** Shared helpers of the high-level client tests (embedded broker, bounded polling). */
import { Broker, type BrokerEvent, type BrokerOptions } from "../../src/broker/index.js";
import type { ClientStatus } from "../../src/client/client-status.js";
import type { AMQPClient } from "../../src/client/amqp-client.js";

export { until } from "../support/waits.js";

/** A broker event with the time it was reported. */
export type TimedEvent = BrokerEvent & { readonly at: number };
type Timed<T extends BrokerEvent["type"]> = Extract<BrokerEvent, { type: T }> & { readonly at: number };

/** A broker plus the events it reported. */
export interface TestBroker {
  readonly broker: Broker;
  readonly events: TimedEvent[];
  /** `amqp://127.0.0.1:<port>/<name>` */
  url(name: string): string;
  /** Transfers the broker received from producers for `address`. */
  transfers(address: string): Timed<"message">[];
  /** Settlements of consumers on `address`. */
  outcomes(address: string): Timed<"outcome">[];
  /** Links attached to `address` by role of the client ("sender" = producer). */
  attaches(address: string, role: "sender" | "receiver"): number;
}

export async function startBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  const broker = await Broker.start(options);
  const events: TimedEvent[] = [];
  broker.observe((e) => {
    const at = Date.now();
    if (e.type === "message") events.push({ ...e, payload: Buffer.from(e.payload), at });
    else events.push({ ...e, at });
  });
  return {
    broker,
    events,
    url: (name) => `${broker.url}/${name}`,
    transfers: (address) =>
      events.filter((e): e is Timed<"message"> => e.type === "message" && e.address === address),
    outcomes: (address) =>
      events.filter((e): e is Timed<"outcome"> => e.type === "outcome" && e.address === address),
    attaches: (address, role) =>
      events.filter((e) => e.type === "attach" && e.address === address && e.role === role).length,
  };
}

/** Collects a client's status events (until it closes) into an array. */
export function recordStatus(client: AMQPClient): ClientStatus[] {
  const out: ClientStatus[] = [];
  void (async () => {
    for await (const s of client.status()) out.push(s);
  })();
  return out;
}
