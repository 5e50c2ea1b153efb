"""Master-data import from CSV and Excel, with a dry run before anything is written (MD-05).

1. `read_table()` turns an uploaded file into rows of text.
2. `plan_import()` is the dry run: for every row it says what would happen (a new draft, a draft
   updated, a change proposed for an approved item, nothing) with the field values old → new, or
   every error in the row. It writes nothing. `plan_rows()` does the same for a slice of the rows, so
   that a screen can show progress on a large file.
3. `apply_import()` carries out a plan without errors in one transaction, through the ordinary
   services (create_item, update_draft, propose_change): every row gets its normal audit entries,
   and everything an import writes is a draft or a change proposal that a second person must still
   approve with an e-signature.

The ImportBatch record keeps the file's rows, its SHA-256, the plan and the outcome as the evidence of
what was imported; `upload()`, `plan_next_chunk()`, `replan()` and `apply_batch()` are its actions.

The file: a header row naming the columns by the item's field names (Kind.model.content_fields, e.g.
`code,name_zh,name_en,symbol,dimension,factor` for units; `template_csv()` gives one per kind), then
one item per row, matched to existing items by `code`. Linked items are named by their code, yes/no
fields take yes/no, 是/否, true/false or 1/0. An empty cell changes nothing: a new item gets the
field's default, an existing item keeps its value (clear a value on the item's own screen). Rows are
numbered as a spreadsheet numbers them: the header is row 1.

Permissions: `masterdata.import` to upload and run the dry run. Applying needs `masterdata.import`
and `masterdata.edit`, because an import acts through the data steward's services, which check
`masterdata.edit` themselves. An integration account holds `masterdata.import` only, so it can run
dry runs but not apply them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.db import models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.core import clock
from batchline.core.errors import Conflict, DomainError, InvalidInput, NotFound, ensure
from batchline.identity.authz import authorize
from batchline.masterdata import services
from batchline.masterdata.choices import ChangeStatus, RecordStatus
from batchline.masterdata.content import content_of, parse_content
from batchline.masterdata.errors import ChangeControlRequired, ContentInvalid, PendingChangeExists
from batchline.masterdata.models import ImportBatch, MasterDataChange, MasterRecord
from batchline.masterdata.registry import Kind, kind_of

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
CHUNK_ROWS = 200  # rows planned per step of the progress bar
FIRST_DATA_ROW = 2  # the header is row 1

CREATE, UPDATE_DRAFT, PROPOSE_CHANGE, UNCHANGED, ERROR = (
    "create", "update_draft", "propose_change", "unchanged", "error")
ACTIONS = (CREATE, UPDATE_DRAFT, PROPOSE_CHANGE, UNCHANGED, ERROR)
ACTION_LABELS = {
    CREATE: _("New draft"),
    UPDATE_DRAFT: _("Draft updated"),
    PROPOSE_CHANGE: _("Change proposed"),
    UNCHANGED: _("Unchanged"),
    ERROR: _("Error"),
}


class ImportFileInvalid(InvalidInput):
    code = "import_file_invalid"
    default_message = _("The file cannot be imported.")


class ImportHasErrors(Conflict):
    code = "import_has_errors"
    default_message = _("The dry run found errors in {count} rows; correct the file and upload it again.")


class ImportStale(Conflict):
    code = "import_stale"
    default_message = _("The master data changed since the dry run; run the dry run again and review it.")


class ImportNotReady(Conflict):
    code = "import_not_ready"
    default_message = _("This import is {status}; only an import with a complete dry run can be applied.")


# --- reading files --------------------------------------------------------------------------------

def read_table(filename: str, data: bytes) -> list[dict[str, str]]:
    """The rows of a .csv or .xlsx file as {column: stripped text}. Blank rows are kept (as all-empty
    rows) so that row numbers match the file; trailing blank rows are dropped."""
    ensure(len(data) <= MAX_FILE_BYTES,
           ImportFileInvalid(_("The file is larger than {limit} MB."), field="file",
                             limit=MAX_FILE_BYTES // (1024 * 1024)))
    name = filename.lower()
    if name.endswith(".csv"):
        table = _read_csv(data)
    elif name.endswith(".xlsx"):
        table = _read_xlsx(data)
    else:
        raise ImportFileInvalid(_("Only .csv and .xlsx files can be imported (save an .xls file as .xlsx)."),
                                field="file")
    return _to_rows(table)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), UTF-16 with BOM (Excel's "Unicode text"), or
    GB18030, which Chinese Windows Excel uses when it saves CSV."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileInvalid(_("The file is not text in UTF-8 or GB18030."), field="file")


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    header_line = text.split("\n", 1)[0]
    # The header holds plain field names, so the separator it uses most is the file's separator.
    delimiter = max((",", ";", "\t"), key=header_line.count)
    try:
        return [[cell.strip() for cell in row]
                for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise ImportFileInvalid(_("The CSV file is malformed: {problem}."), field="file",
                                problem=str(exc)) from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # Excel keeps every number as a float; its shortest form is the number the person typed.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # imported here: only Excel uploads need it

    table: list[list[str]] = []
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for row in book.worksheets[0].iter_rows(values_only=True):
                table.append([_cell_text(value) for value in row])
                if len(table) > MAX_ROWS + 1:
                    break  # _to_rows refuses the file; stop before a huge sheet fills the memory
        finally:
            book.close()
    except Exception:  # a damaged or foreign file surfaces as one of many openpyxl/zipfile errors
        raise ImportFileInvalid(_("The file is not a readable .xlsx workbook."), field="file") from None
    return table


def _to_rows(table: list[list[str]]) -> list[dict[str, str]]:
    while table and not any(table[-1]):
        table.pop()
    ensure(table and any(table[0]),
           ImportFileInvalid(_("Row 1 must name the columns (see the template)."), field="file"))
    header = [name.strip().lower() for name in table[0]]
    body = table[1:]
    ensure(body, ImportFileInvalid(_("The file has no data rows."), field="file"))
    ensure(len(body) <= MAX_ROWS, ImportFileInvalid(_("The file has more than {limit} rows; split it."),
                                                    field="file", limit=MAX_ROWS))
    named = [i for i, name in enumerate(header) if name]
    for i, name in enumerate(header):
        if not name and any(i < len(row) and row[i] for row in body):
            raise ImportFileInvalid(_("Column {n} has values but no name in row 1."), field="file", n=i + 1)
        if name and header.index(name) != i:
            raise ImportFileInvalid(_("The column '{name}' appears twice in row 1."), field="file", name=name)
    ensure("code" in header, ImportFileInvalid(_("The file needs a 'code' column."), field="file"))
    rows = []
    for number, row in enumerate(body, start=FIRST_DATA_ROW):
        ensure(not any(row[len(header):]), ImportFileInvalid(
            _("Row {row} has more values than there are columns."), field="file", row=number))
        rows.append({header[i]: (row[i] if i < len(row) else "") for i in named})
    return rows


def template_csv(kind: Kind) -> bytes:
    """A CSV file with the header row and one example row, UTF-8 with a BOM so that Excel shows Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(kind.model.content_fields)
    example = EXAMPLES.get(kind.slug, {})
    writer.writerow([example.get(name, "") for name in kind.model.content_fields])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


EXAMPLES: dict[str, dict[str, str]] = {
    "unit": {"code": "g", "name_zh": "克", "name_en": "gram", "symbol": "g", "dimension": "mass",
             "factor": "0.001"},
    "conversion": {"code": "DRUM-RM0001", "name_zh": "乳糖 1桶 = 25千克", "name_en": "Lactose 1 drum = 25 kg",
                   "material": "RM-0001", "from_unit": "drum", "to_unit": "kg", "factor": "25"},
    "material": {"code": "RM-0001", "name_zh": "乳糖一水合物", "name_en": "Lactose monohydrate",
                 "material_type": "raw", "base_unit": "kg", "storage_condition": "ambient",
                 "shelf_life_days": "1095", "retest_interval_days": "365",
                 "incoming_inspection_required": "yes"},
    "site": {"code": "SH01", "name_zh": "上海工厂", "name_en": "Shanghai plant",
             "time_zone": "Asia/Shanghai"},
    "area": {"code": "SH01-OSD", "name_zh": "口服固体制剂车间", "name_en": "Oral solid dose", "site": "SH01"},
    "room": {"code": "R-101", "name_zh": "称量间", "name_en": "Dispensing room", "area": "SH01-OSD",
             "cleanroom_grade": "D"},
    "warehouse": {"code": "WH01", "name_zh": "原辅料库", "name_en": "Raw material warehouse", "site": "SH01"},
    "location": {"code": "WH01-A-01-01", "name_zh": "A区01排01层", "name_en": "Zone A row 01 level 01",
                 "warehouse": "WH01", "location_type": "storage", "storage_condition": "ambient"},
    "supplier": {"code": "S-0001", "name_zh": "示例辅料有限公司", "name_en": "Example Excipients Co., Ltd.",
                 "qualification": "approved"},
    "customer": {"code": "C-0001", "name_zh": "示例医药公司", "name_en": "Example Pharma Distribution",
                 "country": "CN"},
}


# --- the dry run -----------------------------------------------------------------------------------

@dataclass
class PlanEntry:
    """What one row would do. `changes` maps a field to [old, new] as a reader sees them (linked items
    by code, decimals without trailing zeros, yes/no); `errors` lists [field, message]."""

    row: int
    code: str
    action: str
    changes: dict[str, list[Any]] = field(default_factory=dict)
    errors: list[list[str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanEntry:
        return cls(row=data["row"], code=data["code"], action=data["action"], changes=data["changes"],
                   errors=data["errors"])


@dataclass
class ImportPlan:
    kind: str
    rows: list[dict[str, str]]  # the rows planned, as read from the file
    entries: list[PlanEntry]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTIONS, 0)
        for entry in self.entries:
            counts[entry.action] += 1
        return counts

    @property
    def error_count(self) -> int:
        return sum(1 for entry in self.entries if entry.action == ERROR)

    @property
    def needs_change_control(self) -> bool:
        """An approved item changes: the import needs a reason and a change-control reference (MD-01)."""
        return any(entry.action == PROPOSE_CHANGE for entry in self.entries)

    def fingerprint(self) -> list[tuple[Any, ...]]:
        """What the plan would do, without the error texts (their language is the planner's)."""
        return [(e.row, e.code, e.action, sorted((k, list(v)) for k, v in e.changes.items()))
                for e in self.entries]


def plan_import(kind: Kind, rows: list[dict[str, str]]) -> ImportPlan:
    """The dry run of a whole file. Writes nothing."""
    entries = plan_header(kind, rows) + plan_rows(kind, rows, 0, len(rows))
    return ImportPlan(kind=kind.slug, rows=rows, entries=entries)


def plan_header(kind: Kind, rows: list[dict[str, str]]) -> list[PlanEntry]:
    """Columns that are not fields of the kind: one error, on row 1, naming each."""
    unknown = [name for name in _columns(rows) if name not in kind.model.content_fields]
    if not unknown:
        return []
    errors = [[name, gettext("Unknown column '{name}'; the columns are: {fields}.").format(
        name=name, fields=", ".join(kind.model.content_fields))] for name in unknown]
    return [PlanEntry(row=1, code="", action=ERROR, errors=errors)]


def plan_rows(kind: Kind, rows: list[dict[str, str]], start: int, stop: int) -> list[PlanEntry]:
    """The dry run of rows[start:stop] (blank rows are skipped). Duplicate codes are found across
    the whole file, whichever slice is planned."""
    columns = [name for name in _columns(rows) if name in kind.model.content_fields]
    first_row_of: dict[str, int] = {}
    for number, raw in enumerate(rows, start=FIRST_DATA_ROW):
        first_row_of.setdefault(raw.get("code", ""), number)
    chunk = rows[start:stop]
    codes = {raw.get("code", "") for raw in chunk} - {""}
    existing = {item.code: item for item in _items(kind).filter(code__in=codes)}
    pending = set(MasterDataChange.objects.filter(
        record_type=kind.record_type, status=ChangeStatus.PENDING,
        record_id__in=[str(item.pk) for item in existing.values()]).values_list("record_id", flat=True))
    entries = []
    for number, raw in enumerate(chunk, start=start + FIRST_DATA_ROW):
        if not any(raw.values()):
            continue
        code = raw.get("code", "")
        item = existing.get(code)
        entries.append(_plan_row(kind, number, raw, columns, first_row_of.get(code, number), item,
                                 item is not None and str(item.pk) in pending))
    return entries


def _plan_row(kind: Kind, number: int, raw: dict[str, str], columns: list[str], first_row: int,
              item: MasterRecord | None, has_pending_change: bool) -> PlanEntry:
    code = raw.get("code", "")
    errors: list[list[str]] = []
    if code and first_row != number:
        errors.append(["code", gettext("The code '{code}' already appears in row {row}.").format(
            code=code, row=first_row)])
    if item is not None and item.status == RecordStatus.RETIRED:
        errors.append(["code", gettext("{code} is retired; a retired item cannot be changed.").format(
            code=code)])
    current = content_of(item) if item is not None else None
    content: dict[str, Any] | None = None
    try:
        content = parse_content(kind.model, _cells(columns, raw), base=current)
    except ContentInvalid as exc:
        errors.extend([name, str(message)] for name, message in exc.errors)
    if errors or content is None:
        return PlanEntry(row=number, code=code, action=ERROR, errors=errors)
    if item is None or current is None:
        changes = {name: [None, shown(value)] for name, value in content.items()
                   if shown(value) not in (None, "")}
        return PlanEntry(row=number, code=code, action=CREATE, changes=changes)
    changes = {name: [shown(current[name]), shown(value)] for name, value in content.items()
               if shown(current[name]) != shown(value)}
    if not changes:
        return PlanEntry(row=number, code=code, action=UNCHANGED)
    if item.status == RecordStatus.DRAFT:
        return PlanEntry(row=number, code=code, action=UPDATE_DRAFT, changes=changes)
    if has_pending_change:
        return PlanEntry(row=number, code=code, action=ERROR,
                         errors=[["code", PendingChangeExists(record=code).render()]])
    return PlanEntry(row=number, code=code, action=PROPOSE_CHANGE, changes=changes)


def shown(value: Any) -> Any:
    """A content value as the plan shows and compares it: 1.000 and 1 are the same factor."""
    if isinstance(value, models.Model):
        return getattr(value, "code", str(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _columns(rows: list[dict[str, str]]) -> list[str]:
    return list(rows[0]) if rows else []


def _cells(columns: list[str], raw: dict[str, str]) -> dict[str, str]:
    """The values a row gives: an empty cell gives none (the default, or the current value, stays)."""
    return {name: raw[name] for name in columns if raw.get(name, "") != ""}


def _items(kind: Kind) -> QuerySet[MasterRecord]:
    return kind.model._default_manager.all()


# --- applying --------------------------------------------------------------------------------------

def authorize_apply(actor: Any) -> None:
    """Applying an import needs masterdata.import and masterdata.edit (see the module docstring)."""
    authorize(actor, "masterdata.import")
    authorize(actor, "masterdata.edit")  # the services below check it too; refuse before any work


def _ensure_no_errors(plan: ImportPlan) -> None:
    ensure(plan.error_count == 0, ImportHasErrors(count=plan.error_count))


def _change_control(plan: ImportPlan, reason: str, change_control_ref: str) -> tuple[str, str]:
    reason, change_control_ref = (reason or "").strip(), (change_control_ref or "").strip()
    if plan.needs_change_control:
        reason = require_reason(reason)
        ensure(change_control_ref, ChangeControlRequired(field="change_control_ref"))
    return reason, change_control_ref


def apply_import(actor: Any, kind: Kind, plan: ImportPlan, reason: str = "",
                 change_control_ref: str = "") -> list[dict[str, Any]]:
    """Carry out a dry run without errors, all rows or none. Returns the outcome: one
    {row, code, action, record_id, change_id} per row that did something.

    The plan is made again inside the transaction; if it differs from the one the person reviewed,
    nothing is written (ImportStale)."""
    authorize_apply(actor)
    _ensure_no_errors(plan)
    reason, change_control_ref = _change_control(plan, reason, change_control_ref)
    columns = [name for name in _columns(plan.rows) if name in kind.model.content_fields]
    outcome: list[dict[str, Any]] = []
    with transaction.atomic():
        fresh = plan_import(kind, plan.rows)
        ensure(fresh.fingerprint() == plan.fingerprint(), ImportStale())
        for entry in fresh.entries:
            raw = plan.rows[entry.row - FIRST_DATA_ROW]
            record_id: int | None = None
            change_id: int | None = None
            if entry.action == CREATE:
                record_id = services.create_item(actor=actor, kind=kind, data=_cells(columns, raw)).pk
            elif entry.action == UPDATE_DRAFT:
                record_id = _items(kind).get(code=entry.code).pk
                services.update_draft(actor=actor, kind=kind, item_id=record_id,
                                      data={name: raw[name] for name in entry.changes})
            elif entry.action == PROPOSE_CHANGE:
                record_id = _items(kind).get(code=entry.code).pk
                change_id = services.propose_change(actor=actor, kind=kind, item_id=record_id,
                                                    data={name: raw[name] for name in entry.changes},
                                                    reason=reason, change_control_ref=change_control_ref).pk
            else:
                continue
            outcome.append({"row": entry.row, "code": entry.code, "action": entry.action,
                            "record_id": record_id, "change_id": change_id})
    return outcome


# --- the import batch: upload, dry run in steps, apply ----------------------------------------------

def upload(*, actor: Any, kind: Kind, filename: str, data: bytes) -> ImportBatch:
    """Keep an uploaded file's rows as a new import batch, ready for its dry run."""
    authorize(actor, "masterdata.import")
    rows = read_table(filename, data)
    name = PurePath(filename).name[:255]
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        batch = ImportBatch.objects.create(kind=kind.slug, filename=name, file_sha256=digest,
                                           uploaded_by=actor, uploaded_at=clock.now(), rows=rows,
                                           status=ImportBatch.Status.UPLOADED)
        record_change(actor, batch, action="create",
                      changes={"kind": [None, kind.slug], "filename": [None, name],
                               "file_sha256": [None, digest], "rows": [None, len(rows)]})
    return batch


def plan_next_chunk(*, actor: Any, batch_id: int, size: int | None = None) -> ImportBatch:
    """Plan the next `size` rows of the batch's dry run; the last step marks the dry run complete.
    A step that arrives after the dry run is complete changes nothing."""
    authorize(actor, "masterdata.import")
    with transaction.atomic():
        batch = _locked_batch(batch_id)
        if batch.status not in (ImportBatch.Status.UPLOADED, ImportBatch.Status.PLANNING):
            return batch
        kind = kind_of(batch.kind)
        start = batch.progress
        stop = min(start + (size or CHUNK_ROWS), len(batch.rows))
        entries = plan_header(kind, batch.rows) if start == 0 else []
        entries += plan_rows(kind, batch.rows, start, stop)
        batch.plan = [*batch.plan, *(entry.as_json() for entry in entries)]
        batch.progress = stop
        if stop >= len(batch.rows):
            batch.status = ImportBatch.Status.PLANNED
            batch.totals = plan_of(batch).counts()
        else:
            batch.status = ImportBatch.Status.PLANNING
        batch.save(update_fields=["plan", "progress", "status", "totals"])
    return batch


def plan_all(*, actor: Any, batch_id: int) -> ImportBatch:
    """The whole dry run in steps, for the command line."""
    while True:
        batch = plan_next_chunk(actor=actor, batch_id=batch_id)
        if batch.status not in (ImportBatch.Status.UPLOADED, ImportBatch.Status.PLANNING):
            return batch


def replan(*, actor: Any, batch_id: int) -> ImportBatch:
    """Start the dry run again, against the master data as it is now (after a failed apply, or when
    the data changed since)."""
    authorize(actor, "masterdata.import")
    with transaction.atomic():
        batch = _locked_batch(batch_id)
        ensure(batch.status in (ImportBatch.Status.PLANNED, ImportBatch.Status.FAILED),
               ImportNotReady(status=batch.get_status_display()))
        batch.plan, batch.progress, batch.totals, batch.failure = [], 0, {}, ""
        batch.status = ImportBatch.Status.PLANNING
        batch.save(update_fields=["plan", "progress", "totals", "failure", "status"])
    return batch


def _locked_batch(batch_id: int) -> ImportBatch:
    batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
    ensure(batch is not None, NotFound())
    return batch  # type: ignore[return-value]


def plan_of(batch: ImportBatch) -> ImportPlan:
    return ImportPlan(kind=batch.kind, rows=batch.rows, entries=[PlanEntry.from_json(e) for e in batch.plan])


def apply_batch(*, actor: Any, batch_id: int, reason: str = "", change_control_ref: str = "") -> ImportBatch:
    """Apply a batch's complete dry run (see apply_import). A refusal found before writing (errors in
    the plan, no reason) leaves the batch as it was; a refusal while applying (the master data changed
    since the dry run) rolls every row back and marks the batch failed, with the reason, audited."""
    authorize_apply(actor)
    applying = False
    try:
        with transaction.atomic():
            batch = _locked_batch(batch_id)
            ensure(batch.status == ImportBatch.Status.PLANNED,
                   ImportNotReady(status=batch.get_status_display()))
            plan = plan_of(batch)
            _ensure_no_errors(plan)
            reason, change_control_ref = _change_control(plan, reason, change_control_ref)
            applying = True
            outcome = apply_import(actor, kind_of(batch.kind), plan, reason, change_control_ref)
            batch.status = ImportBatch.Status.APPLIED
            batch.outcome = outcome
            batch.applied_by, batch.applied_at = actor, clock.now()
            batch.reason, batch.change_control_ref = reason, change_control_ref
            batch.save(update_fields=["status", "outcome", "applied_by", "applied_at", "reason",
                                      "change_control_ref"])
            applied = {action: sum(1 for o in outcome if o["action"] == action)
                       for action in (CREATE, UPDATE_DRAFT, PROPOSE_CHANGE)}
            record_change(actor, batch, action="apply", reason=reason,
                          changes={"status": [ImportBatch.Status.PLANNED, ImportBatch.Status.APPLIED],
                                   "change_control_ref": [None, change_control_ref or None],
                                   **{action: [None, count] for action, count in applied.items()}})
    except DomainError as exc:
        if applying:
            _record_failure(actor, batch_id, exc)
        raise
    return batch


def _record_failure(actor: Any, batch_id: int, error: DomainError) -> None:
    with transaction.atomic():
        batch = _locked_batch(batch_id)
        if batch.status != ImportBatch.Status.PLANNED:
            return
        batch.status, batch.failure = ImportBatch.Status.FAILED, error.render()
        batch.save(update_fields=["status", "failure"])
        record_change(actor, batch, action="apply_failed", reason=batch.failure,
                      changes={"status": [ImportBatch.Status.PLANNED, ImportBatch.Status.FAILED]})


# --- reads for the screens ---------------------------------------------------------------------------

def recent_batches(limit: int = 20) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("uploaded_by", "applied_by").defer("rows", "plan")[:limit]


def get_batch(batch_id: int) -> ImportBatch:
    batch = ImportBatch.objects.select_related("uploaded_by", "applied_by").filter(pk=batch_id).first()
    ensure(batch is not None, NotFound())
    return batch  # type: ignore[return-value]
