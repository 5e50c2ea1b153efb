"""Unit conversion from the unit master, exact and never guessed (MD-02)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from batchline.core.errors import InvalidInput
from batchline.core.quantity import Quantity
from batchline.masterdata.errors import ConversionUnavailable, UnknownUnit
from batchline.masterdata.units import MasterDataConverter, convert


@pytest.fixture
def units(approved: Callable[..., Any], kg: Any) -> dict[str, Any]:
    return {
        "kg": kg,
        "g": approved("unit", code="g", name_zh="克", name_en="gram", dimension="mass", factor="0.001"),
        "mg": approved("unit", code="mg", name_zh="毫克", name_en="milligram", dimension="mass",
                       factor="0.000001"),
        "drum": approved("unit", code="drum", name_zh="桶", name_en="drum", dimension="package", factor="1"),
        "L": approved("unit", code="L", name_zh="升", name_en="litre", dimension="volume", factor="1"),
    }


@pytest.fixture
def materials(approved: Callable[..., Any], units: dict[str, Any]) -> dict[str, Any]:
    """Paracetamol comes in 25 kg drums; lactose in 50 kg drums."""
    paracetamol = approved("material", code="API-001", name_zh="对乙酰氨基酚", name_en="Paracetamol",
                           material_type="raw", base_unit="kg")
    lactose = approved("material", code="EXC-002", name_zh="乳糖", name_en="Lactose", material_type="raw",
                       base_unit="kg")
    approved("conversion", code="API-001-drum", name_zh="桶", name_en="drum of API-001", material="API-001",
             from_unit="drum", to_unit="kg", factor="25")
    approved("conversion", code="EXC-002-drum", name_zh="桶", name_en="drum of EXC-002", material="EXC-002",
             from_unit="drum", to_unit="kg", factor="50")
    return {"paracetamol": paracetamol, "lactose": lactose}


def q(amount: str, unit: str) -> Quantity:
    return Quantity(Decimal(amount), unit)


@pytest.mark.req("MD-02")
def test_kilograms_convert_to_grams_exactly(units: dict[str, Any]) -> None:
    result = convert(q("1.5", "kg"), "g")
    assert result == q("1500", "g")
    assert isinstance(result.amount, Decimal)


@pytest.mark.req("MD-02")
def test_grams_convert_to_kilograms_exactly(units: dict[str, Any]) -> None:
    assert convert(q("250", "g"), "kg") == q("0.25", "kg")


@pytest.mark.req("MD-02")
def test_conversion_has_no_binary_rounding(units: dict[str, Any]) -> None:
    # 0.1 + 0.2 in floats is 0.30000000000000004; from the unit master it is exactly 0.3.
    assert convert(q("0.1", "g"), "mg") + convert(q("0.2", "g"), "mg") == q("300", "mg")


@pytest.mark.req("MD-02")
def test_conversion_to_the_same_unit_returns_the_quantity(units: dict[str, Any]) -> None:
    assert convert(q("7", "kg"), "kg") == q("7", "kg")


@pytest.mark.req("MD-02")
def test_material_specific_drums_convert_to_kilograms(materials: dict[str, Any]) -> None:
    assert convert(q("2", "drum"), "kg", material=materials["paracetamol"]) == q("50", "kg")
    assert convert(q("2", "drum"), "kg", material=materials["lactose"]) == q("100", "kg")


@pytest.mark.req("MD-02")
def test_material_specific_conversion_works_backwards(materials: dict[str, Any]) -> None:
    assert convert(q("75", "kg"), "drum", material=materials["paracetamol"]) == q("3", "drum")


@pytest.mark.req("MD-02")
def test_material_specific_conversion_reaches_other_units_of_the_dimension(materials: dict[str, Any]) -> None:
    assert convert(q("1", "drum"), "g", material=materials["paracetamol"]) == q("25000", "g")
    assert convert(q("12500", "g"), "drum", material=materials["paracetamol"]) == q("0.5", "drum")


@pytest.mark.req("MD-02")
def test_material_conversion_does_not_apply_without_the_material(materials: dict[str, Any]) -> None:
    with pytest.raises(ConversionUnavailable):
        convert(q("1", "drum"), "kg")


@pytest.mark.req("MD-02")
def test_missing_conversion_between_dimensions_is_refused(materials: dict[str, Any]) -> None:
    with pytest.raises(ConversionUnavailable) as refused:
        convert(q("1", "kg"), "L", material=materials["paracetamol"])
    assert refused.value.params == {"from_unit": "kg", "to_unit": "L"}


@pytest.mark.req("MD-02")
def test_unknown_unit_is_refused(units: dict[str, Any]) -> None:
    with pytest.raises(UnknownUnit) as refused:
        convert(q("1", "KGM"), "kg")
    assert refused.value.params["unit"] == "KGM"


@pytest.mark.req("MD-02")
def test_unknown_target_unit_is_refused(units: dict[str, Any]) -> None:
    with pytest.raises(UnknownUnit) as refused:
        convert(q("1", "kg"), "lb")
    assert refused.value.field == "to_unit"


@pytest.mark.req("MD-02")
def test_unit_codes_are_not_guessed_from_letter_case(units: dict[str, Any]) -> None:
    with pytest.raises(UnknownUnit):
        convert(q("1", "KG"), "g")


@pytest.mark.req("MD-02")
def test_draft_unit_is_not_used_for_conversion(units: dict[str, Any], steward: Any) -> None:
    from batchline.masterdata import services
    from batchline.masterdata.registry import kind_of

    services.create_item(actor=steward, kind=kind_of("unit"), data={
        "code": "t", "name_zh": "吨", "name_en": "tonne", "dimension": "mass", "factor": "1000"})
    with pytest.raises(UnknownUnit):
        convert(q("1", "t"), "kg")


@pytest.mark.req("MD-02")
def test_float_quantities_never_reach_a_conversion() -> None:
    with pytest.raises(InvalidInput):
        convert(Quantity(0.5, "kg"), "g")  # type: ignore[arg-type]


@pytest.mark.req("MD-02")
def test_converter_for_a_material_follows_the_unit_master(materials: dict[str, Any]) -> None:
    converter = MasterDataConverter(materials["paracetamol"])
    assert converter.convert(q("1", "drum"), "kg") == q("25", "kg")


@pytest.mark.req("MD-02")
def test_package_units_never_convert_by_factor(units: dict[str, Any], approved: Callable[..., Any]) -> None:
    approved("unit", code="box", name_zh="盒", name_en="box", dimension="package", factor="1")
    with pytest.raises(ConversionUnavailable):
        convert(q("3", "drum"), "box")


@pytest.mark.req("MD-02")
def test_package_units_convert_through_an_explicit_conversion(units: dict[str, Any],
                                                              approved: Callable[..., Any]) -> None:
    approved("unit", code="box", name_zh="盒", name_en="box", dimension="package", factor="1")
    approved("unit", code="carton", name_zh="箱", name_en="carton", dimension="package", factor="1")
    approved("conversion", code="carton-box", name_zh="箱/盒", name_en="carton of 20 boxes", from_unit="carton",
             to_unit="box", factor="20")
    assert convert(q("3", "carton"), "box") == q("60", "box")
    assert convert(q("10", "box"), "carton") == q("0.5", "carton")
