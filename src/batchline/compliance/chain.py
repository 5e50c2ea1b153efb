"""How an audit entry is hashed into its record's chain. One function, used to write and to verify."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

GENESIS = "0" * 64


def timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_digest(*, prev_hash: str, record_type: str, record_id: str, sequence: int, occurred_at: dt.datetime,
                 actor_id: int | None, actor_username: str, actor_name: str, action: str, record_label: str,
                 changes: str, reason: str, signature_id: int | None, correlation_id: str) -> str:
    material = json.dumps(
        [prev_hash, record_type, record_id, sequence, timestamp(occurred_at), actor_id, actor_username,
         actor_name, action, record_label, changes, reason, signature_id, correlation_id],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def head_line(record_type: str, record_id: str, sequence: int, head_hash: str) -> str:
    return f"{record_type}\x1f{record_id}\x1f{sequence}\x1f{head_hash}"


def heads_digest(lines: list[str]) -> str:
    """Digest over every chain head, independent of database collation (sorted here, in Python)."""
    digest = hashlib.sha256()
    for line in sorted(lines):
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
