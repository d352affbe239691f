"""PeekLock with Qpid Proton's BlockingConnection: settle a message in several ways, then drop a
connection that holds unsettled deliveries.

Usage: proton_peeklock.py <url> <queue>
Queue <queue> gets one message, "p0" (alone, so whatever order Proton writes its flow and disposition
frames in, the next arrival is that message again). Connection A takes it unsettled and settles it with
  1. release() (Proton's default delivered=True: modified, delivery-failed NOT set),
  2. modified with delivery-failed set (what counts as a failed delivery attempt),
  3. release(delivered=False) (released),
receiving it again after each, then accepts it. Queue <queue>-drop gets "p1" and "p2": connection B
takes both unsettled and is dropped without CLOSE (its transport is closed under it); A receives them
again and accepts them.
Prints one JSON object: by body, the SHA-256 of each encoded message (`sentFull`) and of the same without
its header section (`sent`; the header is the one section a broker may re-encode), and `steps`: each
arrival with its body, delivery_count and the same two digests of the transfer payload (`full`, `bare`).
"""
import hashlib
import json
import sys

from proton import Delivery, Message
import proton._handlers as handlers
from proton.utils import BlockingConnection

url, queue = sys.argv[1], sys.argv[2]
TIMEOUT = 20

# Keep the raw payload of every delivery (proton._handlers.recv_msg decodes it, in Proton 0.37).
raw_payloads = []


def recv_msg_keeping_raw(delivery):
    raw = delivery.link.recv(delivery.pending)
    delivery.link.advance()
    raw_payloads.append(raw)
    msg = Message()
    msg.decode(raw)
    return msg


handlers.recv_msg = recv_msg_keeping_raw


def bare(raw):
    """The payload without its header section (the one section a broker may re-encode)."""
    if raw[:3] == b"\x00\x53\x70":
        # descriptor 0x00 0x53 0x70, then list0 (0x45), list8 (0xc0 size ...) or list32 (0xd0 size ...)
        code = raw[3]
        if code == 0x45:
            return raw[4:]
        if code == 0xC0:
            return raw[5 + raw[4]:]
        if code == 0xD0:
            return raw[8 + int.from_bytes(raw[4:8], "big"):]
    return raw


def digest(raw):
    return hashlib.sha256(bare(raw)).hexdigest()


steps = []


def arrival(step, receiver):
    m = receiver.receive(timeout=TIMEOUT)
    raw = raw_payloads[-1]
    steps.append({
        "step": step,
        "body": m.body,
        "deliveryCount": m.delivery_count,
        "bare": digest(raw),
        "full": hashlib.sha256(raw).hexdigest(),
    })
    return m


a = BlockingConnection(url, timeout=TIMEOUT, allowed_mechs="ANONYMOUS")
messages = [Message(id="p%d" % i, properties={"index": i}, body="p%d" % i) for i in range(3)]
sent = {m.body: digest(m.encode()) for m in messages}
sent_full = {m.body: hashlib.sha256(m.encode()).hexdigest() for m in messages}
sender = a.create_sender(queue)
sender.send(messages[0])
sender.close()
sender = a.create_sender(queue + "-drop")
sender.send(messages[1])
sender.send(messages[2])
sender.close()

# No prefetch: receive() grants one credit at a time.
receiver = a.create_receiver(queue)
arrival("first", receiver)
receiver.release()  # delivered=True: modified without delivery-failed
arrival("after release()", receiver)
receiver.fetcher.unsettled[0].local.failed = True
receiver.settle(Delivery.MODIFIED)
arrival("after modified(delivery-failed)", receiver)
receiver.release(delivered=False)  # released
arrival("after release(delivered=False)", receiver)
receiver.accept()
receiver.close()

b = BlockingConnection(url, timeout=TIMEOUT, allowed_mechs="ANONYMOUS")
held = b.create_receiver(queue + "-drop")
arrival("held by B", held)
arrival("held by B", held)
# Drop B: close both ends of its transport, so no CLOSE frame is written and the socket is shut.
transport = b.conn.transport
transport.close_tail()
transport.close_head()
b.container.process()

again = a.create_receiver(queue + "-drop")
arrival("after B dropped", again)
again.accept()
arrival("after B dropped", again)
again.accept()
again.close()
a.close()

print(json.dumps({"sent": sent, "sentFull": sent_full, "steps": steps}))
