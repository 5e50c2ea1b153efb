"""Transfers, returns to stock, scrap and sample withdrawal: ledger movements with reason codes (WMS-07)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from batchline.compliance.models import AuditEntry
from batchline.core import clock
from batchline.core.errors import DomainError, PermissionDenied
from batchline.core.models import OutboxEvent
from batchline.inventory import ledger, movements
from batchline.inventory.choices import MovementType
from batchline.inventory.models import Container, Movement, StockBalance
from batchline.inventory.usability import today


def on_hand(container: Container, location: str) -> Decimal:
    row = StockBalance.objects.filter(container=container, location__code=location).first()
    return row.on_hand if row else Decimal(0)


def first(lot: Any) -> Container:
    return Container.objects.select_related("lot__material__base_unit").filter(lot=lot).order_by("serial")[0]


@pytest.fixture
def stocked(wh: Any, receive_released: Callable[..., Any]) -> Callable[..., Any]:
    """stocked("API-01", location="A-01") → a released lot whose containers were moved to `location`."""

    def make(material: str = "API-01", location: str = "A-01", **kwargs: Any) -> Any:
        lot = receive_released(material, **kwargs)
        for container in lot.containers.all():
            movements.transfer(actor=wh.clerk, container=container.code, to_location=location)
        return lot

    return make


# --- transfers ---------------------------------------------------------------------------------------------

@pytest.mark.req("WMS-07")
def test_a_transfer_moves_the_whole_container_with_a_movement_an_event_and_an_audit_entry(
        wh: Any, receive_released: Callable[..., Any]) -> None:
    lot = receive_released(containers=1)
    container = first(lot)
    moved = movements.transfer(actor=wh.clerk, container=container.code, to_location="A-01")
    assert on_hand(container, "RCV-01") == 0 and on_hand(container, "A-01") == Decimal("25")
    [movement] = moved.movements
    assert movement.movement_type == "transfer" and movement.quantity == Decimal("25")
    assert movement.from_location.code == "RCV-01" and movement.to_location.code == "A-01"
    assert OutboxEvent.objects.filter(event_type="inventory.movement.transfer", record_id=str(lot.pk)).count() == 1
    entry = AuditEntry.objects.get(record_type="inventory.lot", record_id=str(lot.pk), action="transfer")
    assert entry.actor_username == "clerk" and container.code in entry.changes


def test_a_transfer_of_part_of_a_container_leaves_the_rest(wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    movements.transfer(actor=wh.clerk, container=container, to_location="DSP-01", quantity="2500", unit="g")
    assert on_hand(container, "A-01") == Decimal("22.5") and on_hand(container, "DSP-01") == Decimal("2.5")


def test_a_container_at_two_locations_needs_the_source(wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    movements.transfer(actor=wh.clerk, container=container, to_location="DSP-01", quantity="5")
    with pytest.raises(DomainError) as refused:
        movements.transfer(actor=wh.clerk, container=container, to_location="A-02")
    assert refused.value.field == "from_location" and refused.value.code == "location_ambiguous"
    movements.transfer(actor=wh.clerk, container=container, to_location="A-02", from_location="DSP-01")
    assert on_hand(container, "A-02") == Decimal("5")


@pytest.mark.req("WMS-07")
def test_a_quarantined_lot_stays_in_quarantine_locations(wh: Any, receive: Callable[..., Any]) -> None:
    container = first(receive(containers=1))
    for target in ("A-01", "DSP-01"):
        with pytest.raises(DomainError) as refused:
            movements.transfer(actor=wh.clerk, container=container, to_location=target)
        assert refused.value.field == "to_location" or refused.value.code == "lot_not_usable"
    movements.transfer(actor=wh.clerk, container=container, to_location="QUA-01")
    assert on_hand(container, "QUA-01") == Decimal("25")


def test_without_physical_quarantine_a_quarantined_lot_may_go_to_storage(wh: Any, receive: Callable[..., Any]) -> None:
    container = first(receive(containers=1))
    with override_settings(BATCHLINE_PHYSICAL_QUARANTINE=False):
        movements.transfer(actor=wh.clerk, container=container, to_location="A-01")
    assert on_hand(container, "A-01") == Decimal("25")


def test_a_rejected_lot_goes_to_rejected_goods_only(wh: Any, receive: Callable[..., Any],
                                                     release: Callable[..., Any]) -> None:
    container = first(release(receive(containers=1), "rejected"))
    with pytest.raises(DomainError) as refused:
        movements.transfer(actor=wh.clerk, container=container, to_location="A-01")
    assert refused.value.code == "location_not_usable"
    movements.transfer(actor=wh.clerk, container=container, to_location="REJ-01")


def test_only_rejected_lots_go_to_rejected_goods_and_nothing_goes_back_to_receiving(
        wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    for target in ("REJ-01", "RCV-01"):
        with pytest.raises(DomainError) as refused:
            movements.transfer(actor=wh.clerk, container=container, to_location=target)
        assert refused.value.code == "location_not_usable" and refused.value.field == "to_location"


@pytest.mark.req("WMS-02")
def test_the_storage_condition_of_the_target_must_be_the_materials(
        wh: Any, receive_released: Callable[..., Any]) -> None:
    container = first(receive_released("COOL-01", containers=1))
    with pytest.raises(DomainError) as refused:
        movements.transfer(actor=wh.clerk, container=container, to_location="A-01")
    assert refused.value.code == "location_not_usable" and "COOL-01" in refused.value.render()
    movements.transfer(actor=wh.clerk, container=container, to_location="C-01")


@pytest.mark.req("WMS-04")
def test_only_usable_stock_goes_to_the_dispensary_or_the_line(wh: Any, stocked: Callable[..., Any],
                                                               release: Callable[..., Any]) -> None:
    lot = stocked(containers=1)
    release(lot, "restricted", restriction="validation batches only")
    with pytest.raises(DomainError) as refused:
        movements.transfer(actor=wh.clerk, container=first(lot), to_location="LS-01")
    assert refused.value.code == "lot_not_usable"


@pytest.mark.req("WMS-07", "WMS-06")
def test_reserved_stock_is_never_moved(wh: Any, stocked: Callable[..., Any], request_for: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    request_for("API-01", "10")  # an open pick task reserves 10 kg of the drum
    assert StockBalance.objects.get(container=container, location__code="A-01").reserved == Decimal("10")
    with pytest.raises(DomainError) as refused:
        movements.transfer(actor=wh.clerk, container=container, to_location="A-02")
    assert refused.value.code == "insufficient_stock"
    for action in (lambda: movements.scrap(actor=wh.clerk, container=container, reason_code="damaged",
                                           reason="drum dented", quantity="20"),
                   lambda: movements.withdraw_sample(actor=wh.clerk, container=container, quantity="16",
                                                     reason_code="retention_sample")):
        with pytest.raises(DomainError) as refused:
            action()
        assert refused.value.code == "insufficient_stock"
    movements.transfer(actor=wh.clerk, container=container, to_location="A-02", quantity="15")
    assert on_hand(container, "A-01") == Decimal("10")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"container": "NOPE"}, "container"),
    ({"to_location": "NOPE"}, "to_location"),
    ({"to_location": "RCV-01"}, "to_location"),
    ({"quantity": "0"}, "quantity"),
    ({"quantity": "abc"}, "quantity"),
    ({"quantity": 1.5}, "quantity"),
    ({"quantity": "0.0000001"}, "quantity"),
    ({"quantity": "5", "unit": "L"}, "unit"),
])
def test_a_bad_transfer_is_refused_with_the_field_and_changes_nothing(
        wh: Any, receive_released: Callable[..., Any], kwargs: dict[str, Any], field: str) -> None:
    container = first(receive_released(containers=1))
    before = Movement.objects.count()
    with pytest.raises(DomainError) as refused:
        movements.transfer(actor=wh.clerk, **{"container": container.code, "to_location": "A-01", **kwargs})
    assert refused.value.field == field
    assert Movement.objects.count() == before and on_hand(container, "RCV-01") == Decimal("25")


def test_transfers_need_the_move_permission(wh: Any, receive_released: Callable[..., Any],
                                            make_user: Callable[..., Any]) -> None:
    container = first(receive_released(containers=1))
    with pytest.raises(PermissionDenied):
        movements.transfer(actor=make_user("qc_analyst"), container=container, to_location="A-01")


# --- returns to stock ---------------------------------------------------------------------------------

@pytest.mark.req("WMS-07")
def test_a_return_from_the_line_posts_the_reweigh_difference_as_a_loss_with_its_reason(
        wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    movements.transfer(actor=wh.clerk, container=container, to_location="LS-01")
    moved = movements.return_to_stock(actor=wh.clerk, container=container.code, to_location="A-02",
                                      reweighed_quantity="24.8", reason_code="surplus", reason="spillage at weighing",
                                      order_ref="PO-ORD-1")
    loss, back = moved.movements
    assert (loss.movement_type, loss.quantity, loss.reason_code) == ("count_loss", Decimal("0.2"), "count_difference")
    assert loss.reason == "spillage at weighing" and loss.from_location.code == "LS-01"
    assert (back.movement_type, back.quantity, back.reason_code, back.reference) == (
        "return", Decimal("24.8"), "surplus", "PO-ORD-1")
    assert on_hand(container, "LS-01") == 0 and on_hand(container, "A-02") == Decimal("24.8")
    entry = AuditEntry.objects.get(record_type="inventory.lot", record_id=str(container.lot_id),
                                   action="return_to_stock")
    assert entry.reason == "spillage at weighing"
    assert OutboxEvent.objects.filter(event_type="inventory.movement.count_loss").count() == 1


def test_a_heavier_reweigh_is_a_gain(wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    movements.transfer(actor=wh.clerk, container=container, to_location="DSP-01")
    moved = movements.return_to_stock(actor=wh.clerk, container=container, to_location="A-01",
                                      reweighed_quantity="25.1", reason_code="order_cancelled", reason="scale drift")
    assert [m.movement_type for m in moved.movements] == ["count_gain", "return"]
    assert on_hand(container, "A-01") == Decimal("25.1")


def test_a_reweigh_difference_needs_a_reason(wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    movements.transfer(actor=wh.clerk, container=container, to_location="LS-01")
    with pytest.raises(DomainError) as refused:
        movements.return_to_stock(actor=wh.clerk, container=container, to_location="A-01",
                                  reweighed_quantity="24", reason_code="surplus")
    assert refused.value.field == "reason"
    assert on_hand(container, "LS-01") == Decimal("25")
    moved = movements.return_to_stock(actor=wh.clerk, container=container, to_location="A-01",
                                      reweighed_quantity="25", reason_code="surplus")
    assert [m.movement_type for m in moved.movements] == ["return"]


def test_material_issued_to_production_comes_back_against_its_order(wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    line_side = wh.locations["LS-01"]
    movements.transfer(actor=wh.clerk, container=container, to_location="LS-01")
    with transaction.atomic():  # production's issue of the whole container (its service is not written yet)
        ledger.post(wh.clerk, [ledger.Posting(MovementType.ISSUE, container, Decimal("25"), from_location=line_side,
                                              reference="ORD-7")])
    with pytest.raises(DomainError) as refused:
        movements.return_to_stock(actor=wh.clerk, container=container, to_location="A-01",
                                  reweighed_quantity="3", reason_code="surplus")
    assert refused.value.field == "order_ref"
    with pytest.raises(DomainError) as refused:
        movements.return_to_stock(actor=wh.clerk, container=container, to_location="A-01",
                                  reweighed_quantity="26", reason_code="surplus", order_ref="ORD-7")
    assert refused.value.code == "return_above_issue"
    moved = movements.return_to_stock(actor=wh.clerk, container=container, to_location="A-01",
                                      reweighed_quantity="3", reason_code="surplus", order_ref="ORD-7")
    [back] = moved.movements
    assert back.from_location is None and back.to_location.code == "A-01" and back.reference == "ORD-7"
    assert movements.issued_not_returned(container) == Decimal("22")


def test_stock_in_storage_is_not_returned_but_transferred(wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    with pytest.raises(DomainError) as refused:
        movements.return_to_stock(actor=wh.clerk, container=container, to_location="A-02",
                                  reweighed_quantity="25", reason_code="surplus")
    assert refused.value.code == "not_at_production"


def test_damaged_returns_go_to_quarantine_or_rejected_goods(wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    movements.transfer(actor=wh.clerk, container=container, to_location="LS-01")
    with pytest.raises(DomainError) as refused:
        movements.return_to_stock(actor=wh.clerk, container=container, to_location="A-01",
                                  reweighed_quantity="25", reason_code="damaged", reason="bag torn")
    assert refused.value.field == "to_location"
    movements.return_to_stock(actor=wh.clerk, container=container, to_location="QUA-01",
                              reweighed_quantity="25", reason_code="damaged", reason="bag torn")


def test_a_return_refuses_an_unknown_reason_code(wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    movements.transfer(actor=wh.clerk, container=container, to_location="LS-01")
    with pytest.raises(DomainError) as refused:
        movements.return_to_stock(actor=wh.clerk, container=container, to_location="A-01",
                                  reweighed_quantity="25", reason_code="qc_sample")
    assert refused.value.field == "reason_code"


# --- scrap -------------------------------------------------------------------------------------------------

@pytest.mark.req("WMS-07")
def test_scrap_takes_the_container_out_with_its_reason_code_and_reason(
        wh: Any, receive: Callable[..., Any], release: Callable[..., Any]) -> None:
    lot = release(receive(containers=1), "rejected")
    container = first(lot)
    moved = movements.scrap(actor=wh.clerk, container=container, reason_code="rejected_by_qc",
                            reason="OOS assay, deviation DEV-1")
    [movement] = moved.movements
    assert (movement.movement_type, movement.quantity, movement.to_location) == ("scrap", Decimal("25"), None)
    assert movement.reason_code == "rejected_by_qc" and movement.reason == "OOS assay, deviation DEV-1"
    assert not StockBalance.objects.filter(container=container, on_hand__gt=0).exists()
    entry = AuditEntry.objects.get(record_type="inventory.lot", record_id=str(lot.pk), action="scrap")
    assert entry.reason == "OOS assay, deviation DEV-1"
    assert OutboxEvent.objects.filter(event_type="inventory.movement.scrap").count() == 1


def test_scrap_needs_a_reason(wh: Any, stocked: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    with pytest.raises(DomainError) as refused:
        movements.scrap(actor=wh.clerk, container=container, reason_code="damaged", reason="  ")
    assert refused.value.field == "reason"


@pytest.mark.parametrize("code", ["expired", "rejected_by_qc"])
def test_the_scrap_reason_code_must_fit_the_lot(wh: Any, stocked: Callable[..., Any], code: str) -> None:
    container = first(stocked(containers=1))
    with pytest.raises(DomainError) as refused:
        movements.scrap(actor=wh.clerk, container=container, reason_code=code, reason="x")
    assert refused.value.code == "reason_code_mismatch"


def test_expired_stock_is_scrapped_as_expired(wh: Any, stocked: Callable[..., Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    container = first(stocked(containers=1, expires_on=today() + timedelta(days=5)))
    later = clock.now() + timedelta(days=6)
    monkeypatch.setattr(clock, "now", lambda: later)
    moved = movements.scrap(actor=wh.clerk, container=container.code, reason_code="expired",
                            reason="expired on the shelf")
    assert moved.movements[0].reason_code == "expired"


def test_scrap_needs_the_adjust_permission(wh: Any, stocked: Callable[..., Any],
                                           make_user: Callable[..., Any]) -> None:
    container = first(stocked(containers=1))
    with pytest.raises(PermissionDenied):
        movements.scrap(actor=make_user("operator"), container=container, reason_code="damaged", reason="x")


# --- samples ------------------------------------------------------------------------------------------------

@pytest.mark.req("WMS-07")
def test_a_qc_sample_is_withdrawn_from_a_quarantined_lot_with_the_inspection_number(
        wh: Any, receive: Callable[..., Any], make_user: Callable[..., Any]) -> None:
    lot = receive(containers=2)
    container = first(lot)
    analyst = make_user("qc_analyst")
    moved = movements.withdraw_sample(actor=analyst, container=container.code, quantity="50", unit="g",
                                      reason_code="qc_sample", reference="IL-2026-0001")
    [movement] = moved.movements
    assert (movement.movement_type, movement.quantity, movement.reference) == ("sample", Decimal("0.05"),
                                                                               "IL-2026-0001")
    assert on_hand(container, "RCV-01") == Decimal("24.95")
    entry = AuditEntry.objects.get(record_type="inventory.lot", record_id=str(lot.pk), action="withdraw_sample")
    assert container.code in entry.changes and "IL-2026-0001" in entry.changes


def test_a_qc_sample_needs_the_inspection_number(wh: Any, receive: Callable[..., Any]) -> None:
    container = first(receive(containers=1))
    with pytest.raises(DomainError) as refused:
        movements.withdraw_sample(actor=wh.clerk, container=container, quantity="0.1", reason_code="qc_sample")
    assert refused.value.field == "reference"
    movements.withdraw_sample(actor=wh.clerk, container=container, quantity="0.1", reason_code="retention_sample")


def test_a_sample_needs_a_sample_reason_code(wh: Any, receive: Callable[..., Any]) -> None:
    container = first(receive(containers=1))
    with pytest.raises(DomainError) as refused:
        movements.withdraw_sample(actor=wh.clerk, container=container, quantity="0.1", reason_code="damaged",
                                  reference="IL-1")
    assert refused.value.field == "reason_code"
