"""AMQP 0-9-1 transport (RabbitMQ, via pika's BlockingConnection).

Each message is published to the destination's durable topic exchange with the event type as
routing key, as a persistent message, on a channel in publisher-confirm mode: deliver() returns
only when the broker has confirmed that it took responsibility for the message.

Messages are published `mandatory`: if no queue is bound for the routing key the broker returns
the message, pika raises UnroutableError and the delivery is retried (and eventually
dead-lettered, then replayable). Without it, a message published before the plant's IT engineer
binds a queue would be confirmed and silently dropped, which is a loss nobody would see.

The connection is kept between deliveries and opened again after any failure.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from batchline.core.models import Destination
from batchline.integration.adapters import DeliveryFailed

PERSISTENT = 2  # AMQP delivery_mode: the broker writes the message to disk in durable queues


class AmqpAdapter:
    def __init__(self) -> None:
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._opened_for: tuple[str, str] | None = None  # (url, exchange) the channel was set up for

    def deliver(self, destination: Destination, envelope: dict[str, Any], body: bytes) -> None:
        if not destination.exchange:
            raise DeliveryFailed("the destination has no exchange configured", retryable=False)
        try:
            channel = self._channel_for(destination)
            channel.basic_publish(
                exchange=destination.exchange,
                routing_key=str(envelope["event_type"]),
                body=body,
                properties=_properties(envelope),
                mandatory=True,
            )
        except pika.exceptions.UnroutableError as exc:
            # the broker is fine, the connection stays open; an engineer must bind a queue
            raise DeliveryFailed(
                f"no queue is bound to exchange {destination.exchange!r} for routing key "
                f"{envelope['event_type']!r}; the broker returned the message", retryable=True) from exc
        except pika.exceptions.NackError as exc:
            self.close()
            raise DeliveryFailed(f"the broker refused the message (nack): {exc}", retryable=True) from exc
        except (pika.exceptions.AMQPError, OSError) as exc:
            self.close()  # the next delivery opens a fresh connection
            raise DeliveryFailed(f"AMQP {type(exc).__name__}: {exc!r}"[:500], retryable=True) from exc

    def close(self) -> None:
        connection, self._connection, self._channel, self._opened_for = self._connection, None, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError, OSError):  # already broken: nothing to release
                connection.close()

    def _channel_for(self, destination: Destination) -> BlockingChannel:
        wanted = (destination.url, destination.exchange)
        if self._channel is not None and self._opened_for == wanted and self._alive():
            return self._channel
        self.close()
        if not destination.url.startswith(("amqp://", "amqps://")):
            raise DeliveryFailed(f"not an amqp:// URL: {destination.url!r}", retryable=False)
        try:
            parameters = pika.URLParameters(destination.url)
        except (ValueError, IndexError) as exc:
            raise DeliveryFailed(f"not a valid AMQP URL: {destination.url!r} ({exc})", retryable=False) from exc
        timeout = float(destination.timeout_seconds)
        parameters.socket_timeout = timeout
        parameters.stack_timeout = timeout
        parameters.blocked_connection_timeout = timeout  # broker short of memory/disk: fail, retry later
        # Heartbeats detect a dead broker while we wait for a confirm; a blocking connection only
        # answers them while it is in use, so _alive() services them before each publish.
        parameters.heartbeat = max(destination.timeout_seconds, 1)
        parameters.connection_attempts = 1
        connection = pika.BlockingConnection(parameters)
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.exchange_declare(exchange=destination.exchange, exchange_type="topic", durable=True)
        except BaseException:
            connection.close()
            raise
        self._connection, self._channel, self._opened_for = connection, channel, wanted
        return channel

    def _alive(self) -> bool:
        """Whether the kept connection still works. Processing pending I/O answers heartbeats and
        notices a connection the broker closed while we were idle."""
        connection, channel = self._connection, self._channel
        if connection is None or channel is None or not connection.is_open or not channel.is_open:
            return False
        try:
            connection.process_data_events(time_limit=0)
        except (pika.exceptions.AMQPError, OSError):
            return False
        return connection.is_open and channel.is_open


def _properties(envelope: dict[str, Any]) -> pika.BasicProperties:
    return pika.BasicProperties(
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=PERSISTENT,
        message_id=str(envelope["message_id"]),
        correlation_id=str(envelope.get("correlation_id") or "") or None,
        type=str(envelope["event_type"]),
        app_id="batchline",
        timestamp=int(_epoch(str(envelope["occurred_at"]))),
    )


def _epoch(occurred_at: str) -> float:
    return datetime.fromisoformat(occurred_at.replace("Z", "+00:00")).timestamp()
