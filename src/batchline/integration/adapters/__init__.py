"""Transports. Each adapter delivers one envelope to one destination and either returns (the
destination acknowledged it: HTTP 2xx, AMQP publisher confirm, MQTT PUBACK) or raises DeliveryFailed.

An adapter may keep a connection open between deliveries (AMQP channel, MQTT session); the relay
calls close() when it stops or when a destination's configuration changes.
"""

from __future__ import annotations

from typing import Any, Protocol

from batchline.core.models import Destination


class DeliveryFailed(Exception):
    """The destination did not acknowledge. `retryable` False means retrying cannot help (a 4xx
    other than 408/429, a refused configuration): the relay dead-letters at once."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Adapter(Protocol):
    def deliver(self, destination: Destination, envelope: dict[str, Any], body: bytes) -> None: ...

    def close(self) -> None: ...


def adapter_for(destination: Destination) -> Adapter:
    """A new adapter for the destination's kind."""
    from batchline.integration.adapters import amqp, mqtt, webhook  # the transports' client libraries load lazily

    adapters: dict[str, type[Any]] = {"webhook": webhook.WebhookAdapter, "amqp": amqp.AmqpAdapter,
                                      "mqtt": mqtt.MqttAdapter}
    return adapters[destination.kind]()
