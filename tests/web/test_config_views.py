"""Configuration screens: number rules with a preview (MD-04) and code maps per external system (MD-03)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from batchline.compliance.models import AuditEntry
from batchline.core import clock
from batchline.masterdata import codemaps, numbering
from batchline.masterdata.models import CodeMap, IssuedNumber, NumberRule

# 16:30 UTC on 31 March is 00:30 on 1 April in Shanghai: numbers carry the site's date.
MOMENT = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def error_code(html: str) -> str | None:
    found = re.search(r'data-testid="error" data-code="([^"]+)"', html)
    return found.group(1) if found else None


def previews(html: str) -> list[str]:
    return re.findall(r'<code data-testid="preview">([^<]*)</code>', html)


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: MOMENT)


@pytest.fixture
def lot_rule(steward: Any) -> NumberRule:
    return numbering.save_rule(actor=steward, key="lot", prefix="L", pattern="{prefix}{yy}{mm}{dd}-{seq:04}",
                               reset="daily", description="Material lots")


def rule_form(**overrides: str) -> dict[str, str]:
    data = {"key": "batch", "description": "Batches", "prefix": "B", "pattern": "{prefix}{yyyy}{mm}-{seq:05}",
            "reset": "monthly", "save": "1"}
    data.update(overrides)
    return data


# --- number rules -------------------------------------------------------------------------------------

@pytest.mark.req("MD-04")
def test_creating_a_number_rule_through_the_form_is_audited(steward: Any) -> None:
    response = client_for(steward).post(reverse("web:number_rule_create"), rule_form())

    rule = NumberRule.objects.get(key="batch")
    assert response.status_code == 302
    assert (rule.prefix, rule.pattern, rule.reset) == ("B", "{prefix}{yyyy}{mm}-{seq:05}", "monthly")
    assert AuditEntry.objects.filter(record_type="masterdata.numberrule", record_id=str(rule.pk),
                                     action="create").exists()


@pytest.mark.req("MD-04")
def test_the_list_previews_the_next_number_without_issuing_it(steward: Any, lot_rule: NumberRule,
                                                              fixed_clock: None) -> None:
    numbering.next_number("lot")

    html = client_for(steward).get(reverse("web:number_rules")).content.decode()

    assert previews(html) == ["L260401-0002"]
    assert IssuedNumber.objects.count() == 1
    assert numbering.next_number("lot") == "L260401-0002"


@pytest.mark.req("MD-04")
def test_the_form_previews_a_typed_pattern_without_saving_it(steward: Any, fixed_clock: None) -> None:
    form = rule_form()
    del form["save"]
    form["preview"] = "1"

    html = client_for(steward).post(reverse("web:number_rule_create"), form).content.decode()

    assert previews(html) == ["B202604-00001"]
    assert not NumberRule.objects.exists()


@pytest.mark.req("MD-04")
def test_a_pattern_without_a_running_number_is_refused_next_to_the_pattern(steward: Any) -> None:
    response = client_for(steward).post(reverse("web:number_rule_create"),
                                        rule_form(pattern="{prefix}{yyyy}"))

    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'data-field="pattern">.*?data-testid="field-error"', html, re.S)
    assert "{seq:05}" in html and "{{seq" not in html
    assert not NumberRule.objects.exists()


@pytest.mark.req("MD-04", "AT-02")
def test_changing_a_number_rule_needs_a_reason(steward: Any, lot_rule: NumberRule) -> None:
    client = client_for(steward)
    url = reverse("web:number_rule_edit", args=["lot"])
    changed = {"description": "Material lots", "prefix": "LOT", "pattern": "{prefix}{yy}{mm}{dd}-{seq:04}",
               "reset": "daily", "save": "1"}

    refused = client.post(url, {**changed, "reason": ""})
    lot_rule.refresh_from_db()
    assert (error_code(refused.content.decode()), lot_rule.prefix) == ("reason_required", "L")

    client.post(url, {**changed, "reason": "Lot labels need the LOT prefix"})
    lot_rule.refresh_from_db()
    assert lot_rule.prefix == "LOT"
    entry = AuditEntry.objects.get(record_type="masterdata.numberrule", record_id=str(lot_rule.pk),
                                   action="update")
    assert (entry.reason, entry.change_items) == ("Lot labels need the LOT prefix", [("prefix", "L", "LOT")])


@pytest.mark.req("AC-02")
def test_configuration_needs_masterdata_configure(make_user: Callable[..., Any]) -> None:
    reviewer = client_for(make_user("qa_reviewer"))

    assert reviewer.get(reverse("web:number_rules")).status_code == 403
    assert reviewer.post(reverse("web:number_rule_create"), rule_form()).status_code == 403
    assert reviewer.get(reverse("web:code_maps")).status_code == 403
    assert not NumberRule.objects.exists()


# --- code maps ---------------------------------------------------------------------------------------

@pytest.mark.req("MD-03")
def test_creating_a_code_map_through_the_form_translates_the_external_code(steward: Any, kg: Any) -> None:
    response = client_for(steward).post(reverse("web:code_map_create"), {
        "system": "erp", "kind": "unit", "external_code": "KGM", "internal_code": "kg", "active": "yes"})

    mapping = CodeMap.objects.get()
    assert response.status_code == 302
    assert (mapping.system, mapping.external_code, mapping.internal_code) == ("ERP", "KGM", "kg")
    assert mapping.active
    assert codemaps.translate("ERP", "unit", "KGM", field="unit") == "kg"
    assert AuditEntry.objects.filter(record_type="masterdata.codemap", record_id=str(mapping.pk),
                                     action="create").exists()


@pytest.mark.req("MD-03")
def test_a_code_map_to_an_unknown_code_is_refused_next_to_the_field(steward: Any, kg: Any) -> None:
    response = client_for(steward).post(reverse("web:code_map_create"), {
        "system": "ERP", "kind": "unit", "external_code": "LBR", "internal_code": "lb", "active": "yes"})

    assert response.status_code == 422
    assert re.search(r'data-field="internal_code">.*?data-testid="field-error"', response.content.decode(),
                     re.S)
    assert not CodeMap.objects.exists()


@pytest.mark.req("MD-03", "AT-02")
def test_changing_a_code_map_needs_a_reason(steward: Any, kg: Any, approved: Callable[..., Any]) -> None:
    approved("unit", code="g", name_zh="克", name_en="gram", dimension="mass", factor="0.001")
    mapping = codemaps.save_mapping(actor=steward, system="ERP", kind="unit", external_code="KGM",
                                    internal_code="kg")
    client = client_for(steward)
    url = reverse("web:code_map_edit", args=[mapping.pk])

    refused = client.post(url, {"internal_code": "g", "active": "yes", "reason": ""})
    mapping.refresh_from_db()
    assert (error_code(refused.content.decode()), mapping.internal_code) == ("reason_required", "kg")

    client.post(url, {"internal_code": "kg", "reason": "ERP no longer sends KGM", "system": "X",
                      "external_code": "other"})
    mapping.refresh_from_db()
    assert (mapping.system, mapping.external_code, mapping.active) == ("ERP", "KGM", False)
    entry = AuditEntry.objects.get(record_type="masterdata.codemap", record_id=str(mapping.pk),
                                   action="update")
    assert (entry.reason, entry.change_items) == ("ERP no longer sends KGM", [("active", True, False)])


@pytest.mark.req("MD-03")
def test_the_code_map_list_filters_by_system_and_kind(steward: Any, kg: Any,
                                                      approved: Callable[..., Any]) -> None:
    approved("material", code="RM-001", name_zh="乳糖", name_en="Lactose", material_type="raw",
             base_unit="kg")
    codemaps.save_mapping(actor=steward, system="ERP", kind="unit", external_code="KGM", internal_code="kg")
    codemaps.save_mapping(actor=steward, system="ERP", kind="material", external_code="100234",
                          internal_code="RM-001")
    codemaps.save_mapping(actor=steward, system="LIMS", kind="unit", external_code="kilo", internal_code="kg")
    client = client_for(steward)

    erp_units = client.get(reverse("web:code_maps"), {"system": "ERP", "kind": "unit"}).content.decode()

    table = re.search(r'data-testid="code-maps">(.*?)</table>', erp_units, re.S)
    assert table is not None
    assert "KGM" in table.group(1)
    assert "100234" not in table.group(1) and "kilo<" not in table.group(1)
