"""A Python client stays idle on a broker with a short idle time-out, then receives a message.

Usage:
  idle_heartbeats.py proton <url> <queue> <idle ms>
  idle_heartbeats.py uamqp <tls port> <ca file> <queue> <idle ms>
Attaches a receiver to <queue>, waits <idle ms> for a message that does not come (the library keeps
its connection serviced meanwhile, as an application waiting for messages does), then sends one
message to <queue> on the same connection (Proton) or with a second client (uamqp) and receives it.
Prints one JSON object: `idle` (what arrived while idle: nothing) and `body` (the message received).
A connection closed by the broker's idle time-out makes the script fail.
"""
import json
import sys

mode = sys.argv[1]

if mode == "proton":
    from proton import Message
    from proton.utils import BlockingConnection

    url, queue, idle_ms = sys.argv[2], sys.argv[3], int(sys.argv[4])
    conn = BlockingConnection(url, timeout=10)
    receiver = conn.create_receiver(queue, credit=1)
    idle = []
    try:
        idle.append(receiver.receive(timeout=idle_ms / 1000.0).body)
    except Exception as e:  # proton.Timeout: nothing arrived, as expected
        if type(e).__name__ != "Timeout":
            raise
    sender = conn.create_sender(queue)
    sender.send(Message(body="after the silence"))
    m = receiver.receive(timeout=10)
    receiver.accept()
    conn.close()
    print(json.dumps({"idle": idle, "body": m.body}))
elif mode == "uamqp":
    import uamqp
    from uamqp import authentication

    port, ca, queue, idle_ms = int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    target = "amqps://localhost:%d/%s" % (port, queue)

    def auth():
        return authentication.SASLAnonymous(hostname="localhost", port=port, verify=ca)

    receiver = uamqp.ReceiveClient(target, auth=auth(), timeout=0, prefetch=1)
    receiver.open()
    idle = [str(m) for m in receiver.receive_message_batch(max_batch_size=1, timeout=idle_ms)]
    sender = uamqp.SendClient(target, auth=auth(), msg_timeout=10000)
    sender.queue_message(uamqp.Message(b"after the silence"))
    sender.send_all_messages(close_on_done=True)
    got = receiver.receive_message_batch(max_batch_size=1, timeout=10000)
    for m in got:
        m.accept()
    receiver.close()
    print(json.dumps({"idle": idle, "body": b"".join(got[0].get_data()).decode() if got else None}))
else:
    raise SystemExit("unknown mode " + mode)
