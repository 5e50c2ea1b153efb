"""Quantity: Decimal with an explicit unit, never a float (DESIGN.md §3.6)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from batchline.core.errors import InvalidInput
from batchline.core.quantity import Quantity, UnitMismatch, to_decimal


@pytest.mark.req("MD-02")
def test_quantity_refuses_a_float_amount() -> None:
    with pytest.raises(InvalidInput) as refused:
        Quantity(1.5, "kg")  # type: ignore[arg-type]
    assert refused.value.code == "not_decimal"


def test_to_decimal_refuses_a_float() -> None:
    with pytest.raises(InvalidInput):
        to_decimal(0.1)


def test_to_decimal_refuses_a_boolean() -> None:
    with pytest.raises(InvalidInput):
        to_decimal(True)


def test_to_decimal_refuses_text_that_is_not_a_number() -> None:
    with pytest.raises(InvalidInput) as refused:
        to_decimal("1,5", field="quantity")
    assert refused.value.field == "quantity"


def test_to_decimal_refuses_infinity_and_nan() -> None:
    for text in ("Infinity", "NaN"):
        with pytest.raises(InvalidInput):
            to_decimal(text)


def test_quantity_parses_a_decimal_string_exactly() -> None:
    assert Quantity("0.1", "kg").amount == Decimal("0.1")  # type: ignore[arg-type]


def test_quantities_of_the_same_unit_add_exactly() -> None:
    total = Quantity(Decimal("0.1"), "kg") + Quantity(Decimal("0.2"), "kg")
    assert total == Quantity(Decimal("0.3"), "kg")


def test_quantities_of_different_units_do_not_add() -> None:
    with pytest.raises(UnitMismatch):
        Quantity(Decimal("1"), "kg") + Quantity(Decimal("1"), "g")


def test_quantities_of_different_units_do_not_subtract() -> None:
    with pytest.raises(UnitMismatch):
        Quantity(Decimal("1"), "kg") - Quantity(Decimal("1"), "g")


def test_quantities_of_different_units_do_not_compare() -> None:
    with pytest.raises(UnitMismatch):
        _ = Quantity(Decimal("1"), "kg") < Quantity(Decimal("1"), "g")


def test_quantity_multiplied_by_a_float_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Quantity(Decimal("2"), "kg") * 1.5  # type: ignore[operator]


def test_quantity_multiplied_by_a_decimal_keeps_its_unit() -> None:
    assert Quantity(Decimal("2"), "kg") * Decimal("1.5") == Quantity(Decimal("3.0"), "kg")
