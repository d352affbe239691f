/**
 * Addresses and filters (uamqp's `Address`, `Source`, `Target`): parsing a URL, the link address a
 * link sends, terminus settings, and a source with a selector filter (as Event Hubs uses to start
 * reading at an offset, a sequence number or a time).
 *
 *   npx tsx examples/filters.ts
 */
import { Address, EventHubFilters, ReceiveClient, sendMessage, Source, STRING_FILTER, Target } from "uamqp";
import { Broker } from "uamqp/broker";

/** The selector filter of a source, as text. */
const filterText = (s: Source): string => {
  const value = s.getFilter();
  return typeof value === "string" ? value : "(none)";
};

// 1. A URL: host, port, credentials (decoded, never printed), the link address.
const a = Address.parse("amqps://user%40corp:p%2Fw@broker.example:5671/queue/orders?x=1");
console.log(
  `${a.hostname}:${a.port} user ${a.username} → link address ${a.linkAddress}; shown as ${String(a)}`,
);
const azure = Target.parse("amqps://my-ns.servicebus.windows.net/orders");
console.log(`Azure keeps uamqp's form: ${azure.linkAddress}`);

// 2. A source with a selector filter: one filter-set entry, key and descriptor STRING_FILTER.
const source = Source.parse("amqps://my-ns.servicebus.windows.net/hub/ConsumerGroups/$Default/Partitions/0");
source.setFilter(EventHubFilters.offsetAfter("@latest"));
console.log(`filter ${STRING_FILTER}: ${filterText(source)}`);
source.setFilter(EventHubFilters.sequenceNumberAfter(1500));
console.log(`now: ${filterText(source)}`);
console.log(`enqueued after: ${EventHubFilters.enqueuedTimeAfter(new Date(1518731960545))}`);

// 3. The filter and terminus settings travel in the ATTACH. The embedded broker does not apply
//    selectors; it answers with the source it attached, which the client's onAttach reports.
await using broker = await Broker.start({ port: 0 });
await sendMessage(`${broker.url}/hub/Partitions/0`, "an event");
const partition = new Source(`${broker.url}/hub/Partitions/0`);
partition.setFilter("amqp.annotation.x-opt-sequence-number > -1");
partition.distributionMode = "copy"; // browse: leave the messages for other receivers
await using receiver = new ReceiveClient(partition, {
  timeout: 2000,
  onAttach: (attached) =>
    console.log(
      `broker attached ${attached?.linkAddress ?? "?"}, filter ${attached ? filterText(attached) : "none"}`,
    ),
});
const [event] = await receiver.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
console.log(`received: ${event?.toString() ?? "(nothing)"}`);
