"""Python uamqp (the library this project reproduces) sends COUNT messages over TLS and receives them.

Usage: uamqp_round_trip.py <tls port> <ca file> <queue> <count>
Connects to amqps://localhost:<port>/<queue> with SASL ANONYMOUS, trusting <ca file>. Sends COUNT
messages whose application properties have several types, then receives them back.
Prints one JSON object: `states` (the send states, counted), `received` (each message's body and
application properties in a JSON-safe form: bytes as {"hex": ...}), the seconds each half took.
"""
import json
import sys
import time

import uamqp
from uamqp import authentication

port, ca, queue, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
target = "amqps://localhost:%d/%s" % (port, queue)


def auth():
    return authentication.SASLAnonymous(hostname="localhost", port=port, verify=ca)


def make(i):
    body = ("uamqp message %d " % i).encode() + bytes([i % 256]) * (i % 50)
    props = {
        "index": i,  # int
        "big": (i + 1) << 40,  # long
        "text": "välue-%d" % i,  # string
        "even": i % 2 == 0,  # boolean
        # bytes: uamqp 1.5.3 sends them as an AMQP *string* (its quirk), cut at the first NUL byte,
        # so these have none (and are valid UTF-8).
        "raw": bytes([0x21 + i % 90, 0xC3, 0xA9, 0x7E]),
    }
    return uamqp.Message(body, application_properties=props)


def safe(value):
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    if isinstance(value, dict):
        return {str(safe(k)) if not isinstance(k, str) else k: safe(v) for k, v in value.items()}
    return value


def key(k):
    return k.decode() if isinstance(k, bytes) else k


t0 = time.monotonic()
# msg_timeout: a broker that never settles makes the sends fail (SendFailed) instead of hanging.
sender = uamqp.SendClient(target, auth=auth(), msg_timeout=30000)
for i in range(count):
    sender.queue_message(make(i))
states = {}
for s in sender.send_all_messages(close_on_done=True):
    states[str(s)] = states.get(str(s), 0) + 1
t1 = time.monotonic()

receiver = uamqp.ReceiveClient(target, auth=auth(), timeout=10000, prefetch=300)
received = []
try:
    while len(received) < count:
        batch = receiver.receive_message_batch(max_batch_size=min(300, count - len(received)), timeout=10000)
        if not batch:
            break
        for m in batch:
            props = m.application_properties or {}
            received.append({
                "body": b"".join(m.get_data()).hex(),
                "properties": {key(k): safe(v) for k, v in props.items()},
            })
            m.accept()
finally:
    receiver.close()
t2 = time.monotonic()

print(json.dumps({
    "states": states,
    "received": received,
    "sendSeconds": round(t1 - t0, 3),
    "receiveSeconds": round(t2 - t1, 3),
}))
