"""Sends one batch of events with Azure's azure-eventhub SDK (5.11+: its own pure-Python AMQP stack),
and with mode round-trip reads them back from the earliest event.

Usage: /usr/bin/python3 eventhub_producer.py <port> <ca file> <event hub> <key name> <key> <wss|tls> <trace 0|1> [send|round-trip]
Prints one JSON object: {"version": <azure.eventhub.__version__>, "sent": [<event bodies>]} and, with
round-trip, "received": [{"body", "partition", "sequence_number", "offset", "enqueued_time" (ms),
"partition_key"}] in the order the consumer's callback got them.

wss: custom_endpoint_address (which makes the SDK use AMQP over WebSocket, TLS) to localhost:<port>.
tls: the SDK's default transport, AMQP over TLS; it always dials port 5671, so the default port of its
SASL transport is set to <port> (nothing else of the SDK is changed).
trace 1: logging_enable=True (the SDK then also builds a named tuple of every frame it receives).
round-trip: the batch goes with the partition key "py-key"; an EventHubConsumerClient (consumer group
$Default, every partition) receives from starting position "-1" until it has every event, at most 30 s.
"""
import json
import logging
import sys
import threading

from azure.core.credentials import AzureNamedKeyCredential
import azure.eventhub
from azure.eventhub import EventData, EventHubConsumerClient, EventHubProducerClient, TransportType

port, ca, hub, key_name, key, transport, trace = sys.argv[1:8]
mode = sys.argv[8] if len(sys.argv) > 8 else "send"
if trace == "1":
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
options = {}
if transport == "wss":
    options["custom_endpoint_address"] = "sb://localhost:%s" % port
    options["transport_type"] = TransportType.AmqpOverWebsocket
else:
    from azure.eventhub._pyamqp import sasl

    sasl.SASLTransport.__init__.__kwdefaults__["port"] = int(port)
    options["transport_type"] = TransportType.Amqp

common = dict(
    fully_qualified_namespace="localhost",
    eventhub_name=hub,
    credential=AzureNamedKeyCredential(key_name, key),
    connection_verify=ca,
    logging_enable=(trace == "1"),
    retry_total=0,
    **options
)
bodies = ["event %d via %s" % (i, transport) for i in range(3)]
with EventHubProducerClient(**common) as client:
    batch = client.create_batch(partition_key="py-key") if mode == "round-trip" else client.create_batch()
    for body in bodies:
        batch.add(EventData(body))
    client.send_batch(batch)
out = {"version": azure.eventhub.__version__, "sent": bodies}

if mode == "round-trip":
    received = []
    done = threading.Event()

    def on_event(partition_context, event):
        if event is None:
            return
        received.append(
            {
                "body": event.body_as_str(),
                "partition": partition_context.partition_id,
                "sequence_number": event.sequence_number,
                "offset": event.offset,
                "enqueued_time": int(event.enqueued_time.timestamp() * 1000),
                "partition_key": event.partition_key.decode() if isinstance(event.partition_key, bytes) else event.partition_key,
            }
        )
        if len(received) >= len(bodies):
            done.set()

    consumer = EventHubConsumerClient(consumer_group="$Default", **common)
    thread = threading.Thread(
        target=consumer.receive,
        kwargs=dict(on_event=on_event, starting_position="-1", max_wait_time=0.5),
        daemon=True,
    )
    thread.start()
    done.wait(30)
    consumer.close()
    thread.join(10)
    out["received"] = received

print(json.dumps(out))
