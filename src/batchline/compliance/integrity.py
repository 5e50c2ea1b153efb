"""Seal and verify the audit trail (AT-08): `batchline audit seal` and `batchline audit verify`.

Verification recomputes every entry's hash and every chain's links, compares each chain with its
stored head, and checks every seal's HMAC, entry count and (for the latest seal) the digest of all
chain heads. An edited entry breaks its hash; an inserted or deleted one breaks the sequence or the
links; a truncated chain or table disagrees with its head and with the seals.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max

from batchline.compliance import chain
from batchline.compliance.audit import SEAL_LOCK_KEY
from batchline.compliance.models import AuditChainHead, AuditEntry, AuditSeal
from batchline.core import clock
from batchline.core.canonical import canonical_json

ENTRY_FIELDS = ("id", "record_type", "record_id", "sequence", "occurred_at", "actor_id", "actor_username",
                "actor_name", "action", "record_label", "changes", "reason", "signature_id", "correlation_id",
                "prev_hash", "entry_hash")


def _seal_mac(*, sealed_at: str, through_entry_id: int, entry_count: int, chain_count: int, heads_digest: str,
              prev_mac: str) -> str:
    message = canonical_json({
        "sealed_at": sealed_at, "through_entry_id": through_entry_id, "entry_count": entry_count,
        "chain_count": chain_count, "heads_digest": heads_digest, "prev_mac": prev_mac,
    })
    return hmac.new(settings.AUDIT_SEAL_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def seal() -> AuditSeal:
    """Seal every chain as it stands now. Waits for audit writers in flight, blocks new ones briefly."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        stats = AuditEntry.objects.aggregate(through=Max("id"), count=Count("id"))
        heads = AuditChainHead.objects.values_list("record_type", "record_id", "sequence", "head_hash")
        lines = [chain.head_line(*row) for row in heads.iterator(chunk_size=5000)]
        previous = AuditSeal.objects.order_by("-id").first()
        sealed_at = clock.now()
        values = {
            "sealed_at": chain.timestamp(sealed_at),
            "through_entry_id": stats["through"] or 0,
            "entry_count": stats["count"],
            "chain_count": len(lines),
            "heads_digest": chain.heads_digest(lines),
            "prev_mac": previous.mac if previous else "",
        }
        return AuditSeal.objects.create(
            sealed_at=sealed_at, through_entry_id=values["through_entry_id"], entry_count=values["entry_count"],
            chain_count=values["chain_count"], heads_digest=values["heads_digest"], prev_mac=values["prev_mac"],
            mac=_seal_mac(**values),
        )


@dataclass
class Finding:
    kind: str  # modified | inserted | deleted | broken_link | truncated | seal
    record_type: str
    record_id: str
    entry_id: int | None
    sequence: int | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.record_type}:{self.record_id}" if self.record_type else "seal"
        entry = f" entry {self.entry_id}" if self.entry_id is not None else ""
        seq = f" (#{self.sequence})" if self.sequence is not None else ""
        return f"{self.kind.upper()}: {where}{entry}{seq}: {self.detail}"


@dataclass
class Report:
    entries: int = 0
    records: int = 0
    seals: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        if self.ok:
            return f"OK, {self.entries} entries, {self.records} records, {self.seals} seals"
        return f"FAILED: {len(self.findings)} problem(s) in {self.entries} entries, {self.records} records"


class _ChainCheck:
    """Walks one record's entries in sequence order."""

    def __init__(self, report: Report, record_type: str, record_id: str, head_sequence: int | None) -> None:
        self.report, self.record_type, self.record_id = report, record_type, record_id
        self.head_sequence = head_sequence  # None: the record has no chain head
        self.expected, self.prev_hash = 1, chain.GENESIS
        self.last_sequence, self.last_hash = 0, chain.GENESIS
        self.last_entry_id: int | None = None
        self.sealed_line: str | None = None

    def problem(self, kind: str, entry_id: int | None, sequence: int | None, detail: str) -> None:
        self.report.findings.append(Finding(kind, self.record_type, self.record_id, entry_id, sequence, detail))

    def add(self, row: tuple, sealed_through: int) -> None:
        (entry_id, rtype, rid, sequence, occurred_at, actor_id, actor_username, actor_name, action, label,
         changes, reason, signature_id, correlation_id, prev_hash, entry_hash) = row
        if sequence > self.expected:
            self.problem("deleted", entry_id, sequence,
                         f"entries #{self.expected}..#{sequence - 1} are missing before this one")
        elif sequence < self.expected:
            self.problem("inserted", entry_id, sequence, f"sequence #{sequence} repeats or goes backwards")
        elif prev_hash != self.prev_hash:
            # Which side is false cannot be told from the link alone: name both entries.
            previous = (f"entry {self.last_entry_id} (#{self.last_sequence})"
                        if self.last_entry_id is not None else "the start of the chain")
            self.problem("broken_link", entry_id, sequence,
                         f"does not link to {previous}: an entry was inserted, removed or rewritten "
                         "before it")
        recomputed = chain.entry_digest(
            prev_hash=prev_hash, record_type=rtype, record_id=rid, sequence=sequence, occurred_at=occurred_at,
            actor_id=actor_id, actor_username=actor_username, actor_name=actor_name, action=action,
            record_label=label, changes=changes, reason=reason, signature_id=signature_id,
            correlation_id=correlation_id,
        )
        if recomputed != entry_hash:
            self.problem("modified", entry_id, sequence, "content does not match its hash")
        if self.head_sequence is None:
            self.problem("inserted", entry_id, sequence, "the record has no chain head")
        elif sequence > self.head_sequence:
            self.problem("inserted", entry_id, sequence, f"beyond the chain head #{self.head_sequence}")
        self.expected = sequence + 1
        self.prev_hash = entry_hash
        self.last_sequence, self.last_hash, self.last_entry_id = sequence, entry_hash, entry_id
        if entry_id <= sealed_through:
            self.sealed_line = chain.head_line(rtype, rid, sequence, entry_hash)


def verify(progress: Callable[[int, int], None] | None = None) -> Report:
    report = Report()
    seals = list(AuditSeal.objects.order_by("id"))
    report.seals = len(seals)
    _verify_seal_macs(seals, report)
    latest = seals[-1] if seals else None
    sealed_through = latest.through_entry_id if latest else 0
    thresholds = [s.through_entry_id for s in seals]
    counts_at = [0] * (len(thresholds) + 1)

    heads = {(t, r): (s, h) for t, r, s, h in
             AuditChainHead.objects.values_list("record_type", "record_id", "sequence", "head_hash").iterator()}
    total = AuditEntry.objects.count()
    sealed_lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    current: _ChainCheck | None = None

    def close(check: _ChainCheck) -> None:
        key = (check.record_type, check.record_id)
        seen.add(key)
        head = heads.get(key)
        # A missing head and entries beyond the head were reported entry by entry in add().
        if head is not None and head[0] > check.last_sequence:
            check.problem("truncated", None, check.last_sequence,
                          f"chain ends at #{check.last_sequence} but its head records #{head[0]}")
        elif head is not None and head[0] == check.last_sequence and head[1] != check.last_hash:
            check.problem("modified", check.last_entry_id, check.last_sequence,
                          "last entry does not match the chain head")
        if check.sealed_line:
            sealed_lines.append(check.sealed_line)

    rows = (AuditEntry.objects.order_by("record_type", "record_id", "sequence", "id")
            .values_list(*ENTRY_FIELDS).iterator(chunk_size=5000))
    for row in rows:
        report.entries += 1
        counts_at[bisect.bisect_left(thresholds, row[0])] += 1
        if current is None or (row[1], row[2]) != (current.record_type, current.record_id):
            if current is not None:
                close(current)
            head = heads.get((row[1], row[2]))
            current = _ChainCheck(report, row[1], row[2], head[0] if head else None)
        current.add(row, sealed_through)
        if progress and report.entries % 10000 == 0:
            progress(report.entries, total)
    if current is not None:
        close(current)
    report.records = len(seen)

    for (rtype, rid), (sequence, _hash) in heads.items():
        if (rtype, rid) not in seen:
            report.findings.append(Finding("truncated", rtype, rid, None, sequence,
                                           f"all {sequence} entries of this record are gone"))
    _verify_seal_contents(seals, counts_at, sealed_lines, report)
    if progress:
        progress(report.entries, total)
    return report


def _verify_seal_macs(seals: list[AuditSeal], report: Report) -> None:
    prev_mac = ""
    for item in seals:
        expected = _seal_mac(sealed_at=chain.timestamp(item.sealed_at), through_entry_id=item.through_entry_id,
                             entry_count=item.entry_count, chain_count=item.chain_count,
                             heads_digest=item.heads_digest, prev_mac=item.prev_mac)
        if not hmac.compare_digest(expected, item.mac) or item.prev_mac != prev_mac:
            report.findings.append(Finding("seal", "", "", None, None, f"seal {item.pk} is not authentic"))
        prev_mac = item.mac


def _verify_seal_contents(seals: list[AuditSeal], counts_at: list[int], sealed_lines: list[str],
                          report: Report) -> None:
    running = 0
    for index, item in enumerate(seals):
        running += counts_at[index]
        if running != item.entry_count:
            kind = "truncated" if running < item.entry_count else "inserted"
            report.findings.append(Finding(
                kind, "", "", None, None,
                f"seal {item.pk} covers {item.entry_count} entries up to id {item.through_entry_id}; "
                f"{running} are there now"))
    if seals and chain.heads_digest(sealed_lines) != seals[-1].heads_digest:
        report.findings.append(Finding("modified", "", "", None, None,
                                       f"chain heads differ from those sealed in seal {seals[-1].pk}"))
