"""Audit trail, chain heads, seals and e-signatures. All append-only except the chain heads."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models


class Signature(models.Model):
    """An electronic signature (21 CFR 11.50/11.70): who, when, meaning, bound to the content hash.

    Name and meaning are snapshots: later changes to the account never alter a signature (ES-02).
    """

    record_type = models.CharField(max_length=100)
    record_id = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64)
    meaning = models.CharField(max_length=100)
    meaning_en = models.CharField(max_length=200)
    meaning_zh = models.CharField(max_length=200)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_username = models.CharField(max_length=64)
    signer_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    comment = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["record_type", "record_id"])]

    def __str__(self) -> str:
        return f"{self.signer_name} – {self.meaning_en} – {self.signed_at:%Y-%m-%d %H:%M:%S}Z"


class AuditEntry(models.Model):
    """One create/change/void/sign of a GMP record. The database refuses UPDATE and DELETE (AT-03).

    `entry_hash` = SHA-256 over `prev_hash` and the entry's content (see compliance.chain), linking
    the entries of one record into a chain whose head is kept in AuditChainHead.
    """

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_username = models.CharField(max_length=64)
    actor_name = models.CharField(max_length=200)
    action = models.CharField(max_length=50, db_index=True)
    record_type = models.CharField(max_length=100)
    record_id = models.CharField(max_length=64)
    record_label = models.CharField(max_length=200, blank=True)
    sequence = models.PositiveIntegerField()
    changes = models.TextField()  # canonical JSON {"field": [old, new]}: exactly the bytes hashed
    reason = models.TextField(blank=True)
    signature = models.ForeignKey(Signature, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    correlation_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id", "sequence"], name="audit_chain_position"),
        ]
        indexes = [
            models.Index(fields=["actor_username", "occurred_at"]),
            models.Index(fields=["record_type", "occurred_at"]),
        ]
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.record_type}:{self.record_id} #{self.sequence} {self.action}"

    @property
    def change_items(self) -> list[tuple[str, Any, Any]]:
        return [(field, pair[0], pair[1]) for field, pair in json.loads(self.changes).items()]


class AuditChainHead(models.Model):
    """The last entry of each record's chain. Locked per record: writers never share a global lock."""

    record_type = models.CharField(max_length=100)
    record_id = models.CharField(max_length=64)
    sequence = models.PositiveIntegerField()
    head_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record_type", "record_id"], name="audit_chain_head")]

    def __str__(self) -> str:
        return f"{self.record_type}:{self.record_id} head #{self.sequence}"


class AuditSeal(models.Model):
    """A periodic HMAC over the state of every chain up to `through_entry_id` (append-only)."""

    sealed_at = models.DateTimeField()
    through_entry_id = models.BigIntegerField()
    entry_count = models.BigIntegerField()
    chain_count = models.BigIntegerField()
    heads_digest = models.CharField(max_length=64)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"seal {self.pk}: {self.entry_count} entries through {self.through_entry_id}"
