"""The status machine (EQ-01): one table of steps; every change is logged automatically, chronologically,
in an append-only logbook, with an audit entry and an outbox event."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from batchline.compliance.models import AuditEntry
from batchline.core.errors import PermissionDenied, ReasonRequired
from batchline.core.models import OutboxEvent
from batchline.equipment import status
from batchline.equipment.choices import CleaningState, EquipmentStatus, LogKind
from batchline.equipment.errors import EquipmentNotUsable, StatusTransitionNotAllowed
from batchline.equipment.models import CleaningRecord, LogbookEntry
from conftest import sig
from equipment.plant import (  # noqa: F401
    at_fixture,
    calibrate_fixture,
    clean_fixture,
    eq_fixture,
    fresh,
    qualify_fixture,
    register_fixture,
    usable_fixture,
)

S = EquipmentStatus


def test_the_table_has_no_step_into_the_same_status() -> None:
    assert all(t.source != t.target for t in status.TRANSITIONS)


def test_only_release_leaves_quarantine() -> None:
    assert {t.action for t in status.allowed_steps(S.QUARANTINED)} == {"release"}
    assert all(t.signed for t in status.allowed_steps(S.QUARANTINED))


@pytest.mark.req("EQ-01")
def test_use_and_end_of_use_are_logged_and_the_product_stays_as_last_product(eq: Any, usable: Any) -> None:
    equipment = usable()
    status.start_use(actor=eq.operator, equipment_id=equipment.pk, order="MO-2026-001", product="P-PARA")
    equipment = fresh(equipment)
    assert equipment.status == S.IN_USE and equipment.current_order == "MO-2026-001"
    assert equipment.current_product.code == "P-PARA"
    status.end_use(actor=eq.operator, equipment_id=equipment.pk)
    equipment = fresh(equipment)
    assert equipment.status == S.DIRTY and equipment.current_product is None
    assert equipment.last_product.code == "P-PARA" and equipment.dirty_since is not None
    uses = LogbookEntry.objects.filter(equipment=equipment, kind=LogKind.USE)
    assert [(e.status_before, e.status_after) for e in uses] == [(S.CLEAN, S.IN_USE), (S.IN_USE, S.DIRTY)]
    assert all(e.reference == "MO-2026-001" for e in uses)
    events = OutboxEvent.objects.filter(event_type=status.STATUS_CHANGED, payload__action__in=["start_use", "end_use"])
    assert [e.payload["status"] for e in events.order_by("id")] == [S.IN_USE, S.DIRTY]


@pytest.mark.req("EQ-01")
def test_the_logbook_is_chronological(eq: Any, usable: Any, at: Any) -> None:
    equipment = usable()
    for order in ("MO-1", "MO-2"):
        at.advance(hours=1)
        status.start_use(actor=eq.operator, equipment_id=equipment.pk, order=order, product="P-PARA")
        at.advance(hours=3)
        status.end_use(actor=eq.operator, equipment_id=equipment.pk)
        equipment = fresh(equipment)
        if order == "MO-1":
            from batchline.equipment import cleaning

            record = cleaning.start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="minor")
            cleaning.finish_cleaning(actor=eq.operator, equipment_id=equipment.pk, cleaning_id=record.pk)
            cleaning.verify_cleaning(actor=eq.verifier, equipment_id=equipment.pk, cleaning_id=record.pk,
                                     signature=sig(eq.verifier, "verify"))
    entries = list(LogbookEntry.objects.filter(equipment=equipment))
    times = [e.occurred_at for e in entries]
    assert times == sorted(times) and len(entries) >= 9
    assert entries[0].kind == LogKind.REGISTERED and entries[-1].status_after == S.DIRTY


@pytest.mark.req("EQ-01")
@pytest.mark.parametrize("statement", ["UPDATE equipment_logbookentry SET text = 'edited'",
                                       "DELETE FROM equipment_logbookentry"])
def test_the_logbook_is_append_only(register: Any, statement: str) -> None:
    register()
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert "append-only" in str(refusal.value)
    assert LogbookEntry.objects.get().text.startswith("Registered")


def test_a_step_the_table_does_not_have_is_refused(eq: Any, register: Any) -> None:
    equipment = register()  # dirty
    with pytest.raises(StatusTransitionNotAllowed):
        status.end_use(actor=eq.operator, equipment_id=equipment.pk)
    assert fresh(equipment).status == S.DIRTY


@pytest.mark.req("EQ-02")
def test_start_use_asks_the_usability_check(eq: Any, register: Any) -> None:
    equipment = register()  # dirty, never qualified
    with pytest.raises(EquipmentNotUsable) as refusal:
        status.start_use(actor=eq.operator, equipment_id=equipment.pk, order="MO-1", product="P-PARA")
    assert set(refusal.value.reason_codes) == {"status", "not_qualified"}
    assert fresh(equipment).status == S.DIRTY


def test_maintenance_needs_a_reason(eq: Any, usable: Any) -> None:
    equipment = usable()
    with pytest.raises(ReasonRequired):
        status.take_out_of_use(actor=eq.operator, equipment_id=equipment.pk, status=S.MAINTENANCE, reason="")


def test_quarantine_is_a_qa_decision(eq: Any, usable: Any) -> None:
    equipment = usable()
    with pytest.raises(PermissionDenied):
        status.take_out_of_use(actor=eq.operator, equipment_id=equipment.pk, status=S.QUARANTINED, reason="suspect")
    status.take_out_of_use(actor=eq.qa, equipment_id=equipment.pk, status=S.QUARANTINED, reason="Deviation DV-7")
    assert fresh(equipment).status == S.QUARANTINED


def test_taking_equipment_in_use_out_of_use_ends_the_use(eq: Any, usable: Any) -> None:
    equipment = usable()
    status.start_use(actor=eq.operator, equipment_id=equipment.pk, order="MO-1", product="P-PARA")
    status.take_out_of_use(actor=eq.operator, equipment_id=equipment.pk, status=S.MAINTENANCE,
                           reason="Impeller seal leaking")
    equipment = fresh(equipment)
    assert equipment.status == S.MAINTENANCE and equipment.last_product.code == "P-PARA"
    assert equipment.current_order == "" and equipment.dirty_since is not None


def test_an_interrupted_cleaning_must_be_done_again(eq: Any, usable: Any) -> None:
    from batchline.equipment.cleaning import start_cleaning

    equipment = usable()
    record = start_cleaning(actor=eq.operator, equipment_id=equipment.pk, clean_type="major")
    status.take_out_of_use(actor=eq.operator, equipment_id=equipment.pk, status=S.OUT_OF_SERVICE,
                           reason="Spray ball blocked")
    record.refresh_from_db()
    assert record.state == CleaningState.REJECTED
    assert not CleaningRecord.objects.filter(state__in=[CleaningState.IN_PROGRESS, CleaningState.DONE]).exists()


@pytest.mark.req("EQ-01")
def test_release_is_signed_by_qa_and_the_equipment_needs_a_major_clean(eq: Any, usable: Any) -> None:
    equipment = usable()
    status.take_out_of_use(actor=eq.operator, equipment_id=equipment.pk, status=S.MAINTENANCE, reason="PM-2026-03")
    with pytest.raises(PermissionDenied):
        status.release_equipment(actor=eq.operator, equipment_id=equipment.pk, reason="done",
                                 signature=sig(eq.operator, "release"))
    status.release_equipment(actor=eq.qa, equipment_id=equipment.pk, reason="Preventive maintenance PM-2026-03 done",
                             signature=sig(eq.qa, "release"))
    equipment = fresh(equipment)
    assert equipment.status == S.DIRTY and equipment.major_clean_required
    audit = AuditEntry.objects.filter(record_type="equipment.equipment", action="release").get()
    assert audit.signature is not None and audit.signature.meaning == "release"
    assert audit.signature.signer_username == eq.qa.username


def test_release_only_from_maintenance_out_of_service_or_quarantine(eq: Any, usable: Any) -> None:
    equipment = usable()
    with pytest.raises(StatusTransitionNotAllowed):
        status.release_equipment(actor=eq.qa, equipment_id=equipment.pk, reason="why not",
                                 signature=sig(eq.qa, "release"))


def test_a_wrong_signature_password_releases_nothing(eq: Any, usable: Any) -> None:
    from batchline.identity.errors import AuthenticationFailed

    equipment = usable()
    status.take_out_of_use(actor=eq.qa, equipment_id=equipment.pk, status=S.QUARANTINED, reason="DV-9")
    with pytest.raises(AuthenticationFailed):
        status.release_equipment(actor=eq.qa, equipment_id=equipment.pk, reason="closed",
                                 signature=sig(eq.qa, "release", password="wrong-password"))
    assert fresh(equipment).status == S.QUARANTINED
