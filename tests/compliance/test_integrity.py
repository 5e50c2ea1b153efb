"""Tamper evidence: verification finds every edited, inserted, deleted or truncated entry (AT-08).

To tamper, a test lifts the append-only triggers as the database owner could, changes rows with
raw SQL, and puts the triggers back: what verification must catch is exactly such an owner.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings

from batchline.compliance import chain, guards, integrity
from batchline.compliance.audit import record_change
from batchline.compliance.integrity import Finding, Report
from batchline.compliance.models import AuditChainHead, AuditEntry, AuditSeal

THING = "test.thing"


def write(record_id: str, count: int) -> list[AuditEntry]:
    """`count` audited changes of one record, as a service writes them."""
    with transaction.atomic():
        return [record_change(None, action="update", record_type=THING, record_id=record_id,
                              label=f"thing {record_id}", changes={"n": [n, n + 1]}, reason=f"step {n}")
                for n in range(count)]


@pytest.fixture
def trail(db: None) -> dict[str, list[AuditEntry]]:
    return {"1": write("1", 3), "2": write("2", 2)}


@contextmanager
def tampering() -> Iterator[Any]:
    guards.remove(connection)
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        guards.install(connection)


def forge(record_id: str, sequence: int, prev_hash: str, *, reason: str = "forged") -> AuditEntry:
    """An entry whose hash is computed exactly as record_change() would compute it."""
    entry = AuditEntry(occurred_at=AuditEntry.objects.latest("id").occurred_at, actor=None,
                       actor_username="system", actor_name="Batchline", action="update", record_type=THING,
                       record_id=record_id, record_label=f"thing {record_id}", sequence=sequence,
                       changes='{"n":[9,10]}', reason=reason, correlation_id="forged", prev_hash=prev_hash)
    entry.entry_hash = chain.entry_digest(
        prev_hash=prev_hash, record_type=THING, record_id=record_id, sequence=sequence,
        occurred_at=entry.occurred_at, actor_id=None, actor_username="system", actor_name="Batchline",
        action="update", record_label=entry.record_label, changes=entry.changes, reason=reason,
        signature_id=None, correlation_id="forged")
    entry.save(force_insert=True)
    return entry


def findings(report: Report, kind: str) -> list[Finding]:
    return [f for f in report.findings if f.kind == kind]


@pytest.mark.req("AT-08")
def test_clean_trail_verifies_ok_with_entry_and_record_counts(trail: dict[str, list[AuditEntry]]) -> None:
    report = integrity.verify()
    assert report.ok, report.findings
    assert report.summary().startswith("OK, 5 entries, 2 records")


@pytest.mark.req("AT-08")
def test_clean_sealed_trail_verifies_ok(trail: dict[str, list[AuditEntry]]) -> None:
    integrity.seal()
    write("1", 1)
    integrity.seal()
    write("3", 1)
    report = integrity.verify()
    assert report.ok, report.findings
    assert report.summary() == "OK, 7 entries, 3 records, 2 seals"


@pytest.mark.req("AT-08")
def test_modified_entry_is_found_by_record_and_entry(trail: dict[str, list[AuditEntry]]) -> None:
    target = trail["1"][1]
    with tampering() as cursor:
        cursor.execute("UPDATE compliance_auditentry SET reason = 'looks better' WHERE id = %s", [target.pk])
    report = integrity.verify()
    [found] = report.findings
    assert (found.kind, found.record_type, found.record_id) == ("modified", THING, "1")
    assert found.entry_id == target.pk
    assert f"{THING}:1 entry {target.pk}" in str(found)


@pytest.mark.req("AT-08")
def test_modified_value_in_changes_is_found(trail: dict[str, list[AuditEntry]]) -> None:
    target = trail["2"][0]
    with tampering() as cursor:
        cursor.execute("UPDATE compliance_auditentry SET changes = %s WHERE id = %s",
                       ['{"n":[0,5]}', target.pk])
    assert [(f.kind, f.entry_id) for f in integrity.verify().findings] == [("modified", target.pk)]


@pytest.mark.req("AT-08")
def test_forged_entry_inserted_in_the_middle_of_a_chain_is_found(trail: dict[str, list[AuditEntry]]) -> None:
    _first, second, third = trail["1"]
    with tampering() as cursor:
        # Make room at #3, then slip in a well-hashed forgery that links to #2.
        cursor.execute("UPDATE compliance_auditentry SET sequence = 4 WHERE id = %s", [third.pk])
        forged = forge("1", 3, second.entry_hash)
    report = integrity.verify()
    assert {f.record_id for f in report.findings} == {"1"}
    [link] = findings(report, "broken_link")
    assert link.entry_id == third.pk
    assert f"entry {forged.pk} (#3)" in link.detail  # the forgery is named too
    assert [f.entry_id for f in findings(report, "inserted")] == [third.pk]  # the chain outgrew its head


@pytest.mark.req("AT-08")
def test_appended_entry_without_a_head_update_is_found(trail: dict[str, list[AuditEntry]]) -> None:
    last = trail["1"][-1]
    with tampering():
        forged = forge("1", 4, last.entry_hash)
    [found] = integrity.verify().findings
    assert (found.kind, found.record_id, found.entry_id, found.sequence) == ("inserted", "1", forged.pk, 4)


@pytest.mark.req("AT-08")
def test_entry_for_a_record_without_a_chain_head_is_found(trail: dict[str, list[AuditEntry]]) -> None:
    with tampering():
        forged = forge("99", 1, chain.GENESIS)
    [found] = integrity.verify().findings
    assert (found.kind, found.record_id, found.entry_id) == ("inserted", "99", forged.pk)


@pytest.mark.req("AT-08")
def test_deleted_middle_entry_is_found(trail: dict[str, list[AuditEntry]]) -> None:
    _first, second, third = trail["1"]
    with tampering() as cursor:
        cursor.execute("DELETE FROM compliance_auditentry WHERE id = %s", [second.pk])
    [found] = integrity.verify().findings
    assert (found.kind, found.record_id, found.entry_id) == ("deleted", "1", third.pk)
    assert "#2" in found.detail


@pytest.mark.req("AT-08")
def test_deleted_entry_with_the_rest_renumbered_is_found(trail: dict[str, list[AuditEntry]]) -> None:
    _first, second, third = trail["1"]
    with tampering() as cursor:
        cursor.execute("DELETE FROM compliance_auditentry WHERE id = %s", [second.pk])
        cursor.execute("UPDATE compliance_auditentry SET sequence = 2 WHERE id = %s", [third.pk])
        cursor.execute("UPDATE compliance_auditchainhead SET sequence = 2 "
                       "WHERE record_type = %s AND record_id = '1'", [THING])
    report = integrity.verify()
    assert not report.ok
    assert {(f.record_id, f.entry_id) for f in report.findings} == {("1", third.pk)}


@pytest.mark.req("AT-08")
def test_truncated_chain_tail_is_found(trail: dict[str, list[AuditEntry]]) -> None:
    last = trail["1"][-1]
    with tampering() as cursor:
        cursor.execute("DELETE FROM compliance_auditentry WHERE id = %s", [last.pk])
    [found] = integrity.verify().findings
    assert (found.kind, found.record_type, found.record_id) == ("truncated", THING, "1")
    assert "#3" in found.detail


@pytest.mark.req("AT-08")
def test_truncated_table_is_found_for_every_record(trail: dict[str, list[AuditEntry]]) -> None:
    with tampering() as cursor:
        cursor.execute("DELETE FROM compliance_auditentry")
    report = integrity.verify()
    assert {(f.kind, f.record_id) for f in report.findings} == {("truncated", "1"), ("truncated", "2")}


@pytest.mark.req("AT-08")
def test_truncated_table_and_chain_heads_are_found_by_the_seal(trail: dict[str, list[AuditEntry]]) -> None:
    integrity.seal()
    with tampering() as cursor:
        cursor.execute("DELETE FROM compliance_auditentry")
        cursor.execute("DELETE FROM compliance_auditchainhead")
    report = integrity.verify()
    assert "truncated" in {f.kind for f in report.findings}
    assert "covers 5 entries" in " ".join(f.detail for f in report.findings)


@pytest.mark.req("AT-08")
def test_rewritten_chain_with_recomputed_hashes_and_head_is_found_by_the_seal(
        trail: dict[str, list[AuditEntry]]) -> None:
    integrity.seal()
    first, second, third = trail["1"]
    with tampering() as cursor:
        # The owner deletes #2 and #3 and re-creates them with a different reason, hashes and head.
        cursor.execute("DELETE FROM compliance_auditentry WHERE id IN (%s, %s)", [second.pk, third.pk])
        forged_second = forge("1", 2, first.entry_hash, reason="rewritten")
        forged_third = forge("1", 3, forged_second.entry_hash, reason="rewritten")
        cursor.execute("UPDATE compliance_auditchainhead SET head_hash = %s "
                       "WHERE record_type = %s AND record_id = '1'", [forged_third.entry_hash, THING])
    report = integrity.verify()
    assert not report.ok
    assert "chain heads differ" in " ".join(f.detail for f in report.findings)


@pytest.mark.req("AT-08")
def test_seal_edited_to_cover_a_truncation_is_found(trail: dict[str, list[AuditEntry]]) -> None:
    sealed = integrity.seal()
    with tampering() as cursor:
        cursor.execute("UPDATE compliance_auditseal SET entry_count = 0 WHERE id = %s", [sealed.pk])
    report = integrity.verify()
    assert [f.detail for f in findings(report, "seal")] == [f"seal {sealed.pk} is not authentic"]


@pytest.mark.req("AT-08")
def test_seal_made_without_the_seal_key_is_found(trail: dict[str, list[AuditEntry]]) -> None:
    with override_settings(AUDIT_SEAL_KEY="guessed-by-someone-with-database-access"):
        forged = integrity.seal()
    report = integrity.verify()
    assert [f.detail for f in findings(report, "seal")] == [f"seal {forged.pk} is not authentic"]


@pytest.mark.req("AT-08")
def test_deleted_seal_is_found_by_the_next_seal(trail: dict[str, list[AuditEntry]]) -> None:
    first = integrity.seal()
    integrity.seal()
    with tampering() as cursor:
        cursor.execute("DELETE FROM compliance_auditseal WHERE id = %s", [first.pk])
    assert findings(integrity.verify(), "seal")


@pytest.mark.req("AT-08")
def test_verification_walks_real_service_chains(kg: Any) -> None:
    entry = AuditEntry.objects.get(record_type="masterdata.unit", record_id=str(kg.pk), action="approve")
    assert integrity.verify().ok
    with tampering() as cursor:
        cursor.execute("UPDATE compliance_auditentry SET actor_username = 'x' WHERE id = %s", [entry.pk])
    assert [(f.kind, f.record_type, f.entry_id) for f in integrity.verify().findings] == [
        ("modified", "masterdata.unit", entry.pk)]


# --- the command ---------------------------------------------------------------------------------

@pytest.mark.req("AT-08")
def test_verify_command_prints_ok_for_a_clean_trail(trail: dict[str, list[AuditEntry]]) -> None:
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().strip() == "OK, 5 entries, 2 records, 0 seals"


@pytest.mark.req("AT-08")
def test_verify_command_lists_findings_and_exits_1_when_tampered(trail: dict[str, list[AuditEntry]]) -> None:
    target = trail["2"][1]
    with tampering() as cursor:
        cursor.execute("UPDATE compliance_auditentry SET reason = 'x' WHERE id = %s", [target.pk])
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("audit", "verify", stdout=out)
    assert failed.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"MODIFIED: {THING}:2 entry {target.pk} (#2)")
    assert lines[-1].startswith("FAILED: 1 problem(s) in 5 entries, 2 records")


@pytest.mark.req("AT-08")
def test_seal_command_reports_what_it_sealed(trail: dict[str, list[AuditEntry]]) -> None:
    out = io.StringIO()
    call_command("audit", "seal", stdout=out)
    seal = AuditSeal.objects.get()
    assert out.getvalue().strip() == f"Sealed 5 entries in 2 records (seal {seal.pk})."
    assert AuditChainHead.objects.count() == seal.chain_count == 2
