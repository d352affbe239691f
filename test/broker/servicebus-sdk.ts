/**
 * `@azure/service-bus` as the client of the embedded broker in tests: the emulator connection string
 * and bounded receive helpers (every wait has a deadline).
 */
import type {
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusSessionReceiver,
} from "@azure/service-bus";
import { gather } from "../support/waits.js";

/** The connection string of the Service Bus emulator, pointed at a broker's AMQP port. */
export function emulatorConnectionString(port: number): string {
  return `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true`;
}

/** Receives exactly `n` messages (several receive calls if need be) within `timeoutMs`. */
export function receiveN(
  receiver: ServiceBusReceiver | ServiceBusSessionReceiver,
  n: number,
  what: string,
  timeoutMs = 15_000,
): Promise<ServiceBusReceivedMessage[]> {
  return gather(
    n,
    async () => {
      const got = await receiver.receiveMessages(n, { maxWaitTimeInMs: 1000 });
      return got;
    },
    what,
    timeoutMs,
  );
}

/** The bodies of messages, as strings. */
export function bodies(ms: readonly ServiceBusReceivedMessage[]): string[] {
  return ms.map((m) => String(m.body));
}

/** The sequence numbers of messages, as numbers. */
export function seqs(ms: readonly ServiceBusReceivedMessage[]): number[] {
  return ms.map((m) => Number(m.sequenceNumber?.toString()));
}
