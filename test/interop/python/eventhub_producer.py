"""Sends one batch of events with Azure's azure-eventhub SDK (5.11+: its own pure-Python AMQP stack).

Usage: /usr/bin/python3 eventhub_producer.py <port> <ca file> <event hub> <key name> <key> <wss|tls> <trace 0|1>
Prints one JSON object: {"version": <azure.eventhub.__version__>, "sent": [<event bodies>]}.

wss: custom_endpoint_address (which makes the SDK use AMQP over WebSocket, TLS) to localhost:<port>.
tls: the SDK's default transport, AMQP over TLS; it always dials port 5671, so the default port of its
SASL transport is set to <port> (nothing else of the SDK is changed).
trace 1: logging_enable=True (the SDK then also builds a named tuple of every frame it receives).
"""
import json
import logging
import sys

from azure.core.credentials import AzureNamedKeyCredential
import azure.eventhub
from azure.eventhub import EventData, EventHubProducerClient, TransportType

port, ca, hub, key_name, key, transport, trace = sys.argv[1:8]
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

client = EventHubProducerClient(
    fully_qualified_namespace="localhost",
    eventhub_name=hub,
    credential=AzureNamedKeyCredential(key_name, key),
    connection_verify=ca,
    logging_enable=(trace == "1"),
    retry_total=0,
    **options
)
bodies = ["event %d via %s" % (i, transport) for i in range(3)]
with client:
    batch = client.create_batch()
    for body in bodies:
        batch.add(EventData(body))
    client.send_batch(batch)
print(json.dumps({"version": azure.eventhub.__version__, "sent": bodies}))
