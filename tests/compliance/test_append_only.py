"""The database itself refuses UPDATE and DELETE of audit entries, signatures and seals (AT-03)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from batchline.compliance import integrity
from batchline.compliance.models import AuditEntry, AuditSeal, Signature
from conftest import on_postgresql, requires_postgresql

TABLES = ("compliance_auditentry", "compliance_signature", "compliance_auditseal")


@pytest.fixture
def filled(kg: Any) -> None:
    """At least one row in each guarded table: a trigger on rows only fires when there are rows."""
    integrity.seal()
    assert AuditEntry.objects.exists() and Signature.objects.exists() and AuditSeal.objects.exists()


def refused(sql: str) -> str:
    with pytest.raises(DatabaseError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    return str(error.value)


@pytest.mark.req("AT-03")
@pytest.mark.parametrize("table", TABLES)
def test_raw_update_is_refused_by_the_database(filled: None, table: str) -> None:
    assert "append-only" in refused(f"UPDATE {table} SET id = id")


@pytest.mark.req("AT-03")
@pytest.mark.parametrize("table", TABLES)
def test_raw_delete_of_one_row_is_refused_by_the_database(filled: None, table: str) -> None:
    assert "append-only" in refused(f"DELETE FROM {table} WHERE id = (SELECT MIN(id) FROM {table})")


@pytest.mark.req("AT-03")
@pytest.mark.parametrize("table", TABLES)
def test_raw_delete_of_the_whole_table_is_refused_by_the_database(filled: None, table: str) -> None:
    assert "append-only" in refused(f"DELETE FROM {table}")


@pytest.mark.req("AT-03")
@requires_postgresql
@pytest.mark.parametrize("table", TABLES)
def test_truncate_is_refused_by_the_database(filled: None, table: str) -> None:
    assert on_postgresql()
    # The test's rows are not committed: check their deferred foreign keys now, or PostgreSQL refuses
    # TRUNCATE for "pending trigger events" before the append-only trigger is even reached.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert "append-only" in refused(f"TRUNCATE {table} CASCADE")


@pytest.mark.req("AT-03")
def test_orm_update_of_an_audit_entry_is_refused(filled: None) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.update(reason="rewritten")


@pytest.mark.req("AT-03")
def test_orm_delete_of_an_audit_entry_is_refused(filled: None) -> None:
    entry = AuditEntry.objects.first()
    assert entry is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.delete()


@pytest.mark.req("AT-03")
def test_refused_tampering_leaves_the_entries_as_they_were(filled: None) -> None:
    before = list(AuditEntry.objects.order_by("id").values_list("id", "reason", "entry_hash"))
    refused("UPDATE compliance_auditentry SET reason = 'rewritten'")
    refused("DELETE FROM compliance_auditentry")
    assert list(AuditEntry.objects.order_by("id").values_list("id", "reason", "entry_hash")) == before
