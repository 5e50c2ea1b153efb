"""Filtering and exporting the audit trail (AT-09)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.management import call_command

from batchline.compliance.selectors import CSV_HEADER, AuditFilter, audit_entries, export_csv
from batchline.core import clock
from batchline.masterdata import services
from batchline.masterdata.registry import kind_of
from conftest import sig

UNIT = kind_of("unit")
GRAM = {"code": "g", "name_zh": "克", "name_en": "gram", "dimension": "mass", "factor": "0.001"}
LITRE = {"code": "L", "name_zh": "升", "name_en": "litre", "dimension": "volume", "factor": "1"}


@pytest.fixture
def trail(steward: Any, approver: Any) -> dict[str, Any]:
    """A gram made and approved, then a litre made: with the moments between them."""
    start = clock.now()
    gram = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    services.approve_item(actor=approver, kind=UNIT, item_id=gram.pk, signature=sig(approver))
    middle = clock.now()
    litre = services.create_item(actor=steward, kind=UNIT, data=LITRE)
    return {"gram": gram, "litre": litre, "start": start, "middle": middle, "end": clock.now()}


def units(flt: AuditFilter) -> list[tuple[str, str]]:
    qs = audit_entries(flt).filter(record_type="masterdata.unit").order_by("id")
    return [(e.record_label, e.action) for e in qs]


@pytest.mark.req("AT-09")
def test_filter_by_user(trail: dict[str, Any]) -> None:
    assert units(AuditFilter(username="qareviewer")) == [("g", "approve")]


@pytest.mark.req("AT-09")
def test_filter_by_action(trail: dict[str, Any]) -> None:
    assert units(AuditFilter(action="create")) == [("g", "create"), ("L", "create")]


@pytest.mark.req("AT-09")
def test_filter_by_record(trail: dict[str, Any]) -> None:
    flt = AuditFilter(record_type="masterdata.unit", record_id=str(trail["gram"].pk))
    assert units(flt) == [("g", "create"), ("g", "approve")]


@pytest.mark.req("AT-09")
def test_filter_by_time_window(trail: dict[str, Any]) -> None:
    assert units(AuditFilter(since=trail["start"], until=trail["middle"])) == [("g", "create"),
                                                                                ("g", "approve")]
    assert units(AuditFilter(since=trail["middle"], until=trail["end"])) == [("L", "create")]


@pytest.mark.req("AT-09")
def test_filter_by_record_label_text(trail: dict[str, Any]) -> None:
    found = audit_entries(AuditFilter(text="l", record_type="masterdata.unit"))
    assert [e.record_label for e in found] == ["L"]


@pytest.mark.req("AT-09")
def test_filters_combine(trail: dict[str, Any]) -> None:
    assert units(AuditFilter(username="steward", since=trail["middle"])) == [("L", "create")]


@pytest.mark.req("AT-09")
def test_newest_entries_come_first(trail: dict[str, Any]) -> None:
    actions = [e.action for e in audit_entries(AuditFilter(record_type="masterdata.unit"))]
    assert actions == ["create", "approve", "create"]


def read_csv(flt: AuditFilter) -> list[list[str]]:
    text = "".join(export_csv(audit_entries(flt)))
    assert text.startswith("\ufeff")  # Excel opens UTF-8 (Chinese names) only with the BOM
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.mark.req("AT-09")
def test_csv_export_has_a_header_and_one_row_per_changed_field(trail: dict[str, Any]) -> None:
    rows = read_csv(AuditFilter(record_type="masterdata.unit", record_id=str(trail["gram"].pk),
                                action="create"))
    assert rows[0] == CSV_HEADER
    by_field = {row[CSV_HEADER.index("field")]: row for row in rows[1:]}
    assert sorted(by_field) == ["code", "dimension", "factor", "name_en", "name_zh", "symbol"]
    name = by_field["name_zh"]
    assert (name[CSV_HEADER.index("old_value")], name[CSV_HEADER.index("new_value")]) == ("", "克")
    assert name[CSV_HEADER.index("user")] == "steward"
    assert name[CSV_HEADER.index("user_name")] == "王明 Wang Ming"


@pytest.mark.req("AT-09", "ES-01")
def test_csv_export_shows_old_and_new_value_time_zone_and_signature(trail: dict[str, Any]) -> None:
    [row] = read_csv(AuditFilter(action="approve", record_id=str(trail["gram"].pk),
                                 record_type="masterdata.unit"))[1:]
    cell = dict(zip(CSV_HEADER, row, strict=True))
    assert (cell["field"], cell["old_value"], cell["new_value"]) == ("status", "draft", "approved")
    assert cell["occurred_at_site"].endswith("CST (UTC+08:00)")
    assert (cell["signature_meaning"], cell["signed_by"]) == ("Approved", "李华 Li Hua")


@pytest.mark.req("AT-09")
def test_audit_export_command_writes_the_filtered_csv(trail: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command("audit", "export", "--user", "qareviewer", "--record-type", "masterdata.unit", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff"))))
    assert rows[0] == CSV_HEADER
    assert [(r[CSV_HEADER.index("user")], r[CSV_HEADER.index("action")]) for r in rows[1:]] == [
        ("qareviewer", "approve")]
