"""Quantity: a Decimal amount with an explicit unit. Never a float.

Conversions between units come from the unit master (masterdata); this module only defines the
value type and the protocol a converter must satisfy, so that core stays the lowest layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from django.utils.translation import gettext_lazy as _

from batchline.core.errors import InvalidInput


class UnitMismatch(InvalidInput):
    code = "unit_mismatch"
    default_message = _("Quantities in {left} and {right} cannot be combined without a conversion.")


def to_decimal(value: object, *, field: str | None = None) -> Decimal:
    """Parse a decimal from a string, int or Decimal. Floats are refused: they are not exact."""
    if isinstance(value, bool | float):
        raise InvalidInput(_("Quantities must be given as decimal strings, not floating point."), field=field,
                           code="not_decimal")
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("'{value}' is not a decimal number."), field=field, code="not_decimal",
                           value=value) from None
    if not result.is_finite():
        raise InvalidInput(_("'{value}' is not a decimal number."), field=field, code="not_decimal", value=value)
    return result


@dataclass(frozen=True)
class Quantity:
    amount: Decimal
    unit: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", to_decimal(self.amount))

    def _same_unit(self, other: Quantity) -> None:
        if other.unit != self.unit:
            raise UnitMismatch(left=self.unit, right=other.unit)

    def __add__(self, other: Quantity) -> Quantity:
        self._same_unit(other)
        return Quantity(self.amount + other.amount, self.unit)

    def __sub__(self, other: Quantity) -> Quantity:
        self._same_unit(other)
        return Quantity(self.amount - other.amount, self.unit)

    def __mul__(self, factor: Decimal) -> Quantity:
        return Quantity(self.amount * to_decimal(factor), self.unit)

    def __lt__(self, other: Quantity) -> bool:
        self._same_unit(other)
        return self.amount < other.amount

    def __le__(self, other: Quantity) -> bool:
        self._same_unit(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"


class UnitConverter(Protocol):
    def convert(self, quantity: Quantity, to_unit: str) -> Quantity: ...
