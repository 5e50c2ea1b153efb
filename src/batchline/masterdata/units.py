"""Unit conversion from the unit master (MD-02): never a guess, never a float."""

from __future__ import annotations

from decimal import Decimal

from batchline.core.quantity import Quantity
from batchline.masterdata.choices import Dimension, RecordStatus
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
    factor = _ratio(source, target)
    if factor is None:
        factor = _through_conversion(source, target, material)
    if factor is None:
        raise ConversionUnavailable(field="unit", from_unit=source.code, to_unit=target.code)
    return Quantity(quantity.amount * factor, target.code)


def _ratio(source: Unit, target: Unit) -> Decimal | None:
    """source → target without a conversion record: the same unit, or two units of one measurable
    dimension through their factors. Package units only ever equal themselves."""
    if source.pk == target.pk:
        return Decimal(1)
    if source.dimension == target.dimension and source.dimension != Dimension.PACKAGE:
        return source.factor / target.factor
    return None


def _through_conversion(source: Unit, target: Unit, material: Material | None) -> Decimal | None:
    """source → target through one approved conversion record, used in either direction; the
    material's own conversions win over general ones."""
    candidates: list[UnitConversion] = []
    if material is not None:
        candidates += UnitConversion.objects.filter(material=material, status=RecordStatus.APPROVED).select_related(
            "from_unit", "to_unit")
    candidates += UnitConversion.objects.filter(material__isnull=True, status=RecordStatus.APPROVED).select_related(
        "from_unit", "to_unit")
    for conv in candidates:
        into, out_of = _ratio(source, conv.from_unit), _ratio(conv.to_unit, target)
        if into is not None and out_of is not None:
            return into * conv.factor * out_of
        into, out_of = _ratio(source, conv.to_unit), _ratio(conv.from_unit, target)
        if into is not None and out_of is not None:
            return into / conv.factor * out_of
    return None


class MasterDataConverter:
    """core.quantity.UnitConverter backed by the unit master."""

    def __init__(self, material: Material | None = None) -> None:
        self.material = material

    def convert(self, quantity: Quantity, to_unit: str) -> Quantity:
        return convert(quantity, to_unit, material=self.material)
