"""Azure's azure-servicebus SDK (7.8, on Python uamqp) against the embedded broker.

Usage: /usr/bin/python3 servicebus_client.py <port> <ca file> <queue> <key name> <key> <tls|wss>
Sends 3 messages, peeks them (they stay), receives them in PeekLock mode and completes each, then
peeks again (nothing left). Prints one JSON object.

tls: AMQP over TLS; the SDK always dials port 5671, so the default port its configuration takes is set
     to <port> (nothing else of the SDK is changed).
wss: custom_endpoint_address sb://localhost:<port> (the SDK then speaks AMQP over WebSocket, TLS, at
     /$servicebus/websocket/).
"""
import json
import sys
import time

import azure.servicebus
from azure.servicebus import ServiceBusClient, ServiceBusMessage, TransportType
from azure.servicebus._common import _configuration

port, ca, queue, key_name, key, transport = sys.argv[1:7]
conn_str = "Endpoint=sb://localhost/;SharedAccessKeyName=%s;SharedAccessKey=%s" % (key_name, key)
options = {"connection_verify": ca, "retry_total": 0}
if transport == "tls":
    _configuration.DEFAULT_AMQPS_PORT = int(port)
if transport == "wss":
    options["custom_endpoint_address"] = "sb://localhost:%s" % port
    options["transport_type"] = TransportType.AmqpOverWebsocket
client = ServiceBusClient.from_connection_string(conn_str, **options)

out = {"version": azure.servicebus.__version__}
t0 = time.monotonic()
bodies = ["python message %d via %s" % (i, transport) for i in range(3)]
with client:
    with client.get_queue_sender(queue) as sender:
        sender.send_messages([ServiceBusMessage(b) for b in bodies])
    with client.get_queue_receiver(queue, max_wait_time=5) as receiver:
        peeked = receiver.peek_messages(max_message_count=10)
        out["peeked"] = [
            {"body": str(m), "sequence_number": m.sequence_number, "state": str(m.state)} for m in peeked
        ]
        received = []
        deadline = time.monotonic() + 20
        while len(received) < len(bodies) and time.monotonic() < deadline:
            for m in receiver.receive_messages(max_message_count=10, max_wait_time=5):
                received.append(
                    {
                        "body": str(m),
                        "sequence_number": m.sequence_number,
                        "delivery_count": m.delivery_count,
                        "lock_token": str(m.lock_token),
                        "locked_until": m.locked_until_utc.isoformat() if m.locked_until_utc else None,
                        "enqueued_time": m.enqueued_time_utc.isoformat() if m.enqueued_time_utc else None,
                    }
                )
                receiver.complete_message(m)
        out["received"] = received
        out["peeked_after"] = [str(m) for m in receiver.peek_messages(max_message_count=10, sequence_number=1)]
out["seconds"] = round(time.monotonic() - t0, 3)
print(json.dumps(out))
