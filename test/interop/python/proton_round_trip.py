"""Qpid Proton's BlockingConnection sends COUNT messages to a queue and receives them back.

Usage: proton_round_trip.py <url> <queue> <count>
Prints one JSON object: the SHA-256 of every message as Proton encoded it (`sent`), of every transfer
payload as it arrived (`received`), the received messages that differ from the sent ones once decoded
(`mismatches`, at most 10), the first message decoded (`first`), the outcomes of the sends by state
(`outcomes`), and the seconds each half took.
"""
import hashlib
import json
import sys
import time
import uuid

from proton import Message, symbol, ulong, timestamp
import proton._handlers as handlers
from proton.utils import BlockingConnection

url, queue, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
WINDOW = 1000

# Proton decodes transfers before handing them out: keep the raw payload of every decoded message
# (proton._handlers.recv_msg is what its message handler calls for each delivery, in Proton 0.37).
raw_payloads = []


def recv_msg_keeping_raw(delivery):
    raw = delivery.link.recv(delivery.pending)
    delivery.link.advance()
    raw_payloads.append(raw)
    msg = Message()
    msg.decode(raw)
    return msg


handlers.recv_msg = recv_msg_keeping_raw


def make(i):
    kind = i % 4
    if kind == 0:
        body = "text %d" % i
    elif kind == 1:
        body = bytes([(i + j) % 256 for j in range(i % 64)])  # binary, empty for i % 64 == 0
    elif kind == 2:
        body = {"i": i, "name": "map %d" % i, "ok": i % 2 == 0}
    else:
        body = None
    return Message(
        id="m-%d" % i,
        correlation_id=ulong(i),
        subject="subject %d" % (i % 7),
        content_type="application/octet-stream" if kind == 1 else "text/plain",
        reply_to="replies",
        creation_time=timestamp(1700000000000 + i),
        durable=i % 3 == 0,
        priority=i % 10,
        properties={
            "index": i,
            "text": "välue %d" % i,
            "flag": i % 2 == 1,
            "ratio": i / 8.0,
            "blob": bytes([i % 256, (i >> 8) % 256]),
            "id": uuid.UUID(int=i),
            "sym": symbol("s%d" % (i % 5)),
        },
        annotations={symbol("x-opt-index"): i},
        body=body,
    )


def view(m):
    """The parts of a message a round trip must keep."""
    return {
        "id": m.id,
        "correlation_id": int(m.correlation_id),
        "subject": m.subject,
        "content_type": str(m.content_type),
        "reply_to": m.reply_to,
        "creation_time": float(m.creation_time),
        "durable": m.durable,
        "priority": m.priority,
        "properties": {k: repr(v) for k, v in sorted(m.properties.items())},
        "annotations": {str(k): repr(v) for k, v in m.annotations.items()},
        "body": repr(m.body),
    }


messages = [make(i) for i in range(count)]
sent = [hashlib.sha256(m.encode()).hexdigest() for m in messages]

conn = BlockingConnection(url, timeout=30, allowed_mechs="ANONYMOUS")
t0 = time.monotonic()
sender = conn.create_sender(queue)
# Like BlockingSender.send(), but a window of deliveries in flight at a time instead of one.
outcomes = {}
for start in range(0, count, WINDOW):
    batch = [sender.link.send(m) for m in messages[start:start + WINDOW]]
    conn.wait(lambda: all(d.settled for d in batch), msg="settling the messages sent")
    for d in batch:
        outcomes[str(d.remote_state)] = outcomes.get(str(d.remote_state), 0) + 1
        d.settle()
sender.close()
t1 = time.monotonic()

receiver = conn.create_receiver(queue, credit=500)
received, mismatches, first = [], [], None
for i in range(count):
    m = receiver.receive(timeout=30)
    receiver.accept()
    if first is None:
        first = view(m)
    if view(m) != view(messages[i]) and len(mismatches) < 10:
        mismatches.append({"index": i, "sent": view(messages[i]), "received": view(m)})
receiver.close()
t2 = time.monotonic()
conn.close()

received = [hashlib.sha256(raw).hexdigest() for raw in raw_payloads]
print(json.dumps({
    "sent": sent,
    "outcomes": outcomes,
    "received": received,
    "mismatches": mismatches,
    "first": first,
    "sendSeconds": round(t1 - t0, 3),
    "receiveSeconds": round(t2 - t1, 3),
}))
