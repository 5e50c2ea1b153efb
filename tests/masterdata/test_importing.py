"""Master-data import from CSV and Excel: reading files, the dry run, applying, the batch record and
the `batchline import_masterdata` command (MD-05)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from batchline.compliance.models import AuditEntry
from batchline.core.errors import PermissionDenied, ReasonRequired
from batchline.masterdata import importing, services
from batchline.masterdata.choices import ChangeStatus, RecordStatus
from batchline.masterdata.errors import ChangeControlRequired
from batchline.masterdata.models import ImportBatch, MasterDataChange, Material, Unit
from batchline.masterdata.registry import KINDS, kind_of

UNIT = kind_of("unit")
MATERIAL = kind_of("material")
UNIT_HEADER = "code,name_zh,name_en,dimension,factor\n"
MATERIAL_HEADER = "code,name_zh,name_en,material_type,base_unit,gtin\n"


def table(text: str, filename: str = "file.csv") -> list[dict[str, str]]:
    return importing.read_table(filename, text.encode("utf-8"))


def plan(kind: Any, text: str) -> importing.ImportPlan:
    return importing.plan_import(kind, table(text))


def by_row(result: importing.ImportPlan) -> dict[int, importing.PlanEntry]:
    return {entry.row: entry for entry in result.entries}


def written() -> tuple[int, int, int, int]:
    return (AuditEntry.objects.count(), Unit.objects.count(), Material.objects.count(),
            MasterDataChange.objects.count())


@pytest.fixture
def units(steward: Any, approved: Any, kg: Any) -> dict[str, Any]:
    """kg and t approved, g a draft."""
    t = approved("unit", code="t", name_zh="吨", name_en="tonne", dimension="mass", factor="1000")
    g = services.create_item(actor=steward, kind=UNIT, data={"code": "g", "name_zh": "克", "name_en": "gram",
                                                             "dimension": "mass", "factor": "0.001"})
    return {"kg": kg, "t": t, "g": g}


def xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reading files ----------------------------------------------------------------------------------

@pytest.mark.req("MD-05")
def test_csv_with_utf8_bom_is_read() -> None:
    rows = importing.read_table("u.csv", b"\xef\xbb\xbf" + (UNIT_HEADER + "g,克,gram,mass,0.001\n").encode())
    assert rows == [{"code": "g", "name_zh": "克", "name_en": "gram", "dimension": "mass", "factor": "0.001"}]


@pytest.mark.req("MD-05")
def test_csv_in_gb18030_is_read() -> None:
    rows = importing.read_table("u.csv", (UNIT_HEADER + "g,克,gram,mass,0.001\r\n").encode("gb18030"))
    assert rows[0]["name_zh"] == "克"


def test_csv_in_utf16_with_bom_is_read() -> None:
    rows = importing.read_table("u.csv", (UNIT_HEADER + "g,克,gram,mass,0.001\n").encode("utf-16"))
    assert rows[0]["name_zh"] == "克"


@pytest.mark.parametrize("separator", [";", "\t"])
def test_semicolon_and_tab_separated_csv_is_read(separator: str) -> None:
    text = (UNIT_HEADER + "g,克,gram,mass,0.001\n").replace(",", separator)
    assert table(text)[0]["factor"] == "0.001"


def test_values_and_header_names_are_stripped_and_header_is_case_insensitive() -> None:
    rows = table(" Code , Name_EN \n  g  ,  gram \n")
    assert rows == [{"code": "g", "name_en": "gram"}]


@pytest.mark.req("MD-05")
def test_xlsx_first_sheet_is_read_with_numbers_as_typed() -> None:
    data = xlsx([["code", "name_zh", "name_en", "dimension", "factor", "symbol"],
                 ["g", "克", "gram", "mass", 0.001, None],
                 ["t", "吨", "tonne", "mass", 1000, "t"]])
    rows = importing.read_table("units.xlsx", data)
    assert rows == [
        {"code": "g", "name_zh": "克", "name_en": "gram", "dimension": "mass", "factor": "0.001",
         "symbol": ""},
        {"code": "t", "name_zh": "吨", "name_en": "tonne", "dimension": "mass", "factor": "1000",
         "symbol": "t"},
    ]


def test_blank_rows_are_kept_so_row_numbers_match_the_file_and_trailing_ones_dropped() -> None:
    rows = table(UNIT_HEADER + "g,克,gram,mass,0.001\n,,,,\nt,吨,tonne,mass,1000\n,,,,\n\n")
    assert [r["code"] for r in rows] == ["g", "", "t"]


@pytest.mark.parametrize(("filename", "data"), [
    ("units.xls", b"\xd0\xcf\x11\xe0"),
    ("units.txt", b"code\ng\n"),
    ("units.xlsx", b"not a workbook"),
    ("units.csv", b""),
    ("units.csv", UNIT_HEADER.encode()),
    ("units.csv", b"name_en\ngram\n"),
    ("units.csv", b"code,code\ng,g\n"),
    ("units.csv", b"code\ng,extra\n"),
    ("units.csv", b"code,\ng,value without a column name\n"),
])
def test_unreadable_files_are_refused_with_a_clear_error(filename: str, data: bytes) -> None:
    with pytest.raises(importing.ImportFileInvalid) as refused:
        importing.read_table(filename, data)
    assert refused.value.field == "file"
    assert refused.value.render()


def test_files_over_the_size_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 10)
    with pytest.raises(importing.ImportFileInvalid):
        importing.read_table("u.csv", (UNIT_HEADER + "g,克,gram,mass,0.001\n").encode())


def test_an_empty_trailing_column_is_ignored() -> None:
    assert table("code,name_en,\ng,gram,\n") == [{"code": "g", "name_en": "gram"}]


@pytest.mark.parametrize("slug", list(KINDS))
def test_template_has_the_kinds_fields_as_header_and_reads_back(slug: str) -> None:
    kind = kind_of(slug)
    data = importing.template_csv(kind)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = importing.read_table(f"{slug}.csv", data)
    assert list(rows[0]) == list(kind.model.content_fields)
    assert rows[0]["code"]


# --- the dry run --------------------------------------------------------------------------------------

@pytest.mark.req("MD-05")
def test_dry_run_shows_creates_updates_proposals_and_unchanged_rows_and_writes_nothing(
        units: dict[str, Any]) -> None:
    before = written()
    result = plan(UNIT, UNIT_HEADER
                  + "kg,千克,kilogram,mass,1.000\n"       # as stored: unchanged
                  + "g,克,gram (draft),mass,0.001\n"     # draft: updated
                  + "t,吨,metric tonne,mass,1000\n"      # approved: a change is proposed
                  + "mg,毫克,milligram,mass,0.000001\n")  # new: a draft
    rows = by_row(result)
    assert rows[2].action == "unchanged" and rows[2].changes == {}
    assert rows[3].action == "update_draft" and rows[3].changes == {"name_en": ["gram", "gram (draft)"]}
    assert rows[4].action == "propose_change" and rows[4].changes == {"name_en": ["tonne", "metric tonne"]}
    assert rows[5].action == "create"
    assert rows[5].changes["factor"] == [None, "0.000001"]
    assert rows[5].changes["code"] == [None, "mg"]
    assert result.counts() == {"create": 1, "update_draft": 1, "propose_change": 1, "unchanged": 1,
                               "error": 0}
    assert result.needs_change_control
    assert written() == before


ERROR_CASES = [
    # kind, rows after the header, (row, field) expected
    ("unit", "g,克,gram,mass,1.5kg\n", (2, "factor")),
    ("unit", "g,克,gram,weight,1\n", (2, "dimension")),
    ("material", "RM-1,乳糖,Lactose,raw,zz,\n", (2, "base_unit")),
    ("material", "RM-1,乳糖,,raw,kg,\n", (2, "name_en")),
    ("material", "RM-1,乳糖,Lactose,raw,kg,6901234567891\n", (2, "gtin")),
    ("material", "RM-1,乳糖,Lactose,raw,kg,\nRM-1,乳糖,Lactose again,raw,kg,\n", (3, "code")),
    ("material", ",乳糖,Lactose,raw,kg,\n", (2, "code")),
]


@pytest.mark.req("MD-05")
@pytest.mark.parametrize(("slug", "body", "expected"), ERROR_CASES,
                         ids=["bad decimal", "bad choice", "unknown unit code", "missing required field",
                              "bad GTIN check digit", "duplicate code in file", "missing code"])
def test_dry_run_names_the_row_and_field_of_each_error(kg: Any, slug: str, body: str,
                                                       expected: tuple[int, str]) -> None:
    header = UNIT_HEADER if slug == "unit" else MATERIAL_HEADER
    before = written()
    result = plan(kind_of(slug), header + body)
    row, field = expected
    entry = by_row(result)[row]
    assert entry.action == "error"
    assert field in [name for name, _message in entry.errors]
    assert all(message for _name, message in entry.errors)
    assert written() == before


@pytest.mark.req("MD-05")
def test_dry_run_reports_an_unknown_column_on_the_header_row(kg: Any) -> None:
    result = plan(MATERIAL, "code,name_zh,name_en,material_type,base_unit,colour\n"
                            "RM-1,乳糖,Lactose,raw,kg,white\n")
    rows = by_row(result)
    assert rows[1].action == "error" and rows[1].errors[0][0] == "colour"
    assert rows[2].action == "create"  # the rest of the file is still checked
    assert result.error_count == 1


@pytest.mark.req("MD-05")
def test_dry_run_lists_every_error_of_a_row_not_just_the_first(kg: Any) -> None:
    result = plan(MATERIAL, MATERIAL_HEADER + "RM-1,乳糖,,liquid,zz,\n")
    fields = {name for name, _message in by_row(result)[2].errors}
    assert fields == {"name_en", "material_type", "base_unit"}


def test_dry_run_refuses_a_change_to_a_retired_item(units: dict[str, Any], steward: Any) -> None:
    services.void_draft(actor=steward, kind=UNIT, item_id=units["g"].pk, reason="typo")
    entry = by_row(plan(UNIT, UNIT_HEADER + "g,克,gram,mass,0.002\n"))[2]
    assert entry.action == "error" and entry.errors[0][0] == "code"


def test_dry_run_refuses_a_change_to_an_item_with_a_pending_change(units: dict[str, Any],
                                                                   steward: Any) -> None:
    services.propose_change(actor=steward, kind=UNIT, item_id=units["t"].pk, data={"name_en": "ton"},
                            reason="spelling", change_control_ref="CC-1")
    rows = by_row(plan(UNIT, UNIT_HEADER + "t,吨,metric tonne,mass,1000\nkg,千克,kilogram,mass,1\n"))
    assert rows[2].action == "error" and rows[2].errors[0][0] == "code"
    assert rows[3].action == "unchanged"


def test_an_empty_cell_keeps_the_current_value_and_gives_a_new_item_the_default(
        units: dict[str, Any]) -> None:
    rows = by_row(plan(MATERIAL, "code,name_zh,name_en,material_type,base_unit,incoming_inspection_required\n"
                                 "RM-1,乳糖,Lactose,raw,kg,\n"))
    assert rows[2].changes["incoming_inspection_required"] == [None, "yes"]
    assert by_row(plan(UNIT, UNIT_HEADER + "t,,,,\n"))[2].action == "unchanged"


def test_planning_in_chunks_gives_the_same_plan_as_planning_at_once(units: dict[str, Any]) -> None:
    rows = table(UNIT_HEADER + "g,克,gram,mass,0.001\nmg,毫克,mg,mass,0.000001\n\nmg,毫克,dup,mass,1\n"
                 "ug,微克,ug,mass,0.000000001\n")
    chunked = [entry for start in range(0, len(rows), 2)
               for entry in importing.plan_rows(UNIT, rows, start, start + 2)]
    assert chunked == importing.plan_import(UNIT, rows).entries
    assert [entry.row for entry in chunked] == [2, 3, 5, 6]  # the blank row 4 is skipped


# --- applying --------------------------------------------------------------------------------------------

@pytest.mark.req("MD-05", "MD-01")
def test_apply_creates_drafts_updates_drafts_and_proposes_changes_with_audit_entries(
        units: dict[str, Any], steward: Any) -> None:
    result = plan(UNIT, UNIT_HEADER + "kg,千克,kilogram,mass,1\ng,克,gram (draft),mass,0.001\n"
                                      "t,吨,metric tonne,mass,1000\nmg,毫克,milligram,mass,0.000001\n")
    audit_before = AuditEntry.objects.count()
    outcome = importing.apply_import(steward, UNIT, result, reason="Align names with ERP",
                                     change_control_ref="CC-2026-017")
    assert [(o["row"], o["action"]) for o in outcome] == [(3, "update_draft"), (4, "propose_change"),
                                                          (5, "create")]
    mg = Unit.objects.get(code="mg")
    assert mg.status == RecordStatus.DRAFT and mg.factor == Decimal("0.000001")
    assert Unit.objects.get(code="g").name_en == "gram (draft)"
    t = Unit.objects.get(code="t")
    assert t.name_en == "tonne" and t.version == 1  # takes effect only when a second person approves
    change = MasterDataChange.objects.get(pk=outcome[1]["change_id"])
    assert change.status == ChangeStatus.PENDING and change.proposed == {"name_en": "metric tonne"}
    assert change.reason == "Align names with ERP" and change.change_control_ref == "CC-2026-017"
    new = AuditEntry.objects.filter(pk__gt=0).order_by("-id")[: AuditEntry.objects.count() - audit_before]
    assert sorted(e.action for e in new) == ["create", "propose", "update"]
    assert all(e.actor_id == steward.pk for e in new)


@pytest.mark.req("MD-05")
def test_new_items_and_drafts_are_applied_without_reason_or_change_control(units: dict[str, Any],
                                                                           steward: Any) -> None:
    result = plan(UNIT, UNIT_HEADER + "mg,毫克,milligram,mass,0.000001\ng,克,gram (draft),mass,0.001\n")
    assert not result.needs_change_control
    assert len(importing.apply_import(steward, UNIT, result)) == 2


@pytest.mark.req("MD-05")
def test_apply_is_refused_when_the_dry_run_found_errors_and_writes_nothing(units: dict[str, Any],
                                                                          steward: Any) -> None:
    result = plan(UNIT, UNIT_HEADER + "mg,毫克,milligram,mass,0.000001\nug,微克,microgram,mass,abc\n")
    before = written()
    with pytest.raises(importing.ImportHasErrors):
        importing.apply_import(steward, UNIT, result)
    assert written() == before


@pytest.mark.req("MD-05", "MD-01")
@pytest.mark.parametrize(("reason", "ref", "error"), [("", "CC-1", ReasonRequired),
                                                      ("Align names", "", ChangeControlRequired)])
def test_apply_is_refused_when_an_approved_item_changes_without_reason_and_change_control(
        units: dict[str, Any], steward: Any, reason: str, ref: str, error: type[Exception]) -> None:
    result = plan(UNIT, UNIT_HEADER + "t,吨,metric tonne,mass,1000\nmg,毫克,milligram,mass,0.000001\n")
    before = written()
    with pytest.raises(error):
        importing.apply_import(steward, UNIT, result, reason=reason, change_control_ref=ref)
    assert written() == before


@pytest.mark.req("MD-05")
def test_apply_is_refused_when_the_master_data_changed_since_the_dry_run(units: dict[str, Any],
                                                                        steward: Any) -> None:
    result = plan(UNIT, UNIT_HEADER + "mg,毫克,milligram,mass,0.000001\ng,克,gram (draft),mass,0.001\n")
    services.update_draft(actor=steward, kind=UNIT, item_id=units["g"].pk, data={"name_en": "gramme"})
    before = written()
    with pytest.raises(importing.ImportStale):
        importing.apply_import(steward, UNIT, result)
    assert written() == before


@pytest.mark.req("MD-05", "AC-02")
def test_applying_needs_the_edit_permission_as_well_as_import(units: dict[str, Any], make_user: Any) -> None:
    robot = make_user("integration", kind="integration")
    robot.token_scopes = frozenset({"masterdata.view", "masterdata.import"})  # a token for dry runs only
    result = plan(UNIT, UNIT_HEADER + "mg,毫克,milligram,mass,0.000001\n")  # a dry run needs no permission
    with pytest.raises(PermissionDenied):
        importing.apply_import(robot, UNIT, result)
    assert not Unit.objects.filter(code="mg").exists()


# --- the import batch -------------------------------------------------------------------------------------

def upload(actor: Any, text: str, kind: Any = UNIT, filename: str = "units.csv") -> ImportBatch:
    return importing.upload(actor=actor, kind=kind, filename=filename, data=text.encode("utf-8"))


@pytest.mark.req("MD-05", "AT-01")
def test_upload_keeps_the_rows_and_file_hash_and_is_audited(steward: Any) -> None:
    text = UNIT_HEADER + "mg,毫克,milligram,mass,0.000001\n"
    batch = upload(steward, text, filename="C:/exports/units.csv")
    assert batch.status == ImportBatch.Status.UPLOADED and batch.filename == "units.csv"
    assert batch.rows == table(text)
    import hashlib
    assert batch.file_sha256 == hashlib.sha256(text.encode()).hexdigest()
    entry = AuditEntry.objects.get(record_type="masterdata.importbatch", record_id=str(batch.pk))
    assert entry.action == "create" and entry.actor_id == steward.pk


def test_uploading_needs_the_import_permission(make_user: Any) -> None:
    with pytest.raises(PermissionDenied):
        upload(make_user("operator"), UNIT_HEADER + "mg,毫克,milligram,mass,0.000001\n")
    assert not ImportBatch.objects.exists()


@pytest.mark.req("MD-05")
def test_the_dry_run_of_a_batch_advances_chunk_by_chunk(units: dict[str, Any], steward: Any) -> None:
    batch = upload(steward, UNIT_HEADER + "".join(f"u{i},单位{i},unit {i},count,{i + 1}\n" for i in range(5)))
    steps = []
    while batch.status != ImportBatch.Status.PLANNED:
        batch = importing.plan_next_chunk(actor=steward, batch_id=batch.pk, size=2)
        steps.append((batch.status, batch.progress))
        assert len(steps) < 10
    assert steps == [("planning", 2), ("planning", 4), ("planned", 5)]
    assert batch.totals["create"] == 5
    late = importing.plan_next_chunk(actor=steward, batch_id=batch.pk, size=2)
    assert late.progress == 5 and len(late.plan) == 5


@pytest.mark.req("MD-05", "AT-01")
def test_applying_a_batch_records_who_why_and_what_and_is_audited(units: dict[str, Any],
                                                                  steward: Any) -> None:
    batch = upload(steward, UNIT_HEADER + "t,吨,metric tonne,mass,1000\nmg,毫克,milligram,mass,0.000001\n")
    importing.plan_all(actor=steward, batch_id=batch.pk)
    batch = importing.apply_batch(actor=steward, batch_id=batch.pk, reason="ERP alignment",
                                  change_control_ref="CC-9")
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.applied_by_id == steward.pk
    assert (batch.reason, batch.change_control_ref) == ("ERP alignment", "CC-9")
    assert [o["action"] for o in batch.outcome] == ["propose_change", "create"]
    entry = AuditEntry.objects.filter(record_type="masterdata.importbatch", record_id=str(batch.pk)).first()
    assert entry is not None and entry.action == "apply" and entry.reason == "ERP alignment"


def test_a_batch_with_errors_is_not_applied_and_stays_planned(steward: Any) -> None:
    batch = upload(steward, UNIT_HEADER + "mg,毫克,milligram,mass,x\n")
    importing.plan_all(actor=steward, batch_id=batch.pk)
    with pytest.raises(importing.ImportHasErrors):
        importing.apply_batch(actor=steward, batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PLANNED
    assert not Unit.objects.filter(code="mg").exists()


def test_an_unplanned_batch_cannot_be_applied(steward: Any) -> None:
    batch = upload(steward, UNIT_HEADER + "mg,毫克,milligram,mass,0.000001\n")
    with pytest.raises(importing.ImportNotReady):
        importing.apply_batch(actor=steward, batch_id=batch.pk)


@pytest.mark.req("MD-05")
def test_a_stale_batch_fails_is_audited_and_can_be_planned_again(units: dict[str, Any], steward: Any) -> None:
    batch = upload(steward, UNIT_HEADER + "g,克,gram (draft),mass,0.001\n")
    importing.plan_all(actor=steward, batch_id=batch.pk)
    services.update_draft(actor=steward, kind=UNIT, item_id=units["g"].pk, data={"factor": "0.0011"})
    with pytest.raises(importing.ImportStale):
        importing.apply_batch(actor=steward, batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and batch.failure
    assert AuditEntry.objects.filter(record_type="masterdata.importbatch", record_id=str(batch.pk),
                                     action="apply_failed").exists()
    assert Unit.objects.get(code="g").name_en == "gram"
    importing.replan(actor=steward, batch_id=batch.pk)
    batch = importing.plan_all(actor=steward, batch_id=batch.pk)
    assert batch.plan[0]["changes"] == {"name_en": ["gram", "gram (draft)"], "factor": ["0.0011", "0.001"]}
    importing.apply_batch(actor=steward, batch_id=batch.pk)
    assert Unit.objects.get(code="g").name_en == "gram (draft)"


# --- the command ----------------------------------------------------------------------------------------

@pytest.fixture
def unit_file(tmp_path: Any) -> Any:
    def make(text: str) -> str:
        path = tmp_path / "units.csv"
        path.write_bytes(text.encode("gb18030"))
        return str(path)
    return make


@pytest.mark.req("MD-05")
def test_command_prints_the_dry_run_and_writes_nothing(units: dict[str, Any], unit_file: Any) -> None:
    path = unit_file(UNIT_HEADER + "t,吨,metric tonne,mass,1000\nmg,毫克,milligram,mass,0.000001\n")
    before = written()
    out = io.StringIO()
    call_command("import_masterdata", "unit", path, stdout=out)
    text = out.getvalue()
    assert "metric tonne" in text and "propose_change" in text and "create" in text
    assert written() == before
    assert not ImportBatch.objects.exists()


@pytest.mark.req("MD-05")
def test_command_exits_with_1_when_the_dry_run_finds_errors(units: dict[str, Any], unit_file: Any,
                                                             steward: Any) -> None:
    path = unit_file(UNIT_HEADER + "mg,毫克,milligram,mass,abc\n")
    out = io.StringIO()
    before = written()
    with pytest.raises(CommandError) as failed:
        call_command("import_masterdata", "unit", path, "--apply", "--user", steward.username, stdout=out)
    assert failed.value.returncode == 1
    assert "factor" in out.getvalue()
    assert written() == before


@pytest.mark.req("MD-05")
def test_command_applies_as_the_named_person_with_apply(units: dict[str, Any], unit_file: Any,
                                                        steward: Any) -> None:
    path = unit_file(UNIT_HEADER + "t,吨,metric tonne,mass,1000\nmg,毫克,milligram,mass,0.000001\n")
    out = io.StringIO()
    call_command("import_masterdata", "unit", path, "--apply", "--user", steward.username,
                 "--reason", "ERP alignment", "--change-control", "CC-7", stdout=out)
    assert Unit.objects.get(code="mg").created_by_id == steward.pk
    assert MasterDataChange.objects.get(record_code="t").change_control_ref == "CC-7"
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.APPLIED and batch.filename == "units.csv"


def test_command_apply_needs_a_user_and_a_known_kind(unit_file: Any) -> None:
    path = unit_file(UNIT_HEADER + "mg,毫克,milligram,mass,0.000001\n")
    with pytest.raises(CommandError):
        call_command("import_masterdata", "unit", path, "--apply")
    with pytest.raises(CommandError):
        call_command("import_masterdata", "gadget", path)


def test_command_apply_refuses_a_person_without_edit_permission(units: dict[str, Any], unit_file: Any,
                                                                make_user: Any) -> None:
    reviewer = make_user("qa_reviewer")
    path = unit_file(UNIT_HEADER + "mg,毫克,milligram,mass,0.000001\n")
    with pytest.raises(CommandError):
        call_command("import_masterdata", "unit", path, "--apply", "--user", reviewer.username,
                     stdout=io.StringIO())
    assert not Unit.objects.filter(code="mg").exists()
