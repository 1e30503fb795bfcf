#!/usr/bin/python3
"""A channel adapter in Python, in its own process: a lobby kiosk where visitors type
questions and read answers on screen. It speaks AdapterService.Connect, one gRPC
stream (docs/adapters.md):

  1. register the "kiosk" channel and how many replies it takes at once;
  2. send each visitor's question as `inbound`; it is stored once the `ingest_ack`
     with the same correlation_id arrives (resend it if the stream broke before);
  3. take `outbound` replies, show them, answer each with a `delivery` report;
     an outbound_id seen before is a repeat after a reconnect: report it again, do
     not show it twice.

Run by ctest against a fresh switchboardd (examples/with_switchboardd.py); the
"agent" part at the end stands in for a person at the agent desktop. Needs only
Debian's python3-grpcio and python3-protobuf, plus the stubs generated at build time
(protoc --python_out --grpc_python_out, see examples/CMakeLists.txt).
"""
import itertools
import os
import queue
import sys
import threading

import grpc

sys.path.insert(0, os.environ.get("SWITCHBOARD_PY_STUBS", os.path.join(os.path.dirname(__file__), "gen")))
from switchboard.v1 import adapter_pb2, adapter_pb2_grpc, common_pb2, conversation_pb2, conversation_pb2_grpc  # noqa: E402
from switchboard.v1 import ingest_pb2  # noqa: E402

TIMEOUT = 10


class KioskAdapter:
    def __init__(self, channel, key):
        self._upstream = queue.Queue()
        self._correlation = itertools.count(1)
        self._waiting = {}  # correlation_id -> [threading.Event, answer]
        self._lock = threading.Lock()
        self.screen = []  # what visitors were shown
        self._shown_ids = set()
        self.delivered = threading.Event()  # set once a reply was shown and reported
        self.delivered_ack = None  # waits for the server to store that report
        self.ended = None  # the stream's error, if it broke
        stub = adapter_pb2_grpc.AdapterServiceStub(channel)
        self._downstream = stub.Connect(iter(self._upstream.get, None),
                                        metadata=[("authorization", "Bearer " + key)])
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def request(self, max_in_flight=0, **kind):
        """Sends one upstream message; returns a function that waits for its answer."""
        correlation = next(self._correlation)
        done = [threading.Event(), None]
        with self._lock:
            self._waiting[correlation] = done
        self._upstream.put(adapter_pb2.AdapterUpstream(correlation_id=correlation, max_in_flight=max_in_flight,
                                                       **kind))

        def wait():
            if not done[0].wait(TIMEOUT):
                raise TimeoutError("no answer to message %d" % correlation)
            if done[1].HasField("error"):
                raise RuntimeError("refused (%d): %s" % (done[1].error_code, done[1].error))
            return done[1]
        return wait

    def close(self):
        self._upstream.put(None)  # half-close: the server answers what is pending, then ends
        self._reader.join(TIMEOUT)

    def _read(self):
        try:
            for message in self._downstream:
                if message.HasField("outbound"):
                    self._show(message.outbound)
                    continue
                with self._lock:
                    done = self._waiting.pop(message.correlation_id, None)
                if done:
                    done[1] = message
                    done[0].set()
        except grpc.RpcError as error:
            self.ended = error

    def _show(self, outbound):
        if outbound.outbound_id not in self._shown_ids:  # a repeat after a reconnect: not twice
            self._shown_ids.add(outbound.outbound_id)
            self.screen.append(outbound.text)
            print("kiosk %s shows: %s" % (outbound.address, outbound.text))
        # Answer from the reader thread without waiting for the ack here (the ack comes
        # through this very thread); the server acknowledges once the status is stored.
        self.delivered_ack = self.request(delivery=adapter_pb2.DeliveryReport(
            outbound_id=outbound.outbound_id, status=common_pb2.DELIVERED))
        self.delivered.set()


def main():
    address = os.environ["SWITCHBOARD_ADDRESS"]
    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=TIMEOUT)

    kiosk = KioskAdapter(channel, os.environ["SWITCHBOARD_ADAPTER_KEY"])
    registered = kiosk.request(max_in_flight=4, register=common_pb2.ChannelCapabilities(
        channel="kiosk", synchronous=False, max_text_length=280))()
    print("registered channel %s, %d replies in flight at most" % (
        registered.registered.channel, registered.registered.max_in_flight))

    ack = kiosk.request(inbound=ingest_pb2.InboundMessage(
        address="lobby-2", external_id="kiosk-2-0001", text="Where can I print my boarding pass?"))().ingest_ack
    print("stored as #%d of %s" % (ack.seq, ack.conversation_id))
    again = kiosk.request(inbound=ingest_pb2.InboundMessage(
        address="lobby-2", external_id="kiosk-2-0001", text="Where can I print my boarding pass?"))().ingest_ack
    assert again.duplicate and again.seq == ack.seq, "a resent message is recognised"

    # --- meanwhile, at the agent desktop ----------------------------------------------
    agent = conversation_pb2_grpc.ConversationServiceStub(channel)
    agent_auth = [("authorization", "Bearer " + os.environ["SWITCHBOARD_AGENT_KEY"])]
    sent = agent.SendMessage(conversation_pb2.SendMessageRequest(
        conversation_id=ack.conversation_id, text="At the blue counter next to gate 4."),
        metadata=agent_auth, timeout=TIMEOUT)
    assert sent.channel == "kiosk", sent

    assert kiosk.delivered.wait(TIMEOUT), "the reply reached the kiosk"
    kiosk.delivered_ack()  # stored
    context = agent.GetContext(conversation_pb2.GetContextRequest(conversation_id=ack.conversation_id),
                               metadata=agent_auth, timeout=TIMEOUT)
    statuses = [e.delivery_updated.status for e in context.events if e.HasField("delivery_updated")]
    kiosk.close()

    assert kiosk.screen == ["At the blue counter next to gate 4."], kiosk.screen
    assert statuses == [common_pb2.DELIVERED], statuses
    assert kiosk.ended is None, kiosk.ended
    print("ok: question stored, reply shown, delivery recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
