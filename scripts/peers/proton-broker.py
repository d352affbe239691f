#!/usr/bin/python3
"""A small AMQP 1.0 broker on Qpid Proton's Python reactor, for interop tests.

Usage: /usr/bin/python3 scripts/peers/proton-broker.py [--host 127.0.0.1] [--port 0] [--verbose]
                                                         [--offered-capabilities-list SYM[,SYM...]]
Prints "READY <port>" on stdout once listening.

Behaviour:
- one queue per address, created on first use (attach of either direction, or a message to it);
  dynamic sources get a fresh queue; a sender link with a null target is an anonymous relay
  (routes on properties.to); transaction coordinators are refused (amqp:not-implemented);
- messages are forwarded byte-exact: the payload of the incoming transfer is stored and sent as it came,
  with all its sections, including empty ones (message-format is always 0: Proton 0.37 cannot set it);
- consumers get messages round-robin within their link credit; drain is honoured;
  snd-settle-mode settled => pre-settled transfers (the message is consumed when sent);
- outcomes: accepted (or settled without outcome) removes, rejected drops, released requeues at the head
  with header.delivery-count + 1, modified requeues at the head with its message-annotations merged,
  delivery-count + 1 when delivery-failed, and never again to that link when undeliverable-here;
- unsettled deliveries of a detached link, ended session, closed or lost connection are requeued at the
  head (in their original order) with delivery-count + 1;
- incoming transfers: accepted and settled at once (rcv-settle-mode second is answered with first);
- addresses: "q", "/q" and "amqp[s]://host[:port]/q" name the same queue "q" (Python uamqp sends full URLs);
- SASL: ANONYMOUS only; clients that skip SASL (plain AMQP header) are accepted too;
- OPEN: offers no capabilities, unless --offered-capabilities-list names some (e.g. ANONYMOUS-RELAY,
  which this broker does support: see the null target above). They are set the way applications
  usually set them, as a Python list of symbols, which Proton encodes as an AMQP *list* of symbols
  (0xc0/0xd0), not as the array or single symbol the specification types offered-capabilities as.
  Not the default: Python uamqp (uamqp-c) refuses such an OPEN ("failed parsing OPEN frame").
"""

import argparse
import collections
import itertools
import os
import sys
import traceback
import uuid

sys.dont_write_bytecode = True  # keep scripts/peers/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from proton import Condition, Data, Delivery, Endpoint, Handler, Link, Terminus, symbol  # noqa: E402
from proton.reactor import Container  # noqa: E402

import amqp_sections  # noqa: E402

CREDIT_WINDOW = 1000
VERBOSE = False


def log(*parts):
    if VERBOSE:
        sys.stderr.write("proton-broker: " + " ".join(str(p) for p in parts) + "\n")
        sys.stderr.flush()


def encode_object(value):
    data = Data()
    data.put_object(value)
    return data.encode()


def queue_name(address):
    """The queue of an address: "q", "/q" and "amqp[s]://host[:port]/q" all mean queue "q"."""
    if not address:
        return address
    if address.startswith(("amqp://", "amqps://")):
        rest = address.split("://", 1)[1]
        address = rest.split("/", 1)[1] if "/" in rest else ""
    return address.lstrip("/") or address


class Entry(object):
    """A message in a queue: its payload (bytes) and the consumers it must not go to again."""

    __slots__ = ("payload", "excluded")

    def __init__(self, payload):
        self.payload = payload
        self.excluded = None


class Queue(object):
    def __init__(self, name):
        self.name = name
        self.messages = collections.deque()
        self.consumers = []
        self.turn = 0  # round-robin position


class Consumer(object):
    """A sending link of the broker (a client's receiver) attached to a queue."""

    _ids = itertools.count(1)

    def __init__(self, link, queue):
        self.id = next(Consumer._ids)
        self.link = link
        self.queue = queue
        self.presettled = link.snd_settle_mode == Link.SND_SETTLED
        self.unsettled = collections.OrderedDict()  # tag -> (delivery, entry)
        self.tags = itertools.count(1)
        self.closed = False


class Broker(object):
    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.queues = {}
        self.consumers = {}  # id -> Consumer

    # -- queues ---------------------------------------------------------------------------------

    def queue(self, name):
        q = self.queues.get(name)
        if q is None:
            q = self.queues[name] = Queue(name)
            log("queue created", name)
        return q

    def enqueue(self, queue, payload):
        queue.messages.append(Entry(payload))
        self.dispatch(queue)

    def requeue(self, consumer, entries):
        """Puts entries back at the head of their queue, in the given order."""
        for entry in reversed(entries):
            consumer.queue.messages.appendleft(entry)

    def next_entry_for(self, queue, consumer):
        for i, entry in enumerate(queue.messages):
            if entry.excluded is None or consumer.id not in entry.excluded:
                del queue.messages[i]
                return entry
            if i > 10000:
                break
        return None

    def dispatch(self, queue):
        """Sends queued messages to consumers with credit, round-robin; answers drain requests."""
        consumers = queue.consumers
        while queue.messages and consumers:
            sent = False
            for k in range(len(consumers)):
                consumer = consumers[(queue.turn + k) % len(consumers)]
                if consumer.closed or consumer.link.credit <= 0:
                    continue
                entry = self.next_entry_for(queue, consumer)
                if entry is None:
                    continue
                queue.turn = (queue.turn + k + 1) % len(consumers)
                self.send(consumer, entry)
                sent = True
                break
            if not sent:
                break
        for consumer in consumers:
            link = consumer.link
            if not consumer.closed and link.drain_mode and link.credit > 0:
                link.drained()

    def send(self, consumer, entry):
        link = consumer.link
        tag = str(next(consumer.tags))
        delivery = link.delivery(tag)
        if entry.payload:
            link.stream(entry.payload)
        link.advance()
        if consumer.presettled:
            delivery.settle()
        else:
            consumer.unsettled[tag] = (delivery, entry)

    # -- links ----------------------------------------------------------------------------------

    def refuse(self, link, name, description):
        link.condition = Condition(name, description)
        link.open()
        link.close()
        log("refused link", link.name, name, description)

    def link_opening(self, link):
        link.snd_settle_mode = link.remote_snd_settle_mode
        # As a receiver the broker always settles first (like RabbitMQ and Azure); a client asking for
        # rcv-settle-mode second sees `first` in our attach and gets settled dispositions.
        link.rcv_settle_mode = link.remote_rcv_settle_mode if link.is_sender else Link.RCV_FIRST
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        if link.is_sender:
            source = link.remote_source
            address = queue_name(source.address)
            if source.dynamic:
                address = "dynamic-" + str(uuid.uuid4())
                link.source.address = address
            if not address:
                self.refuse(link, "amqp:invalid-field", "a source address is required")
                return
            consumer = Consumer(link, self.queue(address))
            link.peer_consumer = consumer.id
            self.consumers[consumer.id] = consumer
            consumer.queue.consumers.append(consumer)
            link.open()
            log("consumer", consumer.id, "on", address, "presettled" if consumer.presettled else "")
            self.dispatch(consumer.queue)
        else:
            target = link.remote_target
            if target.type == Terminus.COORDINATOR:
                self.refuse(link, "amqp:not-implemented", "transactions are not supported")
                return
            if target.address:
                self.queue(queue_name(target.address))
            link.open()
            link.flow(CREDIT_WINDOW)
            log("producer on", target.address or "(anonymous relay)")

    def consumer_of(self, link):
        try:
            consumer_id = link.peer_consumer
        except AttributeError:
            return None
        return self.consumers.get(consumer_id)

    def drop_consumer(self, consumer, reason):
        """Forgets a consumer and requeues its unsettled deliveries (delivery-count + 1)."""
        if consumer.closed:
            return
        consumer.closed = True
        self.consumers.pop(consumer.id, None)
        queue = consumer.queue
        if consumer in queue.consumers:
            queue.consumers.remove(consumer)
        entries = []
        for delivery, entry in consumer.unsettled.values():
            entry.payload = amqp_sections.increment_delivery_count(entry.payload)
            entries.append(entry)
            delivery.settle()
        consumer.unsettled.clear()
        if entries:
            log("requeue", len(entries), "from consumer", consumer.id, "(" + reason + ")")
        self.requeue(consumer, entries)
        self.dispatch(queue)

    def drop_links(self, links, reason):
        for link in links:
            consumer = self.consumer_of(link)
            if consumer is not None:
                self.drop_consumer(consumer, reason)

    @staticmethod
    def links_of(connection, session=None):
        result = []
        link = connection.link_head(0)
        while link:
            if session is None or link.session == session:
                result.append(link)
            link = link.next(0)
        return result

    # -- deliveries -----------------------------------------------------------------------------

    def incoming(self, delivery):
        link = delivery.link
        if delivery.aborted:
            delivery.settle()
            return
        try:
            chunks = delivery.peer_chunks
        except AttributeError:
            chunks = delivery.peer_chunks = []
        if delivery.pending:
            data = link.recv(delivery.pending)
            if data:
                chunks.append(data)
        if delivery.partial:
            return
        link.advance()
        payload = b"".join(chunks)
        delivery.peer_chunks = None
        address = queue_name(link.target.address or amqp_sections.properties_to(payload))
        if address:
            self.enqueue(self.queue(address), payload)
            outcome = Delivery.ACCEPTED
        else:
            delivery.local.condition = Condition("amqp:not-found", "no target address and no properties.to")
            outcome = Delivery.REJECTED
        if not delivery.settled:
            delivery.update(outcome)
        delivery.settle()
        if link.credit < CREDIT_WINDOW // 2:
            link.flow(CREDIT_WINDOW - link.credit)

    def outcome(self, delivery):
        consumer = self.consumer_of(delivery.link)
        if consumer is None:
            delivery.settle()
            return
        item = consumer.unsettled.get(delivery.tag)
        if item is None:
            return
        state = delivery.remote_state
        if state == Delivery.RECEIVED or (state == 0 and not delivery.settled):
            return  # no outcome yet
        del consumer.unsettled[delivery.tag]
        entry = item[1]
        if state == Delivery.RELEASED:
            entry.payload = amqp_sections.increment_delivery_count(entry.payload)
            self.requeue(consumer, [entry])
        elif state == Delivery.MODIFIED:
            remote = delivery.remote
            annotations = remote.annotations
            if annotations:
                pairs = [(encode_object(k), encode_object(v)) for k, v in annotations.items()]
                entry.payload = amqp_sections.merge_message_annotations(entry.payload, pairs)
            if remote.failed:
                entry.payload = amqp_sections.increment_delivery_count(entry.payload)
            if remote.undeliverable:
                entry.excluded = (entry.excluded or set()) | {consumer.id}
            self.requeue(consumer, [entry])
        # ACCEPTED, REJECTED, or settled without an outcome: the message is gone.
        delivery.settle()
        self.dispatch(consumer.queue)


class BrokerHandler(Handler):
    """Routes Proton events to the Broker; an exception closes the connection, never the broker."""

    def __init__(self, broker, offered_capabilities=None):
        self.broker = broker
        self.offered_capabilities = offered_capabilities

    def on_unhandled(self, method, *args):
        handler = getattr(self, "do_" + method[3:], None) if method.startswith("on_") else None
        if handler is None:
            return
        event = args[0]
        try:
            handler(event)
        except Exception:  # noqa: BLE001 - a test peer must survive a bad client
            sys.stderr.write("proton-broker: error in %s:\n%s" % (method, traceback.format_exc()))
            connection = event.connection
            if connection is not None and not connection.state & Endpoint.LOCAL_CLOSED:
                connection.condition = Condition("amqp:internal-error", "broker error in " + method)
                connection.close()

    def do_reactor_init(self, event):
        container = event.container
        try:
            acceptor = container.acceptor(self.broker.host, self.broker.port)
        except OSError as e:
            sys.stderr.write("proton-broker: cannot listen on %s:%s: %s\n" % (self.broker.host, self.broker.port, e))
            raise SystemExit(1)
        port = acceptor._selectable.getsockname()[1]
        sys.stdout.write("READY %d\n" % port)
        sys.stdout.flush()

    def do_connection_bound(self, event):
        transport = event.transport
        transport.require_auth(False)  # a client may skip SASL
        sasl = transport.sasl()
        sasl.allowed_mechs("ANONYMOUS")

    def do_connection_remote_open(self, event):
        connection = event.connection
        if connection.state & Endpoint.LOCAL_UNINIT:
            connection.container = "proton-broker"
            if self.offered_capabilities:
                # A plain Python list (not proton.Array): Proton encodes it as an AMQP list of symbols.
                connection.offered_capabilities = [symbol(c) for c in self.offered_capabilities]
            connection.open()

    def do_session_remote_open(self, event):
        session = event.session
        if session.state & Endpoint.LOCAL_UNINIT:
            session.open()

    def do_link_remote_open(self, event):
        link = event.link
        if link.state & Endpoint.LOCAL_UNINIT:
            self.broker.link_opening(link)

    def do_link_flow(self, event):
        consumer = self.broker.consumer_of(event.link)
        if consumer is not None:
            self.broker.dispatch(consumer.queue)

    def do_delivery(self, event):
        delivery = event.delivery
        if delivery.link.is_receiver:
            self.broker.incoming(delivery)
        elif delivery.updated:
            self.broker.outcome(delivery)

    def do_link_remote_close(self, event):
        self.broker.drop_links([event.link], "link closed")
        if not event.link.state & Endpoint.LOCAL_CLOSED:
            event.link.close()

    def do_link_remote_detach(self, event):
        self.broker.drop_links([event.link], "link detached")
        if not event.link.state & Endpoint.LOCAL_CLOSED:
            event.link.detach()

    def do_session_remote_close(self, event):
        session = event.session
        self.broker.drop_links(self.broker.links_of(event.connection, session), "session ended")
        if not session.state & Endpoint.LOCAL_CLOSED:
            session.close()

    def do_connection_remote_close(self, event):
        connection = event.connection
        self.broker.drop_links(self.broker.links_of(connection), "connection closed")
        if not connection.state & Endpoint.LOCAL_CLOSED:
            connection.close()

    def do_transport_closed(self, event):
        connection = event.connection
        if connection is not None:
            self.broker.drop_links(self.broker.links_of(connection), "connection lost")


def main():
    global VERBOSE
    parser = argparse.ArgumentParser(description="Small AMQP 1.0 broker for interop tests (Qpid Proton).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port (printed as READY <port>)")
    parser.add_argument("--verbose", action="store_true", help="log links, queues and requeues to stderr")
    parser.add_argument(
        "--offered-capabilities-list",
        default="",
        metavar="SYM[,SYM...]",
        help="offer these connection capabilities, encoded as an AMQP list of symbols (default: none)",
    )
    args = parser.parse_args()
    VERBOSE = args.verbose
    offered = [c for c in args.offered_capabilities_list.split(",") if c]
    container = Container(BrokerHandler(Broker(args.host, args.port), offered))
    try:
        container.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
