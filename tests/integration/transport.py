"""What the transport tests share: an outgoing message as the relay builds it, a closed port, a TCP
proxy that simulates a network outage, and the plant-side consumers of RabbitMQ and MQTT."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pika
from paho.mqtt.enums import CallbackAPIVersion

from batchline.core.canonical import canonical_json
from batchline.core.models import OutboxEvent
from batchline.core.outbox import envelope

EVENT_TYPE = "masterdata.material.approved"


def message(record_id: str = "42") -> tuple[dict[str, Any], bytes]:
    """(envelope, body) of one event, exactly as the relay hands them to an adapter."""
    event = OutboxEvent(message_id=uuid.uuid4(), event_type=EVENT_TYPE, record_type="material", record_id=record_id,
                        payload={"code": f"API-{record_id}", "name": "对乙酰氨基酚"},
                        occurred_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC), correlation_id="c-1")
    env = envelope(event)
    return env, canonical_json(env).encode()


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Proxy:
    """A TCP relay to the broker that the test can cut (dropping live connections) and restore on
    the same port: a network outage without stopping the shared broker."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = closed_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        if self.listener is None:
            return  # already cut
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        self.listener.close()
        self.listener = None
        for sock in self.sockets:
            with contextlib.suppress(OSError):  # already closed by the other side
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.upstream)
            self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass  # cut: the connection is gone


class Consumer:
    """The plant's side: a queue bound to the test's exchange, read with basic_get."""

    def __init__(self, url: str, exchange: str, *, bind: bool = True) -> None:
        self.exchange = exchange
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
        self.queue = f"bl-test-{uuid.uuid4().hex}"
        self.channel.queue_declare(queue=self.queue, exclusive=True)
        if bind:
            self.channel.queue_bind(queue=self.queue, exchange=exchange, routing_key="masterdata.#")

    def take(self, count: int) -> list[tuple[Any, bytes]]:
        """The next `count` messages (properties, body); fails after 50 empty polls of 0.1 s."""
        received: list[tuple[Any, bytes]] = []
        for _ in range(50):
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.connection.process_data_events(time_limit=0.1)  # wait for the broker, not a sleep
                continue
            received.append((properties, body))
            if len(received) == count:
                break
        return received

    def close(self) -> None:
        self.channel.exchange_delete(exchange=self.exchange)
        self.connection.close()


class Subscriber:
    """The plant's side: a separate paho client subscribed to `<prefix>/#` with QoS 1."""

    def __init__(self, url: str, prefix: str) -> None:
        self.received: queue.Queue[tuple[str, bytes]] = queue.Queue()
        subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bl-test-sub-{uuid.uuid4().hex[:8]}")
        self.client.on_message = lambda client, userdata, msg: self.received.put((msg.topic, msg.payload))
        self.client.on_subscribe = lambda client, userdata, mid, reasons, properties: subscribed.set()
        self.client.on_connect = lambda client, userdata, flags, reason, properties: client.subscribe(
            f"{prefix}/#", qos=1)
        address = urlsplit(url)
        self.client.connect(address.hostname or "127.0.0.1", address.port or 1883)
        self.client.loop_start()
        assert subscribed.wait(10), "the test subscriber could not subscribe"

    def take(self) -> tuple[str, bytes]:
        return self.received.get(timeout=10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
