"""The message registry, its published JSON Schemas and the data dictionary generated from them
(INT-01): every message is documented, the documents match the code, and real events conform."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from batchline.api.management.commands import datadict, schemas
from batchline.api.messages import Envelope, message, messages
from batchline.core.canonical import canonical_json
from batchline.core.models import OutboxEvent
from batchline.core.outbox import SOURCE_SYSTEM, envelope
from batchline.masterdata import services
from batchline.masterdata.registry import kind_of
from conftest import sig

DOCS = Path(__file__).resolve().parents[2] / "docs"
pytestmark = pytest.mark.req("INT-01")


def _run(command: str, *args: str) -> None:
    call_command(command, *args, stdout=open("/dev/null", "w"))  # noqa: SIM115 - closed with the process


def test_every_message_has_a_schema_file_and_a_dictionary_section() -> None:
    dictionary = (DOCS / "datadict.md").read_text(encoding="utf-8")
    page = (DOCS / "datadict.html").read_text(encoding="utf-8")
    for m in messages():
        assert (DOCS / "schemas" / m.file_name).is_file(), m.name
        assert f"\n## {m.name}\n" in dictionary, m.name
        assert f'<h2 id="{m.name}">' in page, m.name


def test_message_names_are_unique() -> None:
    names = [m.name for m in messages()]
    assert len(names) == len(set(names))


def test_every_masterdata_event_type_has_an_outbound_message() -> None:
    outbound = {m.name for m in messages() if m.direction == "outbound"}
    for slug in ("unit", "conversion", "material", "site", "area", "room", "warehouse", "location",
                 "supplier", "customer"):
        for action in ("approved", "changed", "retired"):
            assert f"masterdata.{slug}.{action}" in outbound


def test_schemas_check_passes_on_the_committed_files() -> None:
    _run("schemas", "--check", "--dir", str(DOCS / "schemas"))


def test_datadict_check_passes_on_the_committed_files() -> None:
    _run("datadict", "--check", "--dir", str(DOCS))


def test_schemas_check_fails_naming_a_changed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "schemas"
    shutil.copytree(DOCS / "schemas", copy)
    changed = copy / "masterdata.unit.approved.json"
    changed.write_text(changed.read_text(encoding="utf-8").replace('"maxLength": 40', '"maxLength": 41'),
                       encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("schemas", "--check", "--dir", str(copy))
    assert refused.value.returncode == 1
    assert "masterdata.unit.approved.json" in capsys.readouterr().out


def test_schemas_check_fails_for_a_missing_file(tmp_path: Path) -> None:
    copy = tmp_path / "schemas"
    shutil.copytree(DOCS / "schemas", copy)
    (copy / "erp.material.upsert.json").unlink()
    assert schemas.differing_files(copy) == ["erp.material.upsert.json"]


def test_datadict_check_fails_after_the_dictionary_is_edited(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    for name in (datadict.MD_NAME, datadict.HTML_NAME):
        shutil.copy(DOCS / name, tmp_path / name)
    edited = tmp_path / datadict.MD_NAME
    edited.write_text(edited.read_text(encoding="utf-8").replace("max length 200", "max length 300"),
                      encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("datadict", "--check", "--dir", str(tmp_path))
    assert refused.value.returncode == 1
    out = capsys.readouterr().out
    assert datadict.MD_NAME in out and datadict.HTML_NAME not in out


def test_the_commands_write_what_the_check_expects(tmp_path: Path) -> None:
    _run("schemas", "--dir", str(tmp_path / "schemas"))
    _run("datadict", "--dir", str(tmp_path))
    assert schemas.differing_files(tmp_path / "schemas") == []
    assert datadict.differing_files(tmp_path) == []


def test_a_schema_file_is_draft_2020_12_with_sorted_keys_and_a_trailing_newline() -> None:
    text = (DOCS / "schemas" / "masterdata.material.approved.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert text.endswith("}\n")
    assert text == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", [m.name for m in messages()])
def test_every_field_has_an_english_and_a_chinese_description(name: str) -> None:
    rows = datadict.rows_of(message(name))
    assert rows
    for row in rows:
        assert row.description_en, f"{name}: {row.path} has no English description"
        assert row.description_zh, f"{name}: {row.path} has no Chinese description"


def test_the_dictionary_shows_the_erp_material_max_lengths_from_the_model() -> None:
    from batchline.api.schemas import MaterialUpsertIn

    rows = {row.path: row for row in datadict.rows_of(message("erp.material.upsert"))}
    for name in ("name_zh", "name_en", "gtin", "drug_code", "description", "change_control_ref"):
        max_length = next(m.max_length for m in MaterialUpsertIn.model_fields[name].metadata
                          if hasattr(m, "max_length"))
        assert f"max length {max_length}" in rows[name].size
        assert f"| `{name}` |" in (DOCS / "datadict.md").read_text(encoding="utf-8")
    assert rows["name_zh"].required and not rows["gtin"].required


def test_the_dictionary_shows_nested_paths_and_decimal_precision() -> None:
    rows = {row.path: row for row in datadict.rows_of(message("masterdata.unit.approved"))}
    assert rows["payload.content.factor"].type == "decimal string"
    assert rows["payload.content.factor"].size == "max digits 28; decimal places 12"
    assert rows["payload.content.dimension"].type.startswith("enum: mass, volume")


def test_the_envelope_model_has_exactly_the_fields_core_outbox_sends() -> None:
    from batchline.core import clock

    event = OutboxEvent(event_type="x.y", record_type="x", record_id="1", payload={}, correlation_id="",
                        occurred_at=clock.now())
    assert set(Envelope.model_fields) == set(envelope(event))
    assert SOURCE_SYSTEM == "batchline"  # the envelope model's Literal


def _event(event_type: str) -> dict[str, Any]:
    event = OutboxEvent.objects.get(event_type=event_type)
    return envelope(event)


def _conforms(body: dict[str, Any]) -> None:
    """As a receiver sees it: the canonical JSON bytes, validated strictly against the message model."""
    model = message(body["event_type"]).model
    model.model_validate_json(canonical_json(body), strict=True)


def test_a_real_unit_approval_event_conforms_to_its_published_schema(approved: Callable[..., Any]) -> None:
    approved("unit", code="kg", name_zh="千克", name_en="kilogram", dimension="mass", factor="1")
    _conforms(_event("masterdata.unit.approved"))


def test_a_real_material_approval_event_conforms_to_its_published_schema(kg: Any,
                                                                         approved: Callable[..., Any]) -> None:
    approved("material", code="M-1", name_zh="乳糖", name_en="lactose", material_type="raw", base_unit="kg",
             shelf_life_days=730)
    body = _event("masterdata.material.approved")
    _conforms(body)
    assert body["payload"]["content"]["retest_interval_days"] is None


def test_real_change_and_retire_events_conform_to_their_published_schemas(kg: Any, steward: Any,
                                                                          approver: Any) -> None:
    unit = kind_of("unit")
    for data, retire in (({"name_en": "kilogramme"}, False), ({}, True)):
        change = services.propose_change(actor=steward, kind=unit, item_id=kg.pk, data=data, reason="test",
                                         change_control_ref="CC-7", retire=retire)
        services.approve_change(actor=approver, change_id=change.pk, signature=sig(approver))
    _conforms(_event("masterdata.unit.changed"))
    _conforms(_event("masterdata.unit.retired"))


def test_an_envelope_with_an_unexpected_payload_field_is_refused(approved: Callable[..., Any]) -> None:
    from pydantic import ValidationError

    approved("unit", code="kg", name_zh="千克", name_en="kilogram", dimension="mass", factor="1")
    body = _event("masterdata.unit.approved")
    body["payload"]["content"]["extra"] = 1
    with pytest.raises(ValidationError):
        _conforms(body)


def test_a_real_purchase_order_event_conforms_to_its_published_schema(approved: Callable[..., Any], kg: Any,
                                                                      make_user: Callable[..., Any]) -> None:
    from batchline.inventory.services import REGISTERED, register_purchase_order

    approved("material", code="RM-001", name_zh="乳糖", name_en="Lactose", material_type="raw", base_unit="kg")
    approved("supplier", code="SUP-01", name_zh="甲供应商", name_en="Supplier A")
    line = {"line_no": 1, "material": "RM-001", "quantity": "12.500", "unit": "kg", "expected_date": "2026-12-01"}
    register_purchase_order(actor=make_user("warehouse"), source_system="SAP-PRD",
                            data={"po_number": "PO-1", "supplier": "SUP-01", "lines": [line]})
    _conforms(_event(REGISTERED))


def test_the_purchase_order_payload_statuses_are_the_model_statuses() -> None:
    from batchline.api.messages import PurchaseOrderPayload
    from batchline.inventory.models import PurchaseOrderStatus

    assert PurchaseOrderPayload.model_json_schema()["properties"]["status"]["enum"] == PurchaseOrderStatus.values


def test_the_dictionary_names_the_unit_field_of_a_quantity() -> None:
    rows = {row.path: row for row in datadict.rows_of(message("erp.purchase-order"))}
    assert rows["payload.lines[].quantity"].unit == "unit"
    assert rows["payload.lines"].size == "min 1 items; max 500 items"


def test_a_tiny_unit_factor_goes_out_as_a_plain_decimal_string(approved: Callable[..., Any]) -> None:
    approved("unit", code="ug", name_zh="微克", name_en="microgram", dimension="mass", factor="0.000000001")
    body = _event("masterdata.unit.approved")
    assert body["payload"]["content"]["factor"] == "0.000000001000"
    _conforms(body)
