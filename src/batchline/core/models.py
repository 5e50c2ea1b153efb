"""Core tables: the transactional outbox and the inbound idempotency store."""

from __future__ import annotations

import uuid

from django.db import models


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DELIVERED = "delivered", "delivered"
    DEAD = "dead", "dead-lettered"


class OutboxEvent(models.Model):
    """An event written in the business transaction; a relay delivers it later, at least once."""

    message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=100, db_index=True)
    schema_version = models.CharField(max_length=10, default="1")
    record_type = models.CharField(max_length=100)
    record_id = models.CharField(max_length=64)
    payload = models.JSONField()
    occurred_at = models.DateTimeField()
    correlation_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["record_type", "record_id", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.record_type}:{self.record_id}"


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
