"""Python uamqp on one side of our clients, over TLS.

Usage: uamqp_cross.py send <tls port> <ca file> <queue> <count>
       uamqp_cross.py receive <tls port> <ca file> <queue> <count>
send: sends COUNT messages with explicitly typed application properties, annotations and properties.
receive: receives COUNT messages and prints, for each, the application properties and annotations
as uamqp's Python API hands them out (it turns strings and symbols into bytes, timestamps into ints).
Prints one JSON object.
"""
import datetime
import json
import sys
import uuid

import uamqp
from uamqp import authentication, types

mode, port, ca, queue, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
target = "amqps://localhost:%d/%s" % (port, queue)


def auth():
    return authentication.SASLAnonymous(hostname="localhost", port=port, verify=ca)


def py_values(props):
    """Application properties as uamqp's Python API hands them out: {key: [python type, value]}."""
    out = {}
    for k, v in (props or {}).items():
        key = k.decode() if isinstance(k, bytes) else str(k)
        shown = v.decode() if isinstance(v, bytes) else str(v)
        out[key] = [type(v).__name__, shown]
    return out


if mode == "send":
    sender = uamqp.SendClient(target, auth=auth(), msg_timeout=30000)
    for i in range(count):
        props = uamqp.message.MessageProperties(message_id="py-%d" % i, subject="cross")
        msg = uamqp.Message(
            ("python %d" % i).encode(),
            properties=props,
            application_properties={
                "int": types.AMQPInt(i),
                "long": types.AMQPLong(i + (1 << 40)),
                "short": types.AMQPShort(7),
                "symbol": types.AMQPSymbol("sym-%d" % i),
                "when": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                "id": uuid.UUID("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
                "flag": True,
                "text": "t%d" % i,
            },
            annotations={types.AMQPSymbol("x-opt-index"): types.AMQPLong(i)},
        )
        sender.queue_message(msg)
    states = {}
    for s in sender.send_all_messages(close_on_done=True):
        states[str(s)] = states.get(str(s), 0) + 1
    print(json.dumps({"states": states}))
else:
    receiver = uamqp.ReceiveClient(target, auth=auth(), timeout=10000, prefetch=100)
    out = []
    try:
        while len(out) < count:
            batch = receiver.receive_message_batch(max_batch_size=min(100, count - len(out)), timeout=10000)
            if not batch:
                break
            for m in batch:
                out.append({
                    "applicationProperties": py_values(m.application_properties),
                    # uamqp's C wrapper cannot open the described annotations map: report Python values.
                    "messageAnnotations": {
                        (k.decode() if isinstance(k, bytes) else str(k)): v for k, v in (m.annotations or {}).items()
                    },
                    "body": b"".join(m.get_data()).decode(),
                })
                m.accept()
    finally:
        receiver.close()
    print(json.dumps({"received": out}))
