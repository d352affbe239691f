"""Python uamqp with SAS token authentication (SASL MSSBCBS, then a put-token on $cbs) over TLS.

Usage: uamqp_token_auth.py <mode> <tls port> <ca file> <queue> <key name> <key> [<other queue>]
Every client authenticates with SASTokenAuth.from_shared_access_key for amqps://localhost:<port>/<queue>.
Modes:
  round-trip  sends 5 messages to <queue>, then receives them back.
  mgmt        sends 3 messages, then mgmt_request(READ) on $management for <queue>: once with
              uamqp's default status fields (statusCode / statusDescription) and once with those
              azure-eventhub passes (status-code / status-description); then, when <other queue> is
              given, a READ of it with the same client.
  refused     sends one message: expected to fail (a wrong key, or no MSSBCBS on offer).
Prints one JSON object. Each step records how long it took, so the caller can bound it.
"""
import json
import sys
import time

import uamqp
from uamqp import authentication, errors

mode, port, ca, queue, key_name, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
other = sys.argv[7] if len(sys.argv) > 7 else None
uri = "amqps://localhost:%d/%s" % (port, queue)


def auth():
    return authentication.SASTokenAuth.from_shared_access_key(
        uri, key_name, key, port=port, verify=ca, timeout=10
    )


def send(count):
    sender = uamqp.SendClient(uri, auth=auth(), msg_timeout=10000)
    for i in range(count):
        sender.queue_message(uamqp.Message(("token message %d" % i).encode()))
    states = {}
    for s in sender.send_all_messages(close_on_done=True):
        states[str(s)] = states.get(str(s), 0) + 1
    return states


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def plain(value):
    """A response body as JSON-safe values (uamqp hands strings out as bytes)."""
    if isinstance(value, dict):
        return {str(text(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return text(value)


def read(client, name, **fields):
    t0 = time.monotonic()
    result = client.mgmt_request(
        uamqp.Message(application_properties={"name": name}),
        b"READ",
        op_type=b"com.microsoft:queue",
        timeout=5000,
        callback=lambda status, message, description: (status, message, description),
        **fields,
    )
    status, message, description = result
    return {
        "status": status,
        "description": text(description),
        "body": plain(message.get_data()) if message is not None and status == 200 else None,
        "seconds": round(time.monotonic() - t0, 3),
    }


out = {}
t0 = time.monotonic()
if mode == "round-trip":
    out["states"] = send(5)
    receiver = uamqp.ReceiveClient(uri, auth=auth(), timeout=5000, prefetch=10)
    received = []
    try:
        while len(received) < 5:
            batch = receiver.receive_message_batch(max_batch_size=5 - len(received), timeout=5000)
            if not batch:
                break
            for m in batch:
                received.append(b"".join(m.get_data()).decode())
                m.accept()
    finally:
        receiver.close()
    out["received"] = received
elif mode == "mgmt":
    out["states"] = send(3)
    client = uamqp.AMQPClient(uri, auth=auth())
    try:
        client.open()
        out["read"] = read(client, queue)
        out["readHyphenated"] = read(
            client, queue, status_code_field=b"status-code", description_fields=b"status-description"
        )
        if other is not None:
            out["readOther"] = read(client, other)
    finally:
        client.close()
elif mode == "refused":
    try:
        out["states"] = send(1)
    except (errors.AMQPError, errors.AuthenticationException, errors.TokenAuthFailure) as e:
        out["error"] = type(e).__name__
        out["message"] = str(e)
else:
    raise SystemExit("unknown mode " + mode)
out["seconds"] = round(time.monotonic() - t0, 3)
print(json.dumps(out))
