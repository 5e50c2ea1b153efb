"""record_change(): the audit entry and the outbox event of a business action, in its transaction.

Every service that creates, changes, voids or signs a GMP record calls it exactly once per record
touched, inside its `transaction.atomic()` block (DESIGN.md §3.2).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection, models

from batchline.compliance import chain
from batchline.compliance.models import AuditChainHead, AuditEntry, Signature
from batchline.core import clock
from batchline.core.canonical import canonical_json
from batchline.core.context import correlation_id
from batchline.core.errors import ReasonRequired, ensure
from batchline.core.outbox import emit

# Writers take this advisory lock shared, the sealer exclusively: sealing waits for in-flight
# writers and writers never wait for each other (no global lock on the write path).
SEAL_LOCK_KEY = 0x42A7C4


def record_type_of(record: models.Model) -> str:
    return f"{record._meta.app_label}.{record._meta.model_name}"


def require_reason(reason: str | None, *, field: str = "reason") -> str:
    """Changing a recorded value or an approved record needs a reason (AT-02)."""
    text = (reason or "").strip()
    ensure(text, ReasonRequired(field=field))
    return text


def plain(value: Any) -> Any:
    """A value as the audit trail shows it: model instances by their natural label, Decimal exact."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, Decimal | dt.date | dt.datetime):
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


# The chain head is read, locked and moved with plain SQL: these two statements run in every audited
# transaction, and through the ORM they cost about as much Python time as everything else record_change
# does (bench/audit.py, docs/performance.md). Same statements, same locks as the ORM would issue.
_HEAD_TABLE = AuditChainHead._meta.db_table


def _lock_chain_head(record_type: str, record_id: str) -> tuple[int, int, str]:
    """(id, sequence, head_hash) of the record's chain head, row-locked until commit.

    A new chain first gets a head at sequence 0 (inserted unless a concurrent writer's is already
    there), so that concurrent first writers of one record queue on that row instead of colliding
    on the entry's unique (record, sequence). It commits only together with entry #1.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [SEAL_LOCK_KEY])
        # SQLite has no row locks: the IMMEDIATE transaction already holds the database's write lock.
        for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
        select = (f"SELECT id, sequence, head_hash FROM {_HEAD_TABLE} "  # noqa: S608 (constant table name)
                  f"WHERE record_type = %s AND record_id = %s{for_update}")
        cursor.execute(select, [record_type, record_id])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(f"INSERT INTO {_HEAD_TABLE} (record_type, record_id, sequence, head_hash) "  # noqa: S608
                           "VALUES (%s, %s, 0, %s) ON CONFLICT DO NOTHING",
                           [record_type, record_id, chain.GENESIS])
            cursor.execute(select, [record_type, record_id])
            row = cursor.fetchone()
    return (row[0], row[1], row[2])


def _move_chain_head(head_id: int, sequence: int, head_hash: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_HEAD_TABLE} SET sequence = %s, head_hash = %s WHERE id = %s",  # noqa: S608
                       [sequence, head_hash, head_id])


def record_change(actor: Any, record: models.Model | None = None, *, action: str,
                  changes: dict[str, list[Any]] | None = None, reason: str = "",
                  signature: Signature | None = None, event: str | None = None,
                  payload: dict[str, Any] | None = None, record_type: str | None = None,
                  record_id: Any = None, label: str | None = None) -> AuditEntry:
    if not connection.in_atomic_block:
        raise RuntimeError("record_change() must run inside the business transaction")
    rtype = record_type or record_type_of(record)  # type: ignore[arg-type]
    rid = str(record_id if record_id is not None else record.pk)  # type: ignore[union-attr]
    rlabel = label if label is not None else (str(record) if record is not None else "")
    head_id, head_sequence, prev_hash = _lock_chain_head(rtype, rid)
    sequence = head_sequence + 1
    entry = AuditEntry(
        occurred_at=clock.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_username=getattr(actor, "username", "system"),
        actor_name=getattr(actor, "full_name", "Batchline"),
        action=action,
        record_type=rtype,
        record_id=rid,
        record_label=rlabel[:200],
        sequence=sequence,
        changes=canonical_json(changes or {}),
        reason=reason,
        signature=signature,
        correlation_id=correlation_id(),
        prev_hash=prev_hash,
    )
    entry.entry_hash = chain.entry_digest(
        prev_hash=prev_hash, record_type=rtype, record_id=rid, sequence=sequence,
        occurred_at=entry.occurred_at, actor_id=entry.actor_id, actor_username=entry.actor_username,
        actor_name=entry.actor_name, action=action, record_label=entry.record_label, changes=entry.changes,
        reason=reason, signature_id=signature.pk if signature else None, correlation_id=entry.correlation_id,
    )
    entry.save(force_insert=True)
    _move_chain_head(head_id, sequence, entry.entry_hash)
    if event:
        emit(event, record_type=rtype, record_id=rid, payload=payload if payload is not None else {})
    return entry
