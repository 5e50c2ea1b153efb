"""Code maps per external system: translate, never guess; unmapped codes are refused (MD-03)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core.errors import InvalidInput, PermissionDenied, ReasonRequired
from batchline.masterdata.codemaps import save_mapping, translate
from batchline.masterdata.errors import UnknownUnit, UnmappedCode
from batchline.masterdata.models import CodeMap


@pytest.fixture
def mapped(steward: Any, kg: Any, approved: Callable[..., Any]) -> None:
    approved("unit", code="drum", name_zh="桶", name_en="drum", dimension="count", factor="1")
    approved("material", code="API-001", name_zh="对乙酰氨基酚", name_en="Paracetamol", material_type="raw",
             base_unit="kg")
    save_mapping(actor=steward, system="SAP", kind="unit", external_code="KGM", internal_code="kg")
    save_mapping(actor=steward, system="SAP", kind="unit", external_code="公斤", internal_code="kg")
    save_mapping(actor=steward, system="SAP", kind="material", external_code="000000000010004711",
                 internal_code="API-001")


@pytest.mark.req("MD-03")
@pytest.mark.parametrize("alias", ["KGM", "公斤"])
def test_unit_alias_translates_to_the_batchline_unit(mapped: None, alias: str) -> None:
    assert translate("SAP", "unit", alias, field="unit") == "kg"


@pytest.mark.req("MD-03")
def test_material_code_translates_to_the_batchline_material(mapped: None) -> None:
    assert translate("SAP", "material", "000000000010004711", field="material") == "API-001"


@pytest.mark.req("MD-03")
def test_system_name_is_matched_in_any_letter_case(mapped: None) -> None:
    assert translate("sap", "unit", "KGM", field="unit") == "kg"


@pytest.mark.req("MD-03")
def test_exact_batchline_code_is_accepted_without_a_mapping(mapped: None) -> None:
    assert translate("WMS", "unit", "kg", field="unit") == "kg"
    assert translate("WMS", "material", "API-001", field="material") == "API-001"


@pytest.mark.req("MD-03")
def test_mapping_belongs_to_its_system_only(mapped: None) -> None:
    with pytest.raises(UnknownUnit):
        translate("LIMS", "unit", "KGM", field="unit")


@pytest.mark.req("MD-03", "MD-02")
def test_unmapped_unit_is_refused_naming_the_system_and_code(mapped: None) -> None:
    with pytest.raises(UnknownUnit) as refused:
        translate("SAP", "unit", "LBR", field="lines[0].unit")
    message = refused.value.render()
    assert "LBR" in message and "SAP" in message
    assert refused.value.field == "lines[0].unit"


@pytest.mark.req("MD-03")
def test_unmapped_material_is_refused_naming_the_system_and_code(mapped: None) -> None:
    with pytest.raises(UnmappedCode) as refused:
        translate("SAP", "material", "000000000099999999", field="material")
    message = refused.value.render()
    assert "000000000099999999" in message and "SAP" in message


@pytest.mark.req("MD-03")
def test_unit_code_is_not_guessed_from_letter_case(mapped: None) -> None:
    with pytest.raises(UnknownUnit):
        translate("SAP", "unit", "KG", field="unit")


@pytest.mark.req("MD-03")
def test_deactivated_mapping_no_longer_translates(mapped: None, steward: Any) -> None:
    save_mapping(actor=steward, system="SAP", kind="unit", external_code="KGM", internal_code="kg",
                 active=False, reason="SAP sends kg now")
    with pytest.raises(UnknownUnit):
        translate("SAP", "unit", "KGM", field="unit")


@pytest.mark.req("MD-03")
def test_mapping_to_an_unknown_batchline_code_is_refused(mapped: None, steward: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        save_mapping(actor=steward, system="SAP", kind="unit", external_code="LBR", internal_code="lb")
    assert refused.value.code == "unknown_code"
    assert not CodeMap.objects.filter(external_code="LBR").exists()


@pytest.mark.req("MD-03", "AT-02")
def test_changing_a_mapping_needs_a_reason_and_writes_nothing_without(mapped: None, steward: Any) -> None:
    entries = AuditEntry.objects.count()
    with pytest.raises(ReasonRequired):
        save_mapping(actor=steward, system="SAP", kind="unit", external_code="KGM", internal_code="drum")
    assert CodeMap.objects.get(system="SAP", external_code="KGM").internal_code == "kg"
    assert AuditEntry.objects.count() == entries


@pytest.mark.req("MD-03", "AT-01")
def test_changing_a_mapping_is_audited_with_old_and_new_code(mapped: None, steward: Any) -> None:
    mapping = save_mapping(actor=steward, system="SAP", kind="unit", external_code="KGM", internal_code="drum",
                           reason="SAP KGM was misused for drums")
    entry = AuditEntry.objects.filter(record_type="masterdata.codemap", record_id=str(mapping.pk)).latest("sequence")
    assert (entry.action, entry.reason, entry.actor_username) == ("update", "SAP KGM was misused for drums",
                                                                   "steward")
    assert json.loads(entry.changes) == {"internal_code": ["kg", "drum"]}


@pytest.mark.req("MD-03", "AC-02")
def test_only_a_data_steward_maps_codes(mapped: None, approver: Any) -> None:
    with pytest.raises(PermissionDenied):
        save_mapping(actor=approver, system="SAP", kind="unit", external_code="GRM", internal_code="kg")
