"""MQTT transport (paho-mqtt 2.x).

Each message is published with QoS 1 to `<topic_prefix>/<event type with dots as slashes>`
(`plant1/batchline` + `masterdata.material.approved` → `plant1/batchline/masterdata/material/approved`);
deliver() returns when the broker's PUBACK arrives. The session (connection and network thread) is
kept between deliveries; after any failure it is torn down and opened again on the next delivery,
so a message that failed is never re-sent behind the relay's back.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from batchline.core.models import Destination
from batchline.integration.adapters import DeliveryFailed

QOS_AT_LEAST_ONCE = 1
DEFAULT_PORT = 1883


def topic_for(destination: Destination, event_type: str) -> str:
    prefix = destination.topic_prefix.strip("/")
    suffix = event_type.replace(".", "/")
    return f"{prefix}/{suffix}" if prefix else suffix


class MqttAdapter:
    def __init__(self) -> None:
        self._client: paho.Client | None = None
        self._opened_for: str | None = None  # the URL the session was opened for

    def deliver(self, destination: Destination, envelope: dict[str, Any], body: bytes) -> None:
        timeout = float(destination.timeout_seconds)
        client = self._session_for(destination, timeout)
        topic = topic_for(destination, str(envelope["event_type"]))
        info = client.publish(topic, payload=body, qos=QOS_AT_LEAST_ONCE)
        try:
            info.wait_for_publish(timeout=timeout)
        except (RuntimeError, ValueError) as exc:
            self.close()
            raise DeliveryFailed(f"MQTT publish to {topic!r} failed: {exc}", retryable=True) from exc
        if not info.is_published():
            self.close()
            raise DeliveryFailed(f"MQTT broker did not acknowledge {topic!r} within {timeout:g} s",
                                 retryable=True)

    def close(self) -> None:
        client, self._client, self._opened_for = self._client, None, None
        if client is not None:
            client.disconnect()
            client.loop_stop()

    def _session_for(self, destination: Destination, timeout: float) -> paho.Client:
        if self._client is not None and self._opened_for == destination.url and self._client.is_connected():
            return self._client
        self.close()
        address = urlsplit(destination.url)
        try:
            port = address.port or DEFAULT_PORT
        except ValueError:
            port = 0
        if address.scheme not in ("mqtt", "tcp") or not address.hostname or not port:
            raise DeliveryFailed(f"not an mqtt://host:port URL: {destination.url!r}", retryable=False)
        client_id = f"batchline-{destination.code}-{uuid.uuid4().hex[:8]}"  # unique: two relays may run
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if address.username:
            client.username_pw_set(unquote(address.username), unquote(address.password or ""))
        client.connect_timeout = timeout
        connected = threading.Event()
        refusal: list[str] = []

        def on_connect(client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
            if reason.is_failure:
                refusal.append(str(reason))
            connected.set()

        client.on_connect = on_connect
        try:
            client.connect(address.hostname, port, keepalive=60)
        except OSError as exc:
            raise DeliveryFailed(f"cannot reach MQTT broker at {destination.url}: {exc}", retryable=True) from exc
        client.loop_start()
        if not connected.wait(timeout) or refusal:
            client.disconnect()
            client.loop_stop()
            reason = refusal[0] if refusal else f"no CONNACK within {timeout:g} s"
            # a refused login is a configuration error the relay cannot fix, but retrying costs
            # little and the engineer may correct the credentials; keep it retryable
            raise DeliveryFailed(f"MQTT broker at {destination.url} refused the session: {reason}", retryable=True)
        self._client, self._opened_for = client, destination.url
        return client
