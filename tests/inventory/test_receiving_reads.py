"""What the receiving screens and API read: open purchase orders, receiving locations, container stock."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from batchline.core.errors import DomainError
from batchline.inventory import receiving


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The refusals are compared in English here; the Chinese catalogue has its own test."""
    with translation.override("en"):
        yield


def test_receiving_locations_offer_receiving_before_quarantine(wh: Any) -> None:
    assert [loc.code for loc in receiving.receiving_locations()] == ["RCV-01", "QUA-01", "QUA-C"]


def test_open_quantity_follows_receipts_and_never_goes_below_zero(wh: Any, receive: Any) -> None:
    line = wh.lines["API-01"]
    receive("API-01", containers=2, each="25")
    line.refresh_from_db()
    assert receiving.open_quantity(line) == Decimal("99950")
    line.received_quantity = Decimal("100001")
    assert receiving.open_quantity(line) == 0
    assert [order.po_number for order in receiving.open_purchase_orders()] == ["PO-1"]


def test_container_stock_sums_what_a_container_holds_and_where(wh: Any, receive: Any) -> None:
    lot = receive("EXC-01", containers=2, each="7.5", last="2")
    stock = receiving.container_stock(list(lot.containers.select_related("lot__material__base_unit")))
    assert [(s.container.serial, s.quantity, s.unit, s.locations) for s in stock] == [
        (1, Decimal("7.5"), "kg", ("RCV-01",)), (2, Decimal("2"), "kg", ("RCV-01",))]


def test_an_unknown_container_code_is_refused_by_name(wh: Any) -> None:
    with pytest.raises(DomainError) as refused:
        receiving.container_by_code("L0000-001")
    assert refused.value.code == "unknown_container" and "L0000-001" in refused.value.render()


@pytest.mark.req("WMS-01")
def test_an_unknown_receiving_location_is_named_in_the_refusal(wh: Any, receive: Any) -> None:
    with translation.override("en"), pytest.raises(DomainError) as refused:
        receive("API-01", location="NOWHERE")
    assert refused.value.code == "not_found" and refused.value.field == "location"
    assert refused.value.render() == "There is no approved location 'NOWHERE'."
