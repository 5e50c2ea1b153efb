"""Cycle counts (WMS-07): a blind count of one location, approved by a second person with a signature;
variances posted as count gain / loss movements with the reason code count_difference."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core.errors import DomainError, PermissionDenied
from batchline.core.models import OutboxEvent
from batchline.inventory import counting, movements
from batchline.inventory.models import Container, CycleCount, Movement, StockBalance
from batchline.masterdata import numbering
from conftest import sig


@pytest.fixture
def at_a01(wh: Any, receive_released: Callable[..., Any]) -> list[Container]:
    """Two containers of 25 kg at A-01."""
    lot = receive_released(containers=2)
    containers = list(Container.objects.filter(lot=lot).order_by("serial"))
    for container in containers:
        movements.transfer(actor=wh.clerk, container=container.code, to_location="A-01")
    return containers


@pytest.fixture
def supervisor(make_user: Callable[..., Any]) -> Any:
    return make_user("supervisor", username="super", full_name="周强 Zhou Qiang")


def on_hand(container: Container, location: str = "A-01") -> Decimal:
    row = StockBalance.objects.filter(container=container, location__code=location).first()
    return row.on_hand if row else Decimal(0)


def test_opening_a_count_snapshots_the_book_of_the_location(wh: Any, at_a01: list[Container]) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    lines = {line.container.code: line.expected for line in count.lines.select_related("container")}
    assert lines == {c.code: Decimal("25") for c in at_a01}
    assert count.status == "open" and count.number.startswith("CC-")
    assert AuditEntry.objects.filter(record_type="inventory.cyclecount", record_id=str(count.pk),
                                     action="open").exists()


def test_the_count_number_comes_from_the_count_rule_when_there_is_one(wh: Any, at_a01: list[Container]) -> None:
    numbering.save_rule(actor=wh.steward, key="count", prefix="CNT", pattern="{prefix}-{yyyy}-{seq:03}")
    count = counting.open_count(actor=wh.clerk, location="A-01")
    assert count.number.startswith("CNT-") and count.number.endswith("-001")


def test_one_count_per_location_at_a_time(wh: Any, at_a01: list[Container]) -> None:
    counting.open_count(actor=wh.clerk, location="A-01")
    with pytest.raises(DomainError) as refused:
        counting.open_count(actor=wh.clerk, location="A-01")
    assert refused.value.code == "count_in_progress"


@pytest.mark.req("WMS-07")
def test_an_approved_count_posts_its_variances_with_the_reason_code(wh: Any, at_a01: list[Container],
                                                                    supervisor: Any) -> None:
    first, second = at_a01
    count = counting.open_count(actor=wh.clerk, location="A-01")
    counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={first.code: "24.5", second.code: "25"})
    approved = counting.approve_count(actor=supervisor, count_id=count.pk, signature=sig(supervisor),
                                      reason="drum 1 short: spillage found")
    assert approved.status == "approved" and approved.decided_by == supervisor
    [loss] = Movement.objects.filter(reference=count.number)
    assert (loss.movement_type, loss.quantity, loss.reason_code) == ("count_loss", Decimal("0.5"), "count_difference")
    assert loss.reason == "drum 1 short: spillage found"
    assert on_hand(first) == Decimal("24.5") and on_hand(second) == Decimal("25")
    entry = AuditEntry.objects.get(record_type="inventory.cyclecount", record_id=str(count.pk), action="approve")
    assert entry.signature is not None and entry.signature.meaning == "approve"
    assert entry.signature.signer == supervisor
    event = OutboxEvent.objects.get(event_type="inventory.count.approved")
    assert event.payload["variances"][0]["difference"] == "-0.5"
    assert AuditEntry.objects.filter(record_type="inventory.lot", record_id=str(first.lot_id),
                                     action="count_adjustment").exists()


@pytest.mark.req("WMS-07")
def test_a_container_found_that_was_not_on_the_book_is_a_gain(wh: Any, at_a01: list[Container],
                                                               receive_released: Callable[..., Any],
                                                               supervisor: Any) -> None:
    stray = Container.objects.filter(lot=receive_released("EXC-01", containers=1)).get()
    movements.transfer(actor=wh.clerk, container=stray, to_location="A-02")
    count = counting.open_count(actor=wh.clerk, location="A-01")
    counting.enter_count(actor=wh.clerk, count_id=count.pk,
                         lines={at_a01[0].code: "25", at_a01[1].code: "25", stray.code: "25"})
    counting.approve_count(actor=supervisor, count_id=count.pk, signature=sig(supervisor),
                           reason="drum found behind the rack")
    [gain] = Movement.objects.filter(reference=count.number)
    assert (gain.movement_type, gain.container, gain.to_location.code) == ("count_gain", stray, "A-01")
    assert on_hand(stray) == Decimal("25")


@pytest.mark.req("WMS-07")
def test_the_counter_cannot_approve_their_own_count(wh: Any, at_a01: list[Container],
                                                    make_user: Callable[..., Any]) -> None:
    both = make_user("warehouse", "supervisor", username="both")
    count = counting.open_count(actor=both, location="A-01")
    counting.enter_count(actor=both, count_id=count.pk, lines={c.code: "20" for c in at_a01})
    with pytest.raises(PermissionDenied) as refused:
        counting.approve_count(actor=both, count_id=count.pk, signature=sig(both), reason="x")
    assert refused.value.code == "four_eyes"
    assert not Movement.objects.filter(reference=count.number).exists()


def test_approval_needs_the_right_password(wh: Any, at_a01: list[Container], supervisor: Any) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={c.code: "20" for c in at_a01})
    with pytest.raises(DomainError):
        counting.approve_count(actor=supervisor, count_id=count.pk, signature=sig(supervisor, password="wrong"),
                               reason="x")
    assert CycleCount.objects.get(pk=count.pk).status == "counted"
    assert not Movement.objects.filter(reference=count.number).exists()


def test_variances_need_a_reason(wh: Any, at_a01: list[Container], supervisor: Any) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={c.code: "20" for c in at_a01})
    with pytest.raises(DomainError) as refused:
        counting.approve_count(actor=supervisor, count_id=count.pk, signature=sig(supervisor), reason="")
    assert refused.value.field == "reason"


def test_a_count_without_variances_is_approved_without_postings(wh: Any, at_a01: list[Container],
                                                               supervisor: Any) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={c.code: "25.000" for c in at_a01})
    counting.approve_count(actor=supervisor, count_id=count.pk, signature=sig(supervisor))
    assert not Movement.objects.filter(reference=count.number).exists()


def test_every_container_of_the_snapshot_must_be_counted(wh: Any, at_a01: list[Container]) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    with pytest.raises(DomainError) as refused:
        counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={at_a01[0].code: "25"})
    assert refused.value.field == f"lines.{at_a01[1].code}"
    assert CycleCount.objects.get(pk=count.pk).status == "open"


@pytest.mark.parametrize(("value", "code"), [("-1", "negative"), ("abc", "not_decimal"), (2.5, "not_decimal")])
def test_a_bad_counted_quantity_is_refused(wh: Any, at_a01: list[Container], value: Any, code: str) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    with pytest.raises(DomainError) as refused:
        counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={c.code: value for c in at_a01})
    assert refused.value.code == code


def test_an_unknown_container_is_refused(wh: Any, at_a01: list[Container]) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    with pytest.raises(DomainError) as refused:
        counting.enter_count(actor=wh.clerk, count_id=count.pk,
                             lines={**{c.code: "25" for c in at_a01}, "NOPE-1": "3"})
    assert refused.value.field == "lines.NOPE-1" and "NOPE-1" in refused.value.render()


@pytest.mark.req("WMS-07")
def test_a_count_is_stale_when_stock_moved_at_the_location_since_it_was_opened(
        wh: Any, at_a01: list[Container], supervisor: Any) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    movements.transfer(actor=wh.clerk, container=at_a01[0], to_location="A-02", quantity="5")
    counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={c.code: "20" for c in at_a01})
    with pytest.raises(DomainError) as refused:
        counting.approve_count(actor=supervisor, count_id=count.pk, signature=sig(supervisor), reason="x")
    assert refused.value.code == "count_stale"
    rejected = counting.reject_count(actor=supervisor, count_id=count.pk, reason="stock moved during the count")
    assert rejected.status == "rejected"
    counting.open_count(actor=wh.clerk, location="A-01")  # the location can be counted again


def test_a_rejected_count_posts_nothing_and_needs_a_reason(wh: Any, at_a01: list[Container],
                                                            supervisor: Any) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    with pytest.raises(DomainError) as refused:
        counting.reject_count(actor=supervisor, count_id=count.pk, reason=" ")
    assert refused.value.field == "reason"
    counting.reject_count(actor=supervisor, count_id=count.pk, reason="wrong location")
    with pytest.raises(DomainError) as refused:
        counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={c.code: "1" for c in at_a01})
    assert refused.value.code == "count_status"


def test_counting_and_approving_need_their_permissions(wh: Any, at_a01: list[Container],
                                                       make_user: Callable[..., Any]) -> None:
    with pytest.raises(PermissionDenied):
        counting.open_count(actor=make_user("operator"), location="A-01")
    count = counting.open_count(actor=wh.clerk, location="A-01")
    counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={c.code: "25" for c in at_a01})
    other_clerk = make_user("warehouse")
    with pytest.raises(PermissionDenied):
        counting.approve_count(actor=other_clerk, count_id=count.pk, signature=sig(other_clerk))


def test_a_loss_of_reserved_stock_is_refused(wh: Any, at_a01: list[Container], supervisor: Any,
                                             request_for: Callable[..., Any]) -> None:
    count = counting.open_count(actor=wh.clerk, location="A-01")
    request_for("API-01", "22")  # an open pick task reserves 22 kg of one drum (it does not move stock)
    held = StockBalance.objects.get(location__code="A-01", reserved__gt=0).container
    other = next(c for c in at_a01 if c != held)
    counting.enter_count(actor=wh.clerk, count_id=count.pk, lines={held.code: "5", other.code: "25"})
    with pytest.raises(DomainError) as refused:
        counting.approve_count(actor=supervisor, count_id=count.pk, signature=sig(supervisor), reason="short")
    assert refused.value.code == "insufficient_stock"
    assert on_hand(held) == Decimal("25")
