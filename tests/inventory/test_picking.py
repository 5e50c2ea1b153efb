"""Picking by scanning the container label (WMS-04 at pick time), whole containers and splits into a
new labelled container, short picks, and refusals that say why and change nothing (WMS-06)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from batchline.compliance.models import AuditEntry
from batchline.core.errors import DomainError
from batchline.core.models import OutboxEvent
from batchline.inventory import allocation, picking
from batchline.inventory.models import Container, Movement, StockBalance
from batchline.inventory.usability import today


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The refusals are compared in English here; the Chinese catalogue has its own test."""
    with translation.override("en"):
        yield


def on_hand(container: Any, location: str) -> Decimal:
    row = StockBalance.objects.filter(container=container, location__code=location).first()
    return row.on_hand if row else Decimal(0)


def only_task(request: Any) -> Any:
    return request.tasks.select_related("container", "lot", "from_location").get()


def pick(wh: Any, task: Any, scanned: str | None = None, **kwargs: Any) -> Any:
    return picking.confirm_pick(actor=wh.clerk, task_id=task.pk, scanned=scanned or task.container.code, **kwargs)


def test_a_whole_container_is_picked_to_the_requests_location(wh: Any, stock: Callable[..., Any],
                                                              request_for: Callable[..., Any]) -> None:
    lot = stock(containers=1, each="25")
    request = request_for("API-01", "25")
    task = only_task(request)
    done = pick(wh, task)
    assert not done.split and done.container == task.container
    assert (on_hand(task.container, "A-01"), on_hand(task.container, "STG-01")) == (0, Decimal("25"))
    assert StockBalance.objects.get(container=task.container, location__code="A-01").reserved == 0
    moves = list(Movement.objects.filter(lot=lot, movement_type="pick").values_list("quantity", "to_location__code"))
    assert moves == [(Decimal("25"), "STG-01")]
    request.refresh_from_db()
    assert (request.status, request.picked_quantity) == ("picked", Decimal("25"))
    task.refresh_from_db()
    assert (task.status, task.picked_quantity, task.done_by, task.picked_container) == (
        "done", Decimal("25"), wh.clerk, None)


def test_picking_part_of_a_container_splits_it_into_a_new_labelled_container(
        wh: Any, stock: Callable[..., Any], request_for: Callable[..., Any]) -> None:
    lot = stock(containers=2, each="25")
    request = request_for("API-01", "10")
    task = only_task(request)
    done = pick(wh, task)
    new = done.container
    assert done.split and new.split_from == task.container and new.lot == lot
    assert (new.serial, new.code) == (3, f"{lot.number}-003")
    assert (on_hand(task.container, "A-01"), on_hand(new, "STG-01"), on_hand(new, "A-01")) == (
        Decimal("15"), Decimal("10"), Decimal("0"))
    kinds = list(Movement.objects.filter(lot=lot, movement_type__in=["split_out", "split_in", "pick"])
                 .order_by("pk").values_list("movement_type", "container__code", "quantity"))
    assert kinds == [("split_out", task.container.code, Decimal("10")), ("split_in", new.code, Decimal("10")),
                     ("pick", new.code, Decimal("10"))]
    task.refresh_from_db()
    assert task.picked_container == new
    event = OutboxEvent.objects.get(event_type=picking.PICK_CONFIRMED)
    assert event.payload["split"] is True and event.payload["picked_container"] == new.code


def test_a_second_split_of_the_same_lot_takes_the_next_container_number(
        wh: Any, stock: Callable[..., Any], request_for: Callable[..., Any]) -> None:
    lot = stock(containers=1, each="25")
    pick(wh, only_task(request_for("API-01", "5")))
    pick(wh, only_task(request_for("API-01", "5", order_ref="PO-ORDER-2")))
    assert list(Container.objects.filter(lot=lot).values_list("serial", flat=True)) == [1, 2, 3]


@pytest.mark.req("WMS-10")
def test_the_gs1_label_of_the_container_is_accepted_as_the_scan(wh: Any, stock: Callable[..., Any],
                                                                request_for: Callable[..., Any]) -> None:
    from batchline.inventory.labels import label_for

    stock(containers=1, each="25")
    task = only_task(request_for("API-01", "25"))
    label = label_for(task.container)
    assert label.element_string
    assert pick(wh, task, scanned=label.element_string).container == task.container


@pytest.mark.parametrize("case", ["same_lot", "other_lot", "other_material", "unusable_lot"])
def test_a_wrong_container_is_refused_with_the_reason_and_nothing_changes(
        wh: Any, stock: Callable[..., Any], receive: Callable[..., Any], request_for: Callable[..., Any],
        case: str) -> None:
    lot = stock(containers=2, each="25", expires_on=today() + timedelta(days=100))
    task = only_task(request_for("API-01", "10"))
    if case == "same_lot":
        wrong, expected = lot.containers.get(serial=2), f"take container {task.container.code} from location A-01"
    elif case == "other_lot":
        other = stock(containers=1, each="25", expires_on=today() + timedelta(days=300))
        wrong, expected = other.containers.get(), f"this task picks lot {lot.number}"
    elif case == "other_material":
        wrong, expected = stock("EXC-01", containers=1, each="5").containers.get(), "it holds material EXC-01"
    else:
        quarantined = receive("API-01", containers=1)
        wrong, expected = quarantined.containers.get(), "quarantine"
    before = Movement.objects.count()
    with pytest.raises(DomainError) as refused:
        pick(wh, task, scanned=wrong.code)
    assert (refused.value.code, refused.value.field) == ("wrong_container", "scanned")
    assert expected in refused.value.render()
    assert Movement.objects.count() == before
    task.refresh_from_db()
    assert task.status == "open"
    assert StockBalance.objects.get(container=task.container, location__code="A-01").reserved == Decimal("10")


def test_scanning_a_location_instead_of_a_container_is_refused(wh: Any, stock: Callable[..., Any],
                                                              request_for: Callable[..., Any]) -> None:
    stock()
    task = only_task(request_for("API-01", "10"))
    with pytest.raises(DomainError) as refused:
        pick(wh, task, scanned="A-01")
    assert refused.value.code == "not_a_container"


@pytest.mark.req("WMS-04")
def test_a_lot_that_expired_since_allocation_is_not_picked(wh: Any, stock: Callable[..., Any],
                                                           request_for: Callable[..., Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from batchline.core import clock

    stock(expires_on=today() + timedelta(days=3))
    task = only_task(request_for("API-01", "10", need_by=today() + timedelta(days=1)))
    later = clock.now() + timedelta(days=3)
    monkeypatch.setattr(clock, "now", lambda: later)
    with pytest.raises(DomainError) as refused:
        pick(wh, task)
    assert refused.value.code == "lot_not_usable" and "expires" in refused.value.render()
    assert not Movement.objects.filter(movement_type="pick").exists()


@pytest.mark.req("WMS-04")
def test_a_pick_task_of_a_lot_put_back_into_quarantine_is_gone(wh: Any, stock: Callable[..., Any],
                                                               request_for: Callable[..., Any],
                                                               release: Callable[..., Any]) -> None:
    lot = stock()
    task = only_task(request_for("API-01", "10"))
    release(lot, "quarantine")
    with pytest.raises(DomainError) as refused:
        pick(wh, task)
    assert refused.value.code in {"task_not_open", "lot_not_usable"}
    task.refresh_from_db()
    assert task.status == "cancelled"


def test_a_short_pick_needs_a_reason_and_leaves_the_rest_available(wh: Any, stock: Callable[..., Any],
                                                                   request_for: Callable[..., Any]) -> None:
    stock(containers=1, each="25")
    request = request_for("API-01", "10")
    task = only_task(request)
    with pytest.raises(DomainError) as refused:
        pick(wh, task, quantity="8")
    assert refused.value.code == "reason_required"
    pick(wh, task, quantity="8", reason="container damaged, 2 kg spilled")
    row = StockBalance.objects.get(container=task.container, location__code="A-01")
    assert (row.on_hand, row.reserved) == (Decimal("17"), Decimal("0"))
    request.refresh_from_db()
    assert (request.status, request.picked_quantity, request.allocated_quantity) == (
        "partial", Decimal("8"), Decimal("8"))
    entry = AuditEntry.objects.get(record_type="inventory.picktask", action="pick")
    assert entry.reason == "container damaged, 2 kg spilled"
    again = allocation.allocate(actor=wh.clerk, request_id=request.pk)
    assert (again.status, again.allocated_quantity) == ("allocated", Decimal("10"))
    pick(wh, again.tasks.filter(status="open").select_related("container").get())
    again.refresh_from_db()
    assert again.status == "picked"


def test_more_than_the_task_reserved_is_refused(wh: Any, stock: Callable[..., Any],
                                               request_for: Callable[..., Any]) -> None:
    stock()
    task = only_task(request_for("API-01", "10"))
    with pytest.raises(DomainError) as refused:
        pick(wh, task, quantity="11")
    assert (refused.value.code, refused.value.field) == ("above_task", "quantity")


def test_a_done_task_is_not_picked_twice(wh: Any, stock: Callable[..., Any], request_for: Callable[..., Any]) -> None:
    stock()
    task = only_task(request_for("API-01", "10"))
    pick(wh, task)
    with pytest.raises(DomainError) as refused:
        pick(wh, task)
    assert refused.value.code == "task_not_open"
    assert Movement.objects.filter(movement_type="pick").count() == 1


def test_without_a_destination_the_clerk_must_scan_one(wh: Any, stock: Callable[..., Any],
                                                       request_for: Callable[..., Any]) -> None:
    stock()
    task = only_task(request_for("API-01", "10", to_location=None))
    with pytest.raises(DomainError) as refused:
        pick(wh, task)
    assert (refused.value.code, refused.value.field) == ("required", "to_location")
    done = pick(wh, task, to_location="DSP-01")
    assert on_hand(done.container, "DSP-01") == Decimal("10")


def test_quantities_in_another_unit_are_picked_in_the_base_unit(wh: Any, stock: Callable[..., Any],
                                                                request_for: Callable[..., Any]) -> None:
    stock()
    task = only_task(request_for("API-01", "10"))
    done = pick(wh, task, quantity="10000", unit="g")
    assert done.task.picked_quantity == Decimal("10")


def test_picking_needs_the_pick_permission(wh: Any, stock: Callable[..., Any], request_for: Callable[..., Any],
                                           supervisor: Any) -> None:
    stock()
    task = only_task(request_for("API-01", "10"))
    with pytest.raises(DomainError) as refused:
        picking.confirm_pick(actor=supervisor, task_id=task.pk, scanned=task.container.code)
    assert refused.value.code == "permission_denied"
