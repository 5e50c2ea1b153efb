"""The MQTT ingestion process: room sensors' readings from the broker into stored, judged readings.

Subscribes with QoS 1 to `<prefix>/+/+` (one topic per sensor: `<prefix>/<room code>/<sensor id>`)
and hands the messages in batches to environment.ingestion.ingest_batch, one transaction per
batch. A message is acknowledged to the broker (PUBACK) only after its batch has committed, and the
session is persistent (MQTT 5, clean start off, a session expiry): a message received but not yet
stored when the process stops or the database fails is delivered again by the broker, and the
(sensor, source timestamp) key makes that redelivery a duplicate, never a second reading, alarm or
excursion. At-least-once from the broker, exactly once in the database.

    ingest = MqttIngest()                 # settings: BATCHLINE_ENV_MQTT_URL, BATCHLINE_ENV_TOPIC_PREFIX
    ingest.run(stop_event)                # until stop_event is set; or `batchline environment_ingest`

Run one process per client id (two with the same id take the session from each other); several
processes share the load with an MQTT shared subscription (BATCHLINE_ENV_MQTT_SHARE_GROUP).
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from django.conf import settings
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from batchline.core import clock
from batchline.environment.choices import Channel
from batchline.environment.ingestion import IngestResult, decode, ingest_batch

log = logging.getLogger("batchline.environment.mqtt")

DEFAULT_URL = "mqtt://127.0.0.1:1883"
DEFAULT_PREFIX = "batchline/env"
DEFAULT_PORT = 1883
QOS = 1
SESSION_EXPIRY_SECONDS = 24 * 3600  # the broker keeps unacknowledged readings this long while we are away
BATCH_SIZE = 500
MAX_WAIT_SECONDS = 0.1  # a batch waits at most this long for more messages after its first
RETRY_SECONDS = 2.0


def setting(name: str, default: str) -> str:
    """A setting from Django's settings, else the environment, else the default."""
    return str(getattr(settings, name, None) or os.environ.get(name) or default)


def broker_address(url: str) -> tuple[str, int, str | None, str | None]:
    """(host, port, username, password) of an mqtt://[user:password@]host[:port] URL."""
    address = urlsplit(url)
    try:
        port = address.port or DEFAULT_PORT
    except ValueError:
        port = 0
    if address.scheme not in ("mqtt", "tcp") or not address.hostname or not port:
        raise ValueError(f"not an mqtt://host:port URL: {url!r}")
    username = unquote(address.username) if address.username else None
    password = unquote(address.password) if address.password else None
    return address.hostname, port, username, password


def topic_filter(prefix: str, share_group: str = "") -> str:
    base = f"{prefix.strip('/')}/+/+"
    return f"$share/{share_group}/{base}" if share_group else base


@dataclass
class Stats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    alarms_raised: int = 0
    excursions: int = 0
    batches: int = 0
    failures: int = 0
    last_batch_at: datetime | None = None


@dataclass(frozen=True)
class _Message:
    generation: int  # which connection it came on: an ack belongs to the connection that received it
    topic: str
    payload: bytes
    mid: int
    qos: int


class IngestUnavailable(Exception):
    """The broker could not be reached or refused the session."""


class MqttIngest:
    def __init__(self, url: str | None = None, prefix: str | None = None, *, client_id: str | None = None,
                 share_group: str | None = None, batch_size: int = BATCH_SIZE, max_wait: float = MAX_WAIT_SECONDS,
                 session_expiry: int = SESSION_EXPIRY_SECONDS, connect_timeout: float = 10.0) -> None:
        self.url = url or setting("BATCHLINE_ENV_MQTT_URL", DEFAULT_URL)
        self.prefix = (prefix or setting("BATCHLINE_ENV_TOPIC_PREFIX", DEFAULT_PREFIX)).strip("/")
        self.client_id = client_id or setting("BATCHLINE_ENV_MQTT_CLIENT_ID",
                                              f"batchline-env-ingest-{socket.gethostname()}")[:64]
        self.share_group = share_group if share_group is not None else setting("BATCHLINE_ENV_MQTT_SHARE_GROUP", "")
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.session_expiry = session_expiry
        self.connect_timeout = connect_timeout
        self.stats = Stats()
        self.subscribed = threading.Event()
        self._queue: queue.Queue[_Message] = queue.Queue()
        self._pending: list[_Message] = []  # a batch whose transaction failed: tried again first
        self._client: paho.Client | None = None
        self._generation = 0
        self._refusal = ""

    # --- connection ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (persistent session), subscribe, and receive on paho's network thread."""
        host, port, username, password = broker_address(self.url)
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv5)
        client.manual_ack_set(True)  # PUBACK after the batch committed, not when the message arrived
        if username:
            client.username_pw_set(username, password or "")
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        client.reconnect_delay_set(1, 30)
        client.connect_timeout = self.connect_timeout
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry
        properties.ReceiveMaximum = min(65535, max(100, self.batch_size * 4))  # unacknowledged messages in flight
        self.subscribed.clear()
        self._refusal = ""
        try:
            client.connect(host, port, keepalive=30, clean_start=False, properties=properties)
        except OSError as exc:
            raise IngestUnavailable(f"cannot reach the MQTT broker at {host}:{port}: {exc}") from exc
        client.loop_start()
        self._client = client
        if not self.subscribed.wait(self.connect_timeout) or self._refusal:
            self.close()
            raise IngestUnavailable(f"the MQTT broker at {host}:{port} did not accept the subscription: "
                                    f"{self._refusal or 'no answer'}")
        log.info("environment ingestion subscribed to %s on %s:%s", topic_filter(self.prefix, self.share_group),
                 host, port)

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self._refusal = str(reason)
            return
        self._generation += 1
        client.subscribe(topic_filter(self.prefix, self.share_group), qos=QOS)

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        if any(r.is_failure for r in reasons):
            self._refusal = ", ".join(str(r) for r in reasons)
        self.subscribed.set()

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.warning("environment ingestion lost the MQTT broker (%s); reconnecting", reason)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self._queue.put(_Message(self._generation, message.topic, message.payload, message.mid, message.qos))

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()

    # --- batches -------------------------------------------------------------------------------------

    def process(self, timeout: float) -> int:
        """Store one batch: the one that failed before, else the messages that arrived, waiting up to
        `timeout` seconds for the first. Returns the number of messages handled. A failing transaction
        raises; its batch stays unacknowledged and is tried again by the next call."""
        batch = self._pending or self._take(timeout)
        if not batch:
            return 0
        self._pending = batch
        try:
            result = self.store(batch)
        except Exception:
            self.stats.failures += 1
            raise
        self._pending = []
        self.acknowledge(batch)
        self._count(batch, result)
        return len(batch)

    def store(self, batch: list[_Message]) -> IngestResult | None:
        """The batch's transaction (the benchmark's baseline replaces it with nothing)."""
        return ingest_batch([decode(m.topic, m.payload) for m in batch], channel=Channel.MQTT)

    def acknowledge(self, batch: list[_Message]) -> None:
        client = self._client
        if client is None:
            return
        for message in batch:
            # After a reconnect the broker sends the unacknowledged messages again, under new ids.
            if message.qos > 0 and message.generation == self._generation:
                client.ack(message.mid, message.qos)

    def _take(self, timeout: float) -> list[_Message]:
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
        return batch

    def _count(self, batch: list[_Message], result: IngestResult | None) -> None:
        stats = self.stats
        stats.received += len(batch)
        stats.batches += 1
        stats.last_batch_at = clock.now()
        if result is not None:
            stats.stored += result.stored
            stats.duplicates += result.duplicates
            stats.rejected += result.rejected
            stats.alarms_raised += result.alarms_raised
            stats.excursions += result.excursions

    # --- the long-running loop -----------------------------------------------------------------------

    def run(self, stop: threading.Event, idle_wait: float = 1.0) -> None:
        """Until `stop` is set: connect (retrying while the broker is away), store batches, and after a
        failed transaction wait and try the same batch again."""
        warned = False
        try:
            while not stop.is_set():
                if self._client is None:
                    try:
                        self.start()
                    except (IngestUnavailable, ValueError) as exc:
                        # Said once, not every RETRY_SECONDS while the broker stays away.
                        (log.debug if warned else log.warning)(
                            "environment ingestion: %s; trying again every %g s", exc, RETRY_SECONDS)
                        warned = True
                        stop.wait(RETRY_SECONDS)
                        continue
                    warned = False
                try:
                    self.process(idle_wait)
                except Exception:
                    log.exception("storing a batch of %s readings failed; trying again", len(self._pending))
                    _close_connection()
                    stop.wait(RETRY_SECONDS)
        finally:
            self.close()
            _close_connection()


def _close_connection() -> None:
    """This thread's database connection is not kept across a failure (a broken one is reopened)."""
    if not connection.in_atomic_block:
        connection.close()
