"""Unit conversion from the unit master (MD-02): never a guess, never a float."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q

from batchline.core.quantity import Quantity
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.errors import ConversionUnavailable, UnknownUnit
from batchline.masterdata.models import Material, Unit, UnitConversion


def unit(code: str, *, field: str = "unit") -> Unit:
    """The approved unit with this exact code; anything else is refused."""
    found = Unit.objects.filter(code=code, status=RecordStatus.APPROVED).first()
    if found is None:
        raise UnknownUnit(field=field, unit=code)
    return found


def convert(quantity: Quantity, to_unit: str, *, material: Material | None = None) -> Quantity:
    source, target = unit(quantity.unit), unit(to_unit, field="to_unit")
    if source.pk == target.pk:
        return quantity
    if source.dimension == target.dimension:
        return Quantity(quantity.amount * source.factor / target.factor, target.code)
    factor = _cross_dimension_factor(source, target, material)
    if factor is None:
        raise ConversionUnavailable(field="unit", from_unit=source.code, to_unit=target.code)
    return Quantity(quantity.amount * factor, target.code)


def _cross_dimension_factor(source: Unit, target: Unit, material: Material | None) -> Decimal | None:
    """Look for a material-specific conversion first, then a general one, in either direction.
    Units of the same dimension as either end are reached through their factors."""
    scope = Q(material=material) if material is not None else Q(material__isnull=True)
    candidates = list(UnitConversion.objects.filter(scope, status=RecordStatus.APPROVED)
                      .select_related("from_unit", "to_unit"))
    if material is not None:
        candidates += list(UnitConversion.objects.filter(material__isnull=True, status=RecordStatus.APPROVED)
                           .select_related("from_unit", "to_unit"))
    for conv in candidates:
        a, b = conv.from_unit, conv.to_unit
        if a.dimension == source.dimension and b.dimension == target.dimension:
            return source.factor / a.factor * conv.factor * b.factor / target.factor
        if b.dimension == source.dimension and a.dimension == target.dimension:
            return source.factor / b.factor / conv.factor * a.factor / target.factor
    return None


class MasterDataConverter:
    """core.quantity.UnitConverter backed by the unit master."""

    def __init__(self, material: Material | None = None) -> None:
        self.material = material

    def convert(self, quantity: Quantity, to_unit: str) -> Quantity:
        return convert(quantity, to_unit, material=self.material)
