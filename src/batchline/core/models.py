"""Core tables: the transactional outbox with its destinations and deliveries, the inbound
idempotency store and the parked inbound messages."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "pending"  # written by a business transaction, not yet fanned out
    DISPATCHED = "dispatched", "dispatched"  # one Delivery row made for each subscribed destination


class OutboxEvent(models.Model):
    """An event written in the business transaction; the relay fans it out to the destinations
    that subscribe to its type (one Delivery each) and delivers those at least once."""

    message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=100, db_index=True)
    schema_version = models.CharField(max_length=10, default="1")
    record_type = models.CharField(max_length=100)
    record_id = models.CharField(max_length=64)
    payload = models.JSONField()
    occurred_at = models.DateTimeField()
    correlation_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "id"]),
            models.Index(fields=["record_type", "record_id", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.record_type}:{self.record_id}"


class DestinationKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook (HTTPS POST, HMAC-SHA256 signed)"
    AMQP = "amqp", "AMQP 0-9-1 (RabbitMQ)"
    MQTT = "mqtt", "MQTT"


# With the relay's backoff (2 s doubling, capped at 10 min, jittered) 50 attempts keep a message
# retrying for about 3.5 to 5 hours: a receiver or broker down for an hour loses nothing.
DEFAULT_MAX_ATTEMPTS = 50


class Destination(models.Model):
    """Where events go: a webhook URL, a RabbitMQ exchange or an MQTT topic prefix, and which event
    types it takes. Configured by the plant's IT engineer; every change is audited."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=DestinationKind.choices)
    # webhook: https://host/path; amqp: amqp://user:pass@host:5672/vhost; mqtt: mqtt://host:1883
    url = models.CharField(max_length=500)
    secret = models.CharField(max_length=200, blank=True)  # webhook HMAC key; never shown after saving
    exchange = models.CharField(max_length=200, blank=True)  # amqp: durable topic exchange
    topic_prefix = models.CharField(max_length=200, blank=True)  # mqtt: <prefix>/<event_type>
    event_types = models.JSONField(default=list)  # patterns: "masterdata.material.approved", "masterdata.*", "*"
    max_attempts = models.PositiveIntegerField(default=DEFAULT_MAX_ATTEMPTS)
    timeout_seconds = models.PositiveIntegerField(default=10)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DELIVERED = "delivered", "delivered"
    DEAD = "dead", "dead-lettered"


class Delivery(models.Model):
    """One event on its way to one destination: retried with backoff, dead-lettered after
    max_attempts, replayable. Deliveries of one record to one destination go out in event order."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="deliveries")
    destination = models.ForeignKey(Destination, on_delete=models.PROTECT, related_name="deliveries")
    record_type = models.CharField(max_length=100)  # copied from the event: the ordering key
    record_id = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "destination"], name="one_delivery_per_destination")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["destination", "record_type", "record_id", "event"]),
            models.Index(fields=["destination", "status"]),
            # the relay's claim: pending deliveries in event order, without scanning the delivered ones
            models.Index(fields=["event", "id"], condition=models.Q(status="pending"), name="delivery_pending_order"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.destination_id} ({self.status})"


class ParkedStatus(models.TextChoices):
    PARKED = "parked", "parked"
    REPROCESSED = "reprocessed", "reprocessed"
    DISCARDED = "discarded", "discarded"


class ParkedMessage(models.Model):
    """An inbound message refused for data a data steward can fix (an unmapped code, an unknown
    unit): kept as received, with the refusal, until it is re-processed or discarded (MD-03)."""

    source_system = models.CharField(max_length=40)
    message_type = models.CharField(max_length=100)
    message_id = models.CharField(max_length=64)
    payload = models.JSONField()
    error_code = models.CharField(max_length=50)
    error_field = models.CharField(max_length=200, blank=True)
    error_message = models.TextField()
    status = models.CharField(max_length=12, choices=ParkedStatus.choices, default=ParkedStatus.PARKED)
    received_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "source_system"])]

    def __str__(self) -> str:
        return f"{self.source_system} {self.message_type} {self.message_id} ({self.status})"


class InboundMessage(models.Model):
    """One row per (source system, idempotency key): a replay returns the first response."""

    source = models.CharField(max_length=100)
    idempotency_key = models.CharField(max_length=200)
    endpoint = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "idempotency_key"], name="inbound_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.idempotency_key}"
