"""A Python uamqp (Debian python3-uamqp) process of the public-API benchmarks (bench/api.bench.ts).

Same protocol as bench/api/worker.ts (bench/api/protocol.ts): the configuration as JSON in argv[1],
one command per line on stdin, replies as lines "@@<json>" on stdout. Roles "send" (SendClient:
queue_message for every message of a run, then send_all_messages) and "recv" (a ReceiveClient per
run, receive_message_batch, each message accepted). Python uamqp speaks TLS only: the endpoint must
carry a CA. Run with /usr/bin/python3.
"""
import json
import os
import resource
import sys
import tempfile
import time

import uamqp
from uamqp import authentication
from uamqp.constants import MessageState

config = json.loads(sys.argv[1])


def reply(obj):
    sys.stdout.write("@@" + json.dumps(obj) + "\n")
    sys.stdout.flush()


def now_ns():
    # CLOCK_MONOTONIC, the clock of process.hrtime in the Node.js workers.
    return time.monotonic_ns()


ep = config["endpoint"]
if ep.get("ca") is None:
    reply({"error": "Python uamqp speaks TLS only: the endpoint needs a CA"})
    sys.exit(1)
ca_fd, ca_file = tempfile.mkstemp(prefix="uamqp-bench-ca-", suffix=".pem")
with os.fdopen(ca_fd, "w") as f:
    f.write(ep["ca"])
# The test certificate names localhost (and 127.0.0.1); uamqp checks the host name.
url = "amqps://localhost:%d/%s" % (ep["port"], ep["address"])


def auth():
    return authentication.SASLAnonymous(hostname="localhost", port=ep["port"], verify=ca_file)


body = b"\x5a" * config.get("size", 16)
sender = None
if config["role"] == "send":
    sender = uamqp.SendClient(url, auth=auth(), msg_timeout=60000)
    sender.open()
    while not sender.client_ready():
        sender.do_work()
elif config["role"] != "recv":
    reply({"error": "no Python worker for role %s" % config["role"]})
    sys.exit(1)

ready_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
reply({"ready": {}})

start = None
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    command = json.loads(line)
    cmd = command["cmd"]
    if cmd == "run":
        count = command["count"]
        start = (now_ns(), time.process_time())
        reply({"armed": True})
        if config["role"] == "send":
            for _ in range(count):
                sender.queue_message(uamqp.Message(body))
            states = sender.send_all_messages(close_on_done=False)
            failed = [s for s in states if s != MessageState.SendComplete]
            if failed:
                reply({"error": "%d of %d messages not sent: %s" % (len(failed), count, failed[0])})
                sys.exit(1)
            reply({"done": {"count": count, "startNs": start[0], "endNs": now_ns()}})
        else:
            receiver = uamqp.ReceiveClient(url, auth=auth(), prefetch=config["credit"], timeout=30000)
            got = 0
            first = None
            try:
                while got < count:
                    batch = receiver.receive_message_batch(
                        max_batch_size=min(config["credit"], count - got), timeout=30000
                    )
                    if not batch:
                        reply({"error": "no message within 30 s (%d of %d)" % (got, count)})
                        sys.exit(1)
                    if first is None:
                        # As the Node.js workers do: the run's CPU from the first message on
                        # (setupCpuUs in protocol.ts), and its clock.
                        first = (now_ns(), time.process_time())
                    for m in batch:
                        m.accept()
                    got += len(batch)
                end_ns = now_ns()
                # The Node.js receivers close their link after the clocks stop: so does this one.
                start = (start[0], start[1], time.process_time())
            finally:
                receiver.close()
            reply({"done": {"count": got, "startNs": start[0], "firstNs": first[0], "endNs": end_ns,
                            "setupCpuUs": (first[1] - start[1]) * 1e6}})
    elif cmd == "progress":
        reply({"progress": 0})
    elif cmd == "end":
        cpu_s = (start[2] if len(start) > 2 else time.process_time()) - start[1]
        reply({"ended": {"cpuUs": cpu_s * 1e6, "maxRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                         "readyRssKiB": ready_rss_kib}})
    elif cmd == "stop":
        if sender is not None:
            sender.close()
        os.unlink(ca_file)
        reply({"stopped": True})
        sys.exit(0)
