"""Material requests allocated FEFO (WMS-05) from usable stock only (WMS-04), into pick tasks that
reserve on the balance rows (WMS-06); cancelling, allocating again, and a lot that stops being usable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core.errors import DomainError
from batchline.core.models import OutboxEvent
from batchline.inventory import allocation
from batchline.inventory.models import MaterialRequest, PickTask, StockBalance
from batchline.inventory.usability import today


def reserved(lot: Any) -> Decimal:
    return sum((b.reserved for b in StockBalance.objects.filter(lot=lot)), Decimal(0))


def task_lots(request: Any) -> list[str]:
    return [t.lot.number for t in request.tasks.select_related("lot").order_by("pk")]


@pytest.mark.req("WMS-05")
def test_the_lot_that_expires_first_is_allocated_first(wh: Any, stock: Callable[..., Any],
                                                        request_for: Callable[..., Any]) -> None:
    later = stock(expires_on=today() + timedelta(days=300))
    sooner = stock(expires_on=today() + timedelta(days=100))
    request = request_for("API-01", "30")
    assert request.status == "allocated" and request.allocated_quantity == Decimal("30")
    assert task_lots(request) == [sooner.number, sooner.number]
    assert reserved(sooner) == Decimal("30") and reserved(later) == Decimal("0")


@pytest.mark.req("WMS-05")
def test_lots_without_expiry_are_allocated_first_in_first_out(wh: Any, stock: Callable[..., Any],
                                                               request_for: Callable[..., Any]) -> None:
    first = stock("EXC-01", containers=1, each="10")
    second = stock("EXC-01", containers=1, each="10")
    assert first.expires_on is None and second.expires_on is None
    request = request_for("EXC-01", "15")
    assert task_lots(request) == [first.number, second.number]
    assert [t.quantity for t in request.tasks.order_by("pk")] == [Decimal("10"), Decimal("5")]


@pytest.mark.req("WMS-05")
def test_stock_that_expires_before_the_need_date_is_not_allocated(wh: Any, stock: Callable[..., Any],
                                                                   request_for: Callable[..., Any]) -> None:
    short_lived = stock(expires_on=today() + timedelta(days=10))
    long_lived = stock(containers=1, each="5", expires_on=today() + timedelta(days=400))
    request = request_for("API-01", "20", need_by=today() + timedelta(days=20))
    assert task_lots(request) == [long_lived.number]
    assert (request.status, request.allocated_quantity) == ("partial", Decimal("5"))
    assert reserved(short_lived) == 0


@pytest.mark.req("WMS-05", "WMS-04")
def test_stock_due_for_retest_on_the_need_date_is_not_allocated(wh: Any, stock: Callable[..., Any],
                                                                 request_for: Callable[..., Any]) -> None:
    stock(retest_on=today() + timedelta(days=5))
    request = request_for("API-01", "10", need_by=today() + timedelta(days=6))
    assert (request.status, request.allocated_quantity, request.tasks.count()) == ("open", Decimal("0"), 0)


@pytest.mark.req("WMS-04")
@pytest.mark.parametrize("status", ["quarantine", "rejected", "restricted"])
def test_lots_that_are_not_released_are_never_allocated(wh: Any, receive: Callable[..., Any],
                                                        release: Callable[..., Any], request_for: Callable[..., Any],
                                                        status: str) -> None:
    lot = receive("API-01")
    if status != "quarantine":
        release(lot, status, restriction="clinical trial only" if status == "restricted" else "")
    request = request_for("API-01", "10")
    assert request.status == "open" and not request.tasks.exists() and reserved(lot) == 0


@pytest.mark.req("WMS-04")
def test_expired_stock_is_never_allocated(wh: Any, stock: Callable[..., Any], request_for: Callable[..., Any],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from batchline.core import clock

    lot = stock(expires_on=today() + timedelta(days=3))
    later = clock.now() + timedelta(days=4)
    monkeypatch.setattr(clock, "now", lambda: later)
    request = request_for("API-01", "10", need_by=today())
    assert request.status == "open" and reserved(lot) == 0


@pytest.mark.req("WMS-05")
def test_within_a_lot_one_container_that_covers_the_rest_is_preferred_smallest_first(
        wh: Any, stock: Callable[..., Any], request_for: Callable[..., Any]) -> None:
    lot = stock(containers=3, each="25", last="12.5")
    request = request_for("API-01", "30")
    # 30 = the largest whole container (25), then the smallest one that covers the remaining 5 (12.5)
    taken = [(t.container.serial, t.quantity) for t in request.tasks.select_related("container").order_by("pk")]
    assert taken == [(1, Decimal("25")), (3, Decimal("5"))]
    assert reserved(lot) == Decimal("30")


def test_a_request_is_allocated_as_far_as_stock_allows_and_again_when_more_arrives(
        wh: Any, stock: Callable[..., Any], request_for: Callable[..., Any]) -> None:
    stock(containers=1, each="8")
    request = request_for("API-01", "20")
    assert (request.status, request.allocated_quantity) == ("partial", Decimal("8"))
    stock(containers=1, each="50")
    again = allocation.allocate(actor=wh.clerk, request_id=request.pk)
    assert (again.status, again.allocated_quantity, again.tasks.count()) == ("allocated", Decimal("20"), 2)
    assert OutboxEvent.objects.filter(event_type=allocation.ALLOCATED, record_id=str(request.pk)).count() == 2


def test_quantities_are_converted_to_the_base_unit(wh: Any, stock: Callable[..., Any],
                                                   request_for: Callable[..., Any]) -> None:
    stock()
    request = request_for("API-01", "2500", unit="g")
    assert (request.quantity, request.unit.code, request.allocated_quantity) == (Decimal("2.5"), "kg", Decimal("2.5"))


def test_a_requested_lot_is_the_only_one_allocated(wh: Any, stock: Callable[..., Any],
                                                   request_for: Callable[..., Any]) -> None:
    stock(expires_on=today() + timedelta(days=100))
    wanted = stock(expires_on=today() + timedelta(days=300))
    request = request_for("API-01", "10", lot_number=wanted.number)
    assert task_lots(request) == [wanted.number] and request.lot == wanted


def test_a_requested_lot_that_cannot_be_used_is_refused(wh: Any, receive: Callable[..., Any],
                                                        request_for: Callable[..., Any]) -> None:
    lot = receive("API-01")
    with pytest.raises(DomainError) as refused:
        request_for("API-01", "10", lot_number=lot.number)
    assert (refused.value.code, refused.value.field) == ("lot_not_usable", "lot")
    assert not MaterialRequest.objects.exists()


def test_stock_already_staged_or_at_the_line_is_not_allocated_again(wh: Any, stock: Callable[..., Any],
                                                                    request_for: Callable[..., Any]) -> None:
    stock(location="STG-01")
    stock(location="LS-01")
    assert request_for("API-01", "10").status == "open"


def test_released_stock_still_at_receiving_is_allocated(wh: Any, stock: Callable[..., Any],
                                                        request_for: Callable[..., Any]) -> None:
    lot = stock(location=None)
    request = request_for("API-01", "10")
    assert request.status == "allocated" and request.tasks.get().from_location.code == "RCV-01"
    assert reserved(lot) == Decimal("10")


@pytest.mark.parametrize(("kwargs", "field", "code"), [
    ({"quantity": "0"}, "quantity", "not_positive"),
    ({"quantity": "abc"}, "quantity", "not_decimal"),
    ({"quantity": "0.0000001"}, "quantity", "precision"),
    ({"quantity": "1e30"}, "quantity", "precision"),
    ({"unit": "L"}, "unit", "unknown_unit"),
    ({"material": "NOPE"}, "material", "not_found"),
    ({"need_by": "yesterday"}, "need_by", "invalid_input"),
    ({"to_location": "A-01"}, "to_location", "location_not_usable"),
    ({"to_location": "NOWHERE"}, "to_location", "not_found"),
    ({"order_ref": " "}, "order_ref", "required"),
])
def test_a_bad_request_is_refused_with_the_field_and_writes_nothing(wh: Any, stock: Callable[..., Any],
                                                                    request_for: Callable[..., Any],
                                                                    kwargs: dict[str, Any], field: str,
                                                                    code: str) -> None:
    lot = stock()
    arguments = {"material": "API-01", "quantity": "10", **kwargs}
    with pytest.raises(DomainError) as refused:
        request_for(arguments.pop("material"), arguments.pop("quantity"), **arguments)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert not MaterialRequest.objects.exists() and not PickTask.objects.exists() and reserved(lot) == 0


def test_allocating_again_a_request_cancelled_meanwhile_reserves_nothing(
        wh: Any, stock: Callable[..., Any], request_for: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # allocate() reads the request before it locks it: a cancel that commits in between must be seen.
    stock(containers=1, each="5")
    request = request_for("API-01", "10")
    read_before_the_cancel = MaterialRequest.objects.get(pk=request.pk)
    allocation.cancel_request(actor=wh.clerk, request_id=request.pk, reason="order cancelled")
    lot = stock(containers=1, each="25")
    monkeypatch.setattr(allocation, "_open_request", lambda request_id: read_before_the_cancel)
    with pytest.raises(DomainError) as refused:
        allocation.allocate(actor=wh.clerk, request_id=request.pk)
    assert refused.value.code == "request_closed"
    assert not PickTask.objects.filter(request=request, status="open").exists() and reserved(lot) == 0


def test_a_need_by_date_in_the_past_is_refused(wh: Any, request_for: Callable[..., Any]) -> None:
    with pytest.raises(DomainError) as refused:
        request_for("API-01", "1", need_by=today() - timedelta(days=1))
    assert (refused.value.field, refused.value.code) == ("need_by", "need_by_past")


def test_a_cool_material_is_not_delivered_to_an_ambient_location(wh: Any, request_for: Callable[..., Any]) -> None:
    with pytest.raises(DomainError) as refused:
        request_for("COOL-01", "1", to_location="STG-01")
    assert refused.value.code == "location_not_usable"


def test_creating_a_request_is_audited_and_announced(wh: Any, stock: Callable[..., Any],
                                                     request_for: Callable[..., Any]) -> None:
    lot = stock()
    request = request_for("API-01", "10", order_ref="MO-2026-001")
    entry = AuditEntry.objects.get(record_type="inventory.materialrequest", record_id=str(request.pk))
    assert entry.action == "create" and "MO-2026-001" in entry.changes
    event = OutboxEvent.objects.get(event_type=allocation.ALLOCATED)
    assert event.payload["order_ref"] == "MO-2026-001" and event.payload["status"] == "allocated"
    assert [t["lot"] for t in event.payload["tasks"]] == [lot.number]


def test_a_clerk_without_the_permission_cannot_request_material(wh: Any, make_user: Callable[..., Any]) -> None:
    operator = make_user("operator")
    with pytest.raises(DomainError) as refused:
        allocation.request_material(actor=operator, order_ref="X", material_code="API-01", quantity="1", unit="kg",
                                    need_by=today())
    assert refused.value.code == "permission_denied"


def test_cancelling_a_request_releases_its_reservations(wh: Any, stock: Callable[..., Any],
                                                        request_for: Callable[..., Any], supervisor: Any) -> None:
    lot = stock()
    request = request_for("API-01", "30")
    cancelled = allocation.cancel_request(actor=supervisor, request_id=request.pk, reason="order postponed")
    assert cancelled.status == "cancelled" and cancelled.allocated_quantity == 0
    assert reserved(lot) == 0 and set(request.tasks.values_list("status", flat=True)) == {"cancelled"}
    assert OutboxEvent.objects.filter(event_type=allocation.CANCELLED).get().payload["reason"] == "order postponed"
    with pytest.raises(DomainError) as refused:
        allocation.cancel_request(actor=supervisor, request_id=request.pk, reason="again")
    assert refused.value.code == "request_closed"


def test_cancelling_needs_a_reason(wh: Any, stock: Callable[..., Any], request_for: Callable[..., Any]) -> None:
    stock()
    request = request_for("API-01", "5")
    with pytest.raises(DomainError) as refused:
        allocation.cancel_request(actor=wh.clerk, request_id=request.pk, reason=" ")
    assert refused.value.code == "reason_required"
    request.refresh_from_db()
    assert request.status == "allocated"


@pytest.mark.req("WMS-04", "WMS-03")
def test_a_lot_that_stops_being_usable_leaves_its_allocations_and_the_request_follows(
        wh: Any, stock: Callable[..., Any], request_for: Callable[..., Any], release: Callable[..., Any]) -> None:
    first = stock(expires_on=today() + timedelta(days=100), containers=1, each="10")
    second = stock(expires_on=today() + timedelta(days=200), containers=1, each="10")
    request = request_for("API-01", "15")
    assert task_lots(request) == [first.number, second.number]
    release(first, "rejected")
    request.refresh_from_db()
    assert (request.status, request.allocated_quantity) == ("partial", Decimal("5"))
    assert reserved(first) == 0 and reserved(second) == Decimal("5")
    event = OutboxEvent.objects.get(event_type=allocation.UPDATED, record_id=str(request.pk))
    assert event.payload["status"] == "partial" and first.number in event.payload["reason"]
    assert AuditEntry.objects.filter(record_type="inventory.materialrequest", action="update").count() == 1


def test_the_plan_is_pure_fefo_then_fewest_containers(wh: Any, stock: Callable[..., Any]) -> None:
    lot = stock(containers=3, each="10", last="4")
    rows = list(StockBalance.objects.filter(lot=lot, on_hand__gt=0).select_related("lot").order_by("pk"))
    assert [(r.container_id, q) for r, q in allocation.plan_allocation(rows, Decimal("4"))] == [
        (rows[2].container_id, Decimal("4"))]
    assert [q for _r, q in allocation.plan_allocation(rows, Decimal("24"))] == [Decimal("10"), Decimal("10"),
                                                                                 Decimal("4")]
    assert allocation.plan_allocation(rows, Decimal("0")) == []
