/**
 * A test of Azure Service Bus code with Microsoft's own `@azure/service-bus` SDK against the embedded
 * broker started in-process: no Docker, no cloud (docs/azure-emulator.md). Run it as a test:
 *
 *   npx tsx examples/servicebus-emulator.ts
 *
 * In an application's tests, import `Broker` from "uamqp/broker".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { Broker } from "uamqp/broker";

await test("an order goes through a local Service Bus queue", async () => {
  await using broker = await Broker.start();
  const client = new ServiceBusClient(
    `Endpoint=sb://127.0.0.1:${broker.port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true`,
  );
  await client.createSender("orders").sendMessages({ body: { id: 42 } });
  const receiver = client.createReceiver("orders");
  const [order] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
  assert.ok(order);
  assert.deepEqual(order.body, { id: 42 });
  await receiver.completeMessage(order);
  await client.close();
});
