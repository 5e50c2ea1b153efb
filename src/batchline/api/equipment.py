"""Equipment register, status and logbook, qualification, calibration, cleaning (issue 5; EQ-01..EQ-03).

Reads need `equipment.view`; every write calls one equipment service, which checks its own permission
and rules and writes the logbook, the audit trail and the outbox event. Signed actions (release,
qualification, calibration, cleaning verification) take a signature block with the caller's own user
id and password. Equipment is addressed by its code; cleaning records by id under their equipment.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from pydantic import Field, StrictInt

from batchline.api.auth import caller
from batchline.api.idempotency import respond
from batchline.api.messages import DECIMAL_PATTERN
from batchline.api.schemas import ERRORS, In, PageMeta, PageQuery, SignatureIn
from batchline.api.signing import signature_fields, signature_request
from batchline.core import clock
from batchline.core.errors import InvalidInput, ensure
from batchline.equipment import cleaning, qualification, register, selectors, status
from batchline.equipment.choices import LogKind
from batchline.equipment.errors import CleaningNotFound, EquipmentNotFound
from batchline.equipment.models import Calibration, CleaningRecord, Equipment, LogbookEntry, Qualification
from batchline.equipment.usability import (
    Use,
    calibrated_until,
    calibration_required,
    clean_hold_expires_at,
    dirty_hold_expires_at,
    product_of,
    qualified_until,
    reasons,
)
from batchline.identity.authz import authorize

router = Router(tags=["equipment"])

VIEW = "equipment.view"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

# The same values as equipment.choices (tests/api/test_equipment_api.py holds them equal).
KindValue = Literal["balance", "granulator", "dryer", "blender", "mill", "tablet_press", "coater", "capsule_filler",
                    "blister", "cartoner", "vessel", "instrument", "other"]
OutOfUseValue = Literal["maintenance", "out_of_service", "quarantined"]
UseValue = Literal["production", "continue", "weighing", "cleaning"]
CleanTypeValue = Literal["minor", "major"]
StageValue = Literal["IQ", "OQ", "PQ", "RQ"]
ResultValue = Literal["pass", "fail", "adjusted"]


# --- shapes -----------------------------------------------------------------------------------------

def _decimal(description: str, max_digits: int = 18, places: int = 6) -> Any:
    return Field(default=None, pattern=DECIMAL_PATTERN, description=description,
                 json_schema_extra={"max_digits": max_digits, "decimal_places": places})


class RegisterFields(In):
    name_zh: str = Field(max_length=200, description="Name in Chinese. 中文名称。")
    name_en: str = Field(max_length=200, description="Name in English. 英文名称。")
    kind: KindValue = Field(description="Type of equipment. 设备类型。")
    equipment_class: str = Field(default="", max_length=40, description=(
        "Equipment class that recipes ask for, e.g. GRANULATOR-300L. 设备类别（配方所需）。"))
    room: str | None = Field(default=None, max_length=40, description="Room code. 所在房间编码。")
    capacity: str | None = _decimal("Working capacity, a decimal string. 工作容量（十进制字符串）。")
    capacity_unit: str | None = Field(default=None, max_length=40, description="Unit of the capacity. 容量单位。")
    product_contact_parts: str = Field(default="", max_length=5000, description=(
        "Parts in contact with the product. 与产品接触的部件。"))
    manufacturer: str = Field(default="", max_length=100, description="Manufacturer. 制造商。")
    model_number: str = Field(default="", max_length=100, description="Model. 型号。")
    serial_number: str = Field(default="", max_length=100, description="Serial number. 出厂编号。")
    weighing_unit: str | None = Field(default=None, max_length=40, description=(
        "Balances: unit of the weighing range. 天平：称量单位。"))
    max_load: str | None = _decimal("Balances: maximum load. 天平：最大称量。")
    readability: str | None = _decimal("Balances: readability d. 天平：实际分度值 d。")
    minimum_weight: str | None = _decimal("Balances: minimum weight (USP <41>). 天平：最小称量值。")
    clean_hold_hours: StrictInt | None = Field(default=None, ge=1, le=8760, description=(
        "Clean-hold time in hours (none: no limit). 清洁有效期（小时，空为不限）。"))
    dirty_hold_hours: StrictInt | None = Field(default=None, ge=1, le=8760, description=(
        "Dirty-hold time in hours (none: no limit). 待清洁最长放置时间（小时，空为不限）。"))
    opcua_endpoint: str = Field(default="", max_length=200, description="OPC UA endpoint URL. OPC UA 服务地址。")
    opcua_node: str = Field(default="", max_length=200, description="OPC UA node of the device. 设备 OPC UA 节点。")
    ideal_rate_per_minute: str | None = _decimal("OEE: ideal rate, units per minute. OEE：理论速率（每分钟）。",
                                                 12, 3)


class EquipmentIn(RegisterFields):
    code: str = Field(max_length=40, description="Equipment id, unique. 设备编号（唯一）。")


class EquipmentChangeIn(In):
    """Only the fields given change; null clears an optional field. `reason` is required."""

    reason: str = Field(max_length=2000, description="Reason for the change. 变更原因。")
    name_zh: str | None = Field(default=None, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    kind: KindValue | None = None
    equipment_class: str | None = Field(default=None, max_length=40)
    room: str | None = Field(default=None, max_length=40)
    capacity: str | None = _decimal("Working capacity. 工作容量。")
    capacity_unit: str | None = Field(default=None, max_length=40)
    product_contact_parts: str | None = Field(default=None, max_length=5000)
    manufacturer: str | None = Field(default=None, max_length=100)
    model_number: str | None = Field(default=None, max_length=100)
    serial_number: str | None = Field(default=None, max_length=100)
    weighing_unit: str | None = Field(default=None, max_length=40)
    max_load: str | None = _decimal("Balances: maximum load. 天平：最大称量。")
    readability: str | None = _decimal("Balances: readability d. 天平：实际分度值 d。")
    minimum_weight: str | None = _decimal("Balances: minimum weight. 天平：最小称量值。")
    clean_hold_hours: StrictInt | None = Field(default=None, ge=1, le=8760)
    dirty_hold_hours: StrictInt | None = Field(default=None, ge=1, le=8760)
    opcua_endpoint: str | None = Field(default=None, max_length=200)
    opcua_node: str | None = Field(default=None, max_length=200)
    ideal_rate_per_minute: str | None = _decimal("OEE: ideal rate. OEE：理论速率。", 12, 3)


class ReasonOut(Schema):
    code: str = Field(description=(
        "Machine code: retired, status, not_qualified, qualification_failed, requalification_due, not_calibrated, "
        "calibration_failed, calibration_due, clean_hold_expired, product_change, other_product."))
    message: str = Field(description="The reason in the request's language. 原因（按请求语言）。")


class EquipmentOut(Schema):
    code: str
    name_zh: str
    name_en: str
    kind: str
    equipment_class: str
    room: str | None
    capacity: str | None
    capacity_unit: str | None
    product_contact_parts: str
    manufacturer: str
    model_number: str
    serial_number: str
    weighing_unit: str | None
    max_load: str | None
    readability: str | None
    minimum_weight: str | None
    clean_hold_hours: int | None
    dirty_hold_hours: int | None
    opcua_endpoint: str
    opcua_node: str
    ideal_rate_per_minute: str | None
    status: str = Field(description="clean, in_use, dirty, cleaning, maintenance, out_of_service, quarantined.")
    status_changed_at: datetime
    current_order: str
    current_product: str | None
    last_product: str | None
    last_cleaned_at: datetime | None = Field(description="When the last verified cleaning finished. 上次清洁完成时间。")
    last_clean_type: str
    dirty_since: datetime | None
    major_clean_required: bool
    active: bool
    qualified_until: date | None = Field(description=(
        "Requalification due date of the latest passed PQ/RQ. 最近一次通过的 PQ/再确认的再确认日期。"))
    calibration_required: bool
    calibrated_until: date | None = Field(description="Next calibration due (latest passed). 下次校准日期。")
    clean_hold_expires_at: datetime | None
    dirty_hold_expires_at: datetime | None
    default_use: str = Field(description="The use `not_usable_for` refers to: weighing for balances, else production.")
    not_usable_for: list[ReasonOut] = Field(description=(
        "Why it cannot be used for its default use now (empty: usable). 当前不可用于默认用途的原因（空为可用）。"))
    created_at: datetime
    created_by: str


class EquipmentPage(PageMeta):
    items: list[EquipmentOut]


class EquipmentQuery(Schema):
    room: str = Field(default="", description="Room code.")
    kind: str = Field(default="", description="Type, e.g. balance.")
    status: str = Field(default="", description="Status, e.g. clean.")
    search: str = Field(default="", description="Part of the id or a name.")
    include_retired: bool = False


class DueOut(Schema):
    equipment: str
    what: Literal["qualification", "calibration", "clean_hold", "dirty_hold"]
    due: str | None = Field(description="Date (qualification, calibration) or UTC time (holds); null: never done.")
    overdue: bool


class UseIn(In):
    order: str = Field(max_length=40, description="Production order number. 生产订单号。")
    product: str = Field(max_length=40, description="Product (material code). 产品（物料编码）。")


class RemarksIn(In):
    remarks: str = Field(default="", max_length=2000, description="Remarks. 备注。")


class ReasonIn(In):
    reason: str = Field(max_length=2000, description="Reason, recorded in the logbook and the audit trail. 原因。")


class OutOfUseIn(ReasonIn):
    status: OutOfUseValue = Field(description=(
        "maintenance / out_of_service (equipment.operate), quarantined (equipment.release). 维修/停用/待验。"))


class ReleaseIn(ReasonIn):
    signature: SignatureIn = Field(description="Meaning: release. 签名含义：release（放行）。")


class CleaningStartIn(In):
    clean_type: CleanTypeValue = Field(description="minor (same product) or major (product change). 小清洁/大清洁。")
    procedure_ref: str = Field(default="", max_length=100, description="Cleaning procedure (SOP). 清洁规程。")
    next_product: str | None = Field(default=None, max_length=40, description=(
        "Next product, if known: a minor clean is refused when it differs from the last. 下一产品（如已知）。"))
    remarks: str = Field(default="", max_length=2000)


class VerifyIn(In):
    signature: SignatureIn = Field(description="Meaning: verify. 签名含义：verify（复核）。")


class CleaningOut(Schema):
    id: int
    equipment: str
    clean_type: str
    state: str = Field(description="in_progress, done (awaiting verification), verified, rejected.")
    previous_product: str | None
    procedure_ref: str
    started_at: datetime
    started_by: str
    finished_at: datetime | None
    finished_by: str | None
    verified_at: datetime | None
    verified_by: str | None
    clean_hold_until: datetime | None
    remarks: str


class QualificationIn(In):
    stage: StageValue = Field(description="IQ, OQ, PQ or RQ (requalification). 确认阶段。")
    performed_on: str = Field(pattern=DATE, description="Date performed. 执行日期。")
    result: ResultValue = Field(description="pass, fail, adjusted. 结果。")
    valid_until: str | None = Field(default=None, pattern=DATE, description=(
        "Requalification due (required for a passed PQ/RQ). 再确认日期（PQ/RQ 通过时必填）。"))
    document_ref: str = Field(max_length=100, description="Protocol / report reference. 方案/报告编号。")
    signature: SignatureIn = Field(description="Meaning: qualification. 签名含义：qualification。")


class QualificationOut(Schema):
    id: int
    equipment: str
    stage: str
    performed_on: date
    result: str
    valid_until: date | None
    document_ref: str
    recorded_at: datetime
    recorded_by: str


class MeasurementIn(In):
    nominal: str = Field(pattern=DECIMAL_PATTERN, description="Nominal value. 标称值。")
    reading: str = Field(pattern=DECIMAL_PATTERN, description="Reading. 示值。")
    tolerance: str = Field(pattern=DECIMAL_PATTERN, description="Allowed deviation (±). 允差（±）。")
    unit: str = Field(max_length=40, description="Unit code. 单位编码。")


class CalibrationIn(In):
    performed_on: str = Field(pattern=DATE, description="Date performed. 校准日期。")
    result: ResultValue = Field(description="pass, fail, adjusted (pass after adjustment). 结果。")
    due_on: str = Field(pattern=DATE, description="Next calibration due. 下次校准日期。")
    certificate_ref: str = Field(max_length=100, description="Certificate number. 校准证书编号。")
    performed_by: str = Field(max_length=150, description="Who calibrated (often a service provider). 校准单位/人。")
    measurements: list[MeasurementIn] = Field(default_factory=list, description="Measured points. 校准点。")
    signature: SignatureIn = Field(description="Meaning: calibration. 签名含义：calibration。")


class MeasurementOut(Schema):
    nominal: str
    reading: str
    tolerance: str
    unit: str
    within_tolerance: str


class CalibrationOut(Schema):
    id: int
    equipment: str
    performed_on: date
    result: str
    due_on: date
    certificate_ref: str
    performed_by: str
    measurements: list[MeasurementOut]
    recorded_at: datetime
    recorded_by: str


class UsabilityOut(Schema):
    equipment: str
    use: str
    usable: bool
    reasons: list[ReasonOut]
    checked_at: datetime


class LogbookEntryOut(Schema):
    id: int
    occurred_at: datetime
    kind: str
    action: str
    text: str = Field(description="English summary. 英文摘要。")
    message: str = Field(description="The entry in the request's language. 按请求语言的记录。")
    details: dict[str, Any]
    status_before: str
    status_after: str
    reference: str
    actor: str | None
    actor_name: str


class LogbookPage(PageMeta):
    items: list[LogbookEntryOut]


class LogbookQuery(Schema):
    kind: str = Field(default="", description="Entry kind, e.g. cleaning, calibration. 记录类别。")


# --- mapping ----------------------------------------------------------------------------------------

def _number(value: Any) -> str | None:
    return None if value is None else (format(value.normalize(), "f") if value else "0")


def _code(value: Any) -> str | None:
    return value.code if value is not None else None


def _reasons(found: list[Any]) -> list[dict[str, str]]:
    return [{"code": r.code, "message": str(r)} for r in found]


def equipment_out(item: Equipment) -> dict[str, Any]:
    use = selectors.default_use(item)
    return EquipmentOut(
        code=item.code, name_zh=item.name_zh, name_en=item.name_en, kind=item.kind,
        equipment_class=item.equipment_class, room=_code(item.room), capacity=_number(item.capacity),
        capacity_unit=_code(item.capacity_unit), product_contact_parts=item.product_contact_parts,
        manufacturer=item.manufacturer, model_number=item.model_number, serial_number=item.serial_number,
        weighing_unit=_code(item.weighing_unit), max_load=_number(item.max_load),
        readability=_number(item.readability), minimum_weight=_number(item.minimum_weight),
        clean_hold_hours=item.clean_hold_hours, dirty_hold_hours=item.dirty_hold_hours,
        opcua_endpoint=item.opcua_endpoint, opcua_node=item.opcua_node,
        ideal_rate_per_minute=_number(item.ideal_rate_per_minute), status=item.status,
        status_changed_at=item.status_changed_at, current_order=item.current_order,
        current_product=_code(item.current_product), last_product=_code(item.last_product),
        last_cleaned_at=item.last_cleaned_at, last_clean_type=item.last_clean_type, dirty_since=item.dirty_since,
        major_clean_required=item.major_clean_required, active=item.active, qualified_until=qualified_until(item),
        calibration_required=calibration_required(item), calibrated_until=calibrated_until(item),
        clean_hold_expires_at=clean_hold_expires_at(item), dirty_hold_expires_at=dirty_hold_expires_at(item),
        default_use=use, not_usable_for=_reasons(reasons(item, for_=use)),  # type: ignore[arg-type]
        created_at=item.created_at, created_by=item.created_by.username,
    ).model_dump(mode="json")


def cleaning_out(record: CleaningRecord) -> dict[str, Any]:
    return CleaningOut(
        id=record.pk, equipment=record.equipment.code, clean_type=record.clean_type, state=record.state,
        previous_product=_code(record.previous_product), procedure_ref=record.procedure_ref,
        started_at=record.started_at, started_by=record.started_by.username, finished_at=record.finished_at,
        finished_by=record.finished_by.username if record.finished_by else None, verified_at=record.verified_at,
        verified_by=record.verified_by.username if record.verified_by else None,
        clean_hold_until=record.clean_hold_until, remarks=record.remarks,
    ).model_dump(mode="json")


def qualification_out(record: Qualification) -> dict[str, Any]:
    return QualificationOut(
        id=record.pk, equipment=record.equipment.code, stage=record.stage, performed_on=record.performed_on,
        result=record.result, valid_until=record.valid_until, document_ref=record.document_ref,
        recorded_at=record.recorded_at, recorded_by=record.recorded_by.username,
    ).model_dump(mode="json")


def calibration_out(record: Calibration) -> dict[str, Any]:
    return CalibrationOut(
        id=record.pk, equipment=record.equipment.code, performed_on=record.performed_on, result=record.result,
        due_on=record.due_on, certificate_ref=record.certificate_ref, performed_by=record.performed_by,
        measurements=record.measurements, recorded_at=record.recorded_at, recorded_by=record.recorded_by.username,
    ).model_dump(mode="json")


def logbook_entry_out(entry: LogbookEntry) -> dict[str, Any]:
    from batchline.equipment.logbook import describe

    return LogbookEntryOut(
        id=entry.pk, occurred_at=entry.occurred_at, kind=entry.kind, action=str(entry.details.get("action", "")),
        text=entry.text, message=describe(entry), details=entry.details, status_before=entry.status_before,
        status_after=entry.status_after, reference=entry.reference,
        actor=entry.actor.username if entry.actor else None, actor_name=entry.actor_name,
    ).model_dump(mode="json")


def _equipment(code: str) -> Equipment:
    item = selectors.by_code(code)
    ensure(item is not None, EquipmentNotFound(field="code", equipment=code))
    assert item is not None
    return item


def _cleaning(item: Equipment, cleaning_id: int) -> CleaningRecord:
    record = selectors.cleanings(item).filter(pk=cleaning_id).first()
    ensure(record is not None, CleaningNotFound(field="cleaning_id"))
    assert record is not None
    return record


def _page(qs: QuerySet[Any], paging: PageQuery) -> tuple[list[Any], dict[str, int]]:
    start = (paging.page - 1) * paging.page_size
    return list(qs[start:start + paging.page_size]), {"count": qs.count(), "page": paging.page,
                                                       "page_size": paging.page_size}


def _fresh(code: str) -> dict[str, Any]:
    return equipment_out(_equipment(code))


# --- the register ------------------------------------------------------------------------------------

@router.get("", response={200: EquipmentPage, **ERRORS})
def equipment_list(request: HttpRequest, query: Query[EquipmentQuery], paging: Query[PageQuery]) -> dict[str, Any]:
    """The register, with status and usability at a glance. 设备台账（含状态与可用性）。"""
    authorize(caller(request), VIEW)
    rows, meta = _page(selectors.equipment(room=query.room, kind=query.kind, status=query.status,
                                           search=query.search, include_retired=query.include_retired), paging)
    return {"items": [equipment_out(item) for item in rows], **meta}


@router.post("", response={201: EquipmentOut, **ERRORS})
def equipment_register(request: HttpRequest, payload: EquipmentIn) -> HttpResponse:
    """Register equipment (equipment.manage). It starts dirty and needs a major clean, a qualification and,
    for balances and instruments, a calibration before use. 登记设备。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        item = register.register_equipment(actor=actor, data=payload.model_dump())
        return 201, _fresh(item.code)

    return respond(request, action)


@router.get("/due", response={200: list[DueOut], **ERRORS})
def equipment_due(request: HttpRequest, within_days: int = 30) -> list[dict[str, Any]]:
    """Requalifications and calibrations due within `within_days` or overdue, and expired or expiring hold
    times, most urgent first. 到期/逾期的再确认、校准与清洁有效期。"""
    authorize(caller(request), VIEW)
    ensure(0 <= within_days <= 366, InvalidInput(_("Between 0 and 366 days."), field="within_days"))
    return [DueOut(equipment=d.equipment.code, what=d.what,  # type: ignore[arg-type]
                   due=d.due.isoformat() if d.due is not None else None, overdue=d.overdue).model_dump(mode="json")
            for d in selectors.due_dates(within_days=within_days)]


@router.get("/cleanings/awaiting-verification", response={200: list[CleaningOut], **ERRORS})
def equipment_cleanings_awaiting_verification(request: HttpRequest) -> list[dict[str, Any]]:
    """Finished cleanings waiting for a second person's verification, oldest first. 待复核的清洁记录。"""
    authorize(caller(request), VIEW)
    return [cleaning_out(record) for record in selectors.awaiting_verification()]


@router.get("/{code}", response={200: EquipmentOut, **ERRORS})
def equipment_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    authorize(caller(request), VIEW)
    return _fresh(code)


@router.patch("/{code}", response={200: EquipmentOut, **ERRORS})
def equipment_change(request: HttpRequest, code: str, payload: EquipmentChangeIn) -> HttpResponse:
    """Change register data with a reason (equipment.manage); only the fields given change. 变更台账信息。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        data = payload.model_dump(exclude_unset=True, exclude={"reason"})
        register.change_equipment(actor=actor, equipment_id=_equipment(code).pk, data=data, reason=payload.reason)
        return 200, _fresh(code)

    return respond(request, action)


@router.post("/{code}/retire", response={200: EquipmentOut, **ERRORS})
def equipment_retire(request: HttpRequest, code: str, payload: ReasonIn) -> HttpResponse:
    """Retire equipment (equipment.manage): it stays in the register, inactive, with its records. 设备停用报废。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        register.retire_equipment(actor=actor, equipment_id=_equipment(code).pk, reason=payload.reason)
        return 200, _fresh(code)

    return respond(request, action)


# --- status ----------------------------------------------------------------------------------------

@router.post("/{code}/start-use", response={200: EquipmentOut, **ERRORS})
def equipment_start_use(request: HttpRequest, code: str, payload: UseIn) -> HttpResponse:
    """Clean → in use for an order and product (equipment.operate), after the usability check. 开始使用。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        status.start_use(actor=actor, equipment_id=_equipment(code).pk, order=payload.order, product=payload.product)
        return 200, _fresh(code)

    return respond(request, action)


@router.post("/{code}/end-use", response={200: EquipmentOut, **ERRORS})
def equipment_end_use(request: HttpRequest, code: str, payload: RemarksIn) -> HttpResponse:
    """In use → dirty (equipment.operate). 结束使用。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        status.end_use(actor=actor, equipment_id=_equipment(code).pk, remarks=payload.remarks)
        return 200, _fresh(code)

    return respond(request, action)


@router.post("/{code}/take-out-of-use", response={200: EquipmentOut, **ERRORS})
def equipment_take_out_of_use(request: HttpRequest, code: str, payload: OutOfUseIn) -> HttpResponse:
    """Into maintenance, out of service or quarantine, with a reason. 转入维修/停用/待验。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        status.take_out_of_use(actor=actor, equipment_id=_equipment(code).pk, status=payload.status,
                               reason=payload.reason)
        return 200, _fresh(code)

    return respond(request, action)


@router.post("/{code}/release", response={200: EquipmentOut, **ERRORS})
def equipment_release(request: HttpRequest, code: str, payload: ReleaseIn) -> HttpResponse:
    """QA releases equipment from maintenance, out of service or quarantine, signed (equipment.release);
    it comes back dirty and needs a major clean. 放行（电子签名），设备回到待清洁状态。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        with signature_fields():
            status.release_equipment(actor=actor, equipment_id=_equipment(code).pk, reason=payload.reason,
                                     signature=signature_request(actor, payload.signature))
        return 200, _fresh(code)

    return respond(request, action)


# --- cleaning --------------------------------------------------------------------------------------

@router.get("/{code}/cleanings", response={200: list[CleaningOut], **ERRORS})
def equipment_cleanings(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    authorize(caller(request), VIEW)
    return [cleaning_out(record) for record in selectors.cleanings(_equipment(code))]


@router.post("/{code}/cleanings", response={201: CleaningOut, **ERRORS})
def equipment_cleaning_start(request: HttpRequest, code: str, payload: CleaningStartIn) -> HttpResponse:
    """Start a minor or major clean (equipment.operate); a minor one is refused where a major is required. 开始清洁。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        item = _equipment(code)
        record = cleaning.start_cleaning(actor=actor, equipment_id=item.pk, clean_type=payload.clean_type,
                                         procedure_ref=payload.procedure_ref, next_product=payload.next_product,
                                         remarks=payload.remarks)
        return 201, cleaning_out(_cleaning(item, record.pk))

    return respond(request, action)


@router.post("/{code}/cleanings/{int:cleaning_id}/finish", response={200: CleaningOut, **ERRORS})
def equipment_cleaning_finish(request: HttpRequest, code: str, cleaning_id: int, payload: RemarksIn) -> HttpResponse:
    """The cleaning is done; a second person must verify it. 清洁完成，待复核。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        item = _equipment(code)
        cleaning.finish_cleaning(actor=actor, equipment_id=item.pk, cleaning_id=_cleaning(item, cleaning_id).pk,
                                 remarks=payload.remarks)
        return 200, cleaning_out(_cleaning(item, cleaning_id))

    return respond(request, action)


@router.post("/{code}/cleanings/{int:cleaning_id}/verify", response={200: CleaningOut, **ERRORS})
def equipment_cleaning_verify(request: HttpRequest, code: str, cleaning_id: int, payload: VerifyIn) -> HttpResponse:
    """A second person verifies the cleaning, signed (equipment.verify; not who cleaned). 第二人复核（电子签名）。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        item = _equipment(code)
        with signature_fields():
            cleaning.verify_cleaning(actor=actor, equipment_id=item.pk, cleaning_id=_cleaning(item, cleaning_id).pk,
                                     signature=signature_request(actor, payload.signature))
        return 200, cleaning_out(_cleaning(item, cleaning_id))

    return respond(request, action)


@router.post("/{code}/cleanings/{int:cleaning_id}/reject", response={200: CleaningOut, **ERRORS})
def equipment_cleaning_reject(request: HttpRequest, code: str, cleaning_id: int, payload: ReasonIn) -> HttpResponse:
    """The verifier does not accept the cleaning: the equipment is dirty again. 复核不通过。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        item = _equipment(code)
        cleaning.reject_cleaning(actor=actor, equipment_id=item.pk, cleaning_id=_cleaning(item, cleaning_id).pk,
                                 reason=payload.reason)
        return 200, cleaning_out(_cleaning(item, cleaning_id))

    return respond(request, action)


# --- qualification and calibration -----------------------------------------------------------------------

@router.get("/{code}/qualifications", response={200: list[QualificationOut], **ERRORS})
def equipment_qualifications(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    authorize(caller(request), VIEW)
    return [qualification_out(r) for r in selectors.qualifications(_equipment(code)).select_related("equipment")]


@router.post("/{code}/qualifications", response={201: QualificationOut, **ERRORS})
def equipment_qualification_record(request: HttpRequest, code: str, payload: QualificationIn) -> HttpResponse:
    """Record a qualification, signed (equipment.qualify); a failed one puts the equipment out of service. 记录确认。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        with signature_fields():
            record = qualification.record_qualification(
                actor=actor, equipment_id=_equipment(code).pk, stage=payload.stage, performed_on=payload.performed_on,
                result=payload.result, valid_until=payload.valid_until, document_ref=payload.document_ref,
                signature=signature_request(actor, payload.signature))
        return 201, qualification_out(Qualification.objects.select_related("equipment", "recorded_by")
                                      .get(pk=record.pk))

    return respond(request, action)


@router.get("/{code}/calibrations", response={200: list[CalibrationOut], **ERRORS})
def equipment_calibrations(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    authorize(caller(request), VIEW)
    return [calibration_out(r) for r in selectors.calibrations(_equipment(code)).select_related("equipment")]


@router.post("/{code}/calibrations", response={201: CalibrationOut, **ERRORS})
def equipment_calibration_record(request: HttpRequest, code: str, payload: CalibrationIn) -> HttpResponse:
    """Record a calibration with its certificate and points, signed (equipment.qualify); a failed one puts the
    equipment out of service. 记录校准。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        with signature_fields():
            record = qualification.record_calibration(
                actor=actor, equipment_id=_equipment(code).pk, performed_on=payload.performed_on,
                result=payload.result, due_on=payload.due_on, certificate_ref=payload.certificate_ref,
                performed_by=payload.performed_by, measurements=[m.model_dump() for m in payload.measurements],
                signature=signature_request(actor, payload.signature))
        return 201, calibration_out(Calibration.objects.select_related("equipment", "recorded_by").get(pk=record.pk))

    return respond(request, action)


# --- usability and logbook -------------------------------------------------------------------------------

_FOR = Query("production", alias="for", description="production (start), continue, weighing or cleaning. 用途。")
_PRODUCT = Query("", description="Product (material code) for the product-change rule. 产品编码。")


@router.get("/{code}/usability", response={200: UsabilityOut, **ERRORS})
def equipment_usability(request: HttpRequest, code: str, use: UseValue = _FOR,
                        product: str = _PRODUCT) -> dict[str, Any]:
    """May the equipment be used for `for` now (and for `product`)? Every reason why not. 设备当前是否可用及原因。"""
    authorize(caller(request), VIEW)
    item = _equipment(code)
    material = product_of(product) if product else None
    now = clock.now()
    found = reasons(item, for_=use, product=material, at=now)
    return UsabilityOut(equipment=item.code, use=Use(use).value, usable=not found,
                        reasons=_reasons(found), checked_at=now).model_dump(mode="json")  # type: ignore[arg-type]


@router.get("/{code}/logbook", response={200: LogbookPage, **ERRORS})
def equipment_logbook(request: HttpRequest, code: str, query: Query[LogbookQuery],
                      paging: Query[PageQuery]) -> dict[str, Any]:
    """The equipment's logbook, oldest first (append-only, written by the system). 设备日志（按时间顺序）。"""
    authorize(caller(request), VIEW)
    ensure(not query.kind or query.kind in LogKind.values, InvalidInput(field="kind"))
    rows, meta = _page(selectors.logbook(_equipment(code), kind=query.kind), paging)
    return {"items": [logbook_entry_out(entry) for entry in rows], **meta}

