"""The base of the warehouse: goods receipt into quarantine (WMS-01), the stock ledger it writes,
the lot status machine (WMS-03) and the one usability rule (WMS-04)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from batchline.compliance.models import AuditEntry
from batchline.core.errors import DomainError
from batchline.core.models import OutboxEvent
from batchline.inventory.models import Container, Lot, Movement, StockBalance
from batchline.inventory.usability import ensure_usable, lot_state, today, usable_lots_q


@pytest.mark.req("WMS-01")
def test_a_receipt_creates_a_quarantined_lot_with_containers_balances_and_movements(wh: Any, receive: Any) -> None:
    lot = receive("API-01", containers=3, each="25", last="12.5")
    assert lot.status == "quarantine" and lot.supplier_lot == "S-LOT-1" and lot.inspection_required
    assert lot.expires_on == lot.manufactured_on + timedelta(days=720)
    assert lot.retest_on == lot.manufactured_on + timedelta(days=365)
    codes = list(Container.objects.filter(lot=lot).values_list("code", flat=True))
    assert codes == [f"{lot.number}-001", f"{lot.number}-002", f"{lot.number}-003"]
    balances = StockBalance.objects.filter(lot=lot).order_by("container__serial")
    assert [b.on_hand for b in balances] == [Decimal("25"), Decimal("25"), Decimal("12.5")]
    assert {b.location.code for b in balances} == {"RCV-01"}
    assert Movement.objects.filter(lot=lot, movement_type="receipt").count() == 3
    wh.lines["API-01"].refresh_from_db()
    assert wh.lines["API-01"].received_quantity == Decimal("62.5")
    events = list(OutboxEvent.objects.filter(record_id=str(lot.pk)).values_list("event_type", flat=True))
    assert events.count("inventory.movement.receipt") == 3
    assert "inventory.lot.received" in events and "inventory.lot.inspection_needed" in events
    assert AuditEntry.objects.filter(record_type="inventory.lot", record_id=str(lot.pk), action="receive").exists()


def test_quantities_in_another_unit_are_converted_to_the_base_unit(wh: Any, receive: Any) -> None:
    lot = receive("EXC-01", containers=1, each="2500", unit="g")
    assert StockBalance.objects.get(lot=lot).on_hand == Decimal("2.5")
    assert not lot.inspection_required


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"containers": 0}, "containers"),
    ({"each": "0"}, "quantity_per_container"),
    ({"each": "abc"}, "quantity_per_container"),
    ({"unit": "L"}, "unit"),
    ({"location": "A-01"}, "location"),
    ({"supplier_lot": " "}, "supplier_lot"),
    ({"each": "200000"}, "quantity_per_container"),
])
def test_a_bad_receipt_is_refused_with_the_field_and_writes_nothing(wh: Any, receive: Any, kwargs: dict[str, Any],
                                                                      field: str) -> None:
    with pytest.raises(DomainError) as refused:
        receive("API-01", **kwargs)
    assert refused.value.field == field
    assert not Lot.objects.exists() and not Movement.objects.exists() and not StockBalance.objects.exists()


@pytest.mark.parametrize(("each", "unit", "last", "field", "code"), [
    ("1.0000001", "kg", None, "quantity_per_container", "too_precise"),
    ("0.0000001", "g", None, "quantity_per_container", "too_precise"),
    ("10", "kg", "2.1234567", "last_container_quantity", "too_precise"),
    ("1e30", "kg", None, "quantity_per_container", "too_large"),
])
def test_a_receipt_the_ledger_cannot_keep_exactly_is_refused_not_rounded(
        wh: Any, receive: Any, each: str, unit: str, last: str | None, field: str, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        receive("EXC-01", containers=2, each=each, unit=unit, last=last)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert not Lot.objects.exists() and not Movement.objects.exists() and not StockBalance.objects.exists()


def test_expired_material_is_not_received(wh: Any, receive: Any) -> None:
    with pytest.raises(DomainError) as refused:
        receive("API-01", manufactured_on=today() - timedelta(days=800))
    assert refused.value.field == "expires_on"


@pytest.mark.req("WMS-03")
def test_qa_releases_a_lot_with_a_signature_and_an_event(wh: Any, receive: Any, release: Any) -> None:
    lot = release(receive())
    assert lot.status == "released"
    entry = AuditEntry.objects.get(record_type="inventory.lot", record_id=str(lot.pk), action="change_status")
    assert entry.signature is not None and entry.signature.meaning == "lot_status"
    assert OutboxEvent.objects.filter(event_type="inventory.lot.status_changed", record_id=str(lot.pk)).exists()


@pytest.mark.req("WMS-03")
def test_a_rejected_lot_never_changes_status_again(wh: Any, receive: Any, release: Any) -> None:
    lot = release(receive(), "rejected")
    with pytest.raises(DomainError) as refused:
        release(lot, "released")
    assert refused.value.code == "lot_status_transition"


def test_a_restriction_needs_its_text(wh: Any, receive: Any, release: Any) -> None:
    with pytest.raises(DomainError) as refused:
        release(receive(), "restricted")
    assert refused.value.field == "restriction"


def test_a_clerk_cannot_release_a_lot(wh: Any, receive: Any) -> None:
    from batchline.core.errors import PermissionDenied
    from batchline.inventory.lots import change_lot_status
    from conftest import sig

    lot = receive()
    with pytest.raises(PermissionDenied):
        change_lot_status(actor=wh.clerk, lot_id=lot.pk, status="released", reason="x",
                          signature=sig(wh.clerk, "lot_status"))


@pytest.mark.req("WMS-04")
def test_only_released_unexpired_not_retest_due_lots_are_usable(wh: Any, receive: Any, release: Any) -> None:
    quarantined = receive()
    rejected = release(receive(), "rejected")
    restricted = release(receive(), "restricted", restriction="only for validation batches")
    released = release(receive())
    day = today()
    for lot in (quarantined, rejected, restricted):
        with pytest.raises(DomainError) as refused:
            ensure_usable(lot)
        assert refused.value.code == "lot_not_usable" and lot.number in refused.value.render()
    ensure_usable(released)
    assert lot_state(released, released.retest_on) == "retest_due"
    assert lot_state(released, released.expires_on) == "expired"
    with pytest.raises(DomainError):
        ensure_usable(released, need_by=released.retest_on)
    ensure_usable(released, need_by=released.retest_on - timedelta(days=1))
    assert day < released.retest_on


@pytest.mark.req("WMS-04")
def test_the_query_form_of_the_rule_agrees_with_the_function(wh: Any, receive: Any, release: Any) -> None:
    lots = [receive(), release(receive(), "rejected"), release(receive()),
            release(receive("EXC-01")), release(receive(), "restricted", restriction="R&D only")]
    day = today()
    for on in (day, day + timedelta(days=340), day + timedelta(days=700), day + timedelta(days=1000)):
        by_query = set(Lot.objects.filter(usable_lots_q(on=on)).values_list("pk", flat=True))
        by_function = {lot.pk for lot in Lot.objects.all() if lot_state(lot, on) == "released"}
        assert by_query == by_function, on
        if on == day:
            assert by_query == {lots[2].pk, lots[3].pk}


@pytest.mark.req("WMS-06")
def test_the_ledger_refuses_update_and_delete(wh: Any, receive: Any) -> None:
    receive()
    movement = Movement.objects.first()
    assert movement is not None
    for statement in ("UPDATE inventory_movement SET quantity = 1", "DELETE FROM inventory_movement"):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert Movement.objects.count() == 2


@pytest.mark.req("WMS-06")
def test_the_database_refuses_a_negative_balance_or_a_reservation_above_on_hand(wh: Any, receive: Any) -> None:
    receive(containers=1)
    balance = StockBalance.objects.get()
    for change in ({"on_hand": Decimal("-1")}, {"reserved": Decimal("26")}, {"reserved": Decimal("-1")}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StockBalance.objects.filter(pk=balance.pk).update(**change)


def test_receipts_need_the_receive_permission(wh: Any, make_user: Callable[..., Any]) -> None:
    from batchline.core.errors import PermissionDenied
    from batchline.inventory.receiving import Receipt, receive_goods

    with pytest.raises(PermissionDenied):
        receive_goods(actor=make_user("operator"), receipt=Receipt(
            purchase_order_line_id=wh.lines["API-01"].pk, location="RCV-01", containers=1,
            quantity_per_container="1", unit="kg", supplier_lot="X"))
