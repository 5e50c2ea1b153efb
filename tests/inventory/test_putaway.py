"""Putaway (WMS-02): suggestions fit the material's storage condition and the lot's status; a
location that does not fit is refused with the reason and nothing moves."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from django.utils import translation

from batchline.core.errors import DomainError
from batchline.core.models import OutboxEvent
from batchline.inventory.errors import LocationNotUsable
from batchline.inventory.models import Movement, StockBalance
from batchline.inventory.putaway import put_away, suggest_locations, suggestions


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def _where(container: Any) -> dict[str, Decimal]:
    return {b.location.code: b.on_hand for b in StockBalance.objects.filter(container=container, on_hand__gt=0)}


@pytest.mark.req("WMS-02")
def test_a_quarantined_container_is_suggested_quarantine_locations_of_its_storage_condition(wh: Any,
                                                                                           receive: Any) -> None:
    container = receive("API-01", containers=1).containers.get()
    assert [loc.code for loc in suggest_locations(container)] == ["QUA-01"]
    cool = receive("COOL-01", containers=1).containers.get()
    assert [loc.code for loc in suggest_locations(cool)] == ["QUA-C"]


@pytest.mark.req("WMS-02")
def test_without_physical_quarantine_storage_is_suggested_after_quarantine(wh: Any, receive: Any) -> None:
    container = receive("API-01", containers=1).containers.get()
    with override_settings(BATCHLINE_PHYSICAL_QUARANTINE=False):
        assert [loc.code for loc in suggest_locations(container)] == ["QUA-01", "A-01", "A-02"]
        put_away(actor=wh.clerk, container_id=container.pk, location="A-02")
    assert _where(container) == {"A-02": Decimal("25")}


@pytest.mark.req("WMS-02")
def test_released_stock_is_suggested_storage_holding_the_material_first_then_the_emptiest(
        wh: Any, receive_released: Any) -> None:
    first = receive_released("API-01", containers=1).containers.get()
    put_away(actor=wh.clerk, container_id=first.pk, location="A-02")
    other = receive_released("EXC-01", containers=2).containers.all()
    for container in other:
        put_away(actor=wh.clerk, container_id=container.pk, location="A-01")
    new = receive_released("API-01", containers=1).containers.get()
    assert [s.location.code for s in suggestions(new)] == ["A-02", "A-01"]
    assert suggestions(new)[0].holds_material and suggestions(new)[1].containers_here == 2
    fresh = receive_released("EXC-01", containers=1).containers.get()
    assert [loc.code for loc in suggest_locations(fresh)] == ["A-01", "A-02"]  # holds EXC-01 already


@pytest.mark.req("WMS-02")
def test_a_rejected_lot_is_suggested_a_rejected_goods_location(wh: Any, receive: Any, release: Any) -> None:
    lot = release(receive("API-01", containers=1), status="rejected")
    assert [loc.code for loc in suggest_locations(lot.containers.get())] == ["REJ-01"]


@pytest.mark.req("WMS-02")
def test_put_away_moves_the_whole_container_through_the_ledger(wh: Any, receive: Any) -> None:
    lot = receive("API-01", containers=2, each="25")
    container = lot.containers.get(serial=1)
    movements = put_away(actor=wh.clerk, container_id=container.pk, location="]d1QUA-01")
    assert [(m.movement_type, m.from_location.code, m.to_location.code, m.quantity) for m in movements] == [
        ("putaway", "RCV-01", "QUA-01", Decimal("25"))]
    assert _where(container) == {"QUA-01": Decimal("25")}
    assert _where(lot.containers.get(serial=2)) == {"RCV-01": Decimal("25")}
    assert OutboxEvent.objects.filter(event_type="inventory.movement.putaway", record_id=str(lot.pk)).count() == 1
    from batchline.compliance.models import AuditEntry

    assert AuditEntry.objects.filter(record_type="inventory.lot", record_id=str(lot.pk), action="put_away").exists()


def _refused(wh: Any, container: Any, location: str, actor: Any = None) -> DomainError:
    before = (Movement.objects.count(), _where(container))
    with pytest.raises(DomainError) as refused:
        put_away(actor=actor or wh.clerk, container_id=container.pk, location=location)
    assert (Movement.objects.count(), _where(container)) == before
    return refused.value


@pytest.mark.req("WMS-02")
def test_cool_material_is_refused_at_an_ambient_location_with_the_reason(wh: Any, receive: Any) -> None:
    container = receive("COOL-01", containers=1).containers.get()
    error = _refused(wh, container, "QUA-01")
    assert isinstance(error, LocationNotUsable) and error.field == "location"
    assert "COOL-01" in error.render() and "Cool (2–8 °C)" in error.render() and "Ambient" in error.render()


@pytest.mark.req("WMS-02")
def test_quarantined_stock_is_refused_at_a_storage_location(wh: Any, receive: Any) -> None:
    lot = receive("API-01", containers=1)
    error = _refused(wh, lot.containers.get(), "A-01")
    assert error.code == "location_not_usable" and "quarantine" in error.render() and lot.number in error.render()


@pytest.mark.req("WMS-02")
def test_released_stock_is_refused_at_a_quarantine_location(wh: Any, receive_released: Any) -> None:
    error = _refused(wh, receive_released("API-01", containers=1).containers.get(), "QUA-01")
    assert error.code == "location_not_usable" and "storage location" in error.render()


@pytest.mark.req("WMS-02")
def test_only_rejected_lots_go_to_a_rejected_goods_location(wh: Any, receive_released: Any, receive: Any,
                                                            release: Any) -> None:
    error = _refused(wh, receive_released("API-01", containers=1).containers.get(), "REJ-01")
    assert "rejected" in error.render()
    rejected = release(receive("API-01", containers=1), status="rejected").containers.get()
    assert "rejected-goods" in _refused(wh, rejected, "A-01").render()


@pytest.mark.req("WMS-02")
@pytest.mark.parametrize("location", ["DSP-01", "LS-01"])
def test_dispensary_and_line_side_take_no_putaway(wh: Any, receive_released: Any, location: str) -> None:
    error = _refused(wh, receive_released("API-01", containers=1).containers.get(), location)
    assert "picking" in error.render()


@pytest.mark.req("WMS-02")
@pytest.mark.parametrize("location", ["STG-01", "RCV-01"])
def test_staging_and_receiving_take_no_putaway(wh: Any, receive: Any, location: str) -> None:
    error = _refused(wh, receive("API-01", containers=1).containers.get(), location)
    assert error.code == "location_not_usable"


@pytest.mark.req("WMS-02")
def test_a_location_that_is_not_approved_is_refused(wh: Any, receive: Any, steward: Any) -> None:
    from batchline.masterdata import services
    from batchline.masterdata.registry import kind_of

    services.create_item(actor=steward, kind=kind_of("location"), data={
        "code": "QUA-NEW", "name_zh": "新", "name_en": "new", "warehouse": "WH1", "location_type": "quarantine",
        "storage_condition": "ambient"})
    error = _refused(wh, receive("API-01", containers=1).containers.get(), "QUA-NEW")
    assert "not approved" in error.render()


def test_an_unknown_location_and_a_container_scanned_as_location_are_refused(wh: Any, receive: Any) -> None:
    lot = receive("API-01", containers=2)
    first, second = lot.containers.all()
    assert _refused(wh, first, "Z-99").code == "unknown_location"
    assert _refused(wh, first, second.code).code == "not_a_location"


def test_a_container_already_there_is_refused(wh: Any, receive: Any) -> None:
    container = receive("API-01", containers=1, location="QUA-01").containers.get()
    assert _refused(wh, container, "QUA-01").code == "already_there"


def test_putaway_needs_the_move_permission(wh: Any, receive: Any, make_user: Any) -> None:
    container = receive("API-01", containers=1).containers.get()
    error = _refused(wh, container, "QUA-01", actor=make_user("qc_analyst"))
    assert error.code == "permission_denied"


def test_suggestions_all_pass_the_putaway_check(wh: Any, receive: Any, receive_released: Any) -> None:
    from batchline.inventory.putaway import refusal

    for container in [receive("API-01", containers=1).containers.get(),
                      receive_released("COOL-01", containers=1).containers.get()]:
        found = suggest_locations(container, limit=50)
        assert found and all(refusal(container, loc) is None for loc in found)
