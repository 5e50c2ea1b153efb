"""Balances and PLC values over OPC UA, daily balance checks, weighing, OEE (issue 5; EQ-04, EQ-05, AC-06).

Reads need `equipment.view`; a weight for GMP use (`/balance/weight`) and the daily check need
`equipment.operate`; tag mappings `equipment.manage`. Device values always come with their OPC UA
status code and source timestamp. A device that does not answer is 502 `device_unreachable`; a
value of bad or uncertain quality is 409 `device_value_not_good` where a good one is required.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from batchline.api.auth import caller
from batchline.api.idempotency import respond
from batchline.api.messages import DECIMAL_PATTERN
from batchline.api.schemas import ERRORS, ErrorOut, In, PageMeta, PageQuery
from batchline.core import clock
from batchline.core.errors import InvalidInput
from batchline.equipment import balances, oee, tags
from batchline.equipment.models import BalanceCheck, EquipmentTag
from batchline.equipment.opcua import BalanceReading
from batchline.identity.authz import authorize

router = Router(tags=["equipment devices"])

VIEW, OPERATE, MANAGE = "equipment.view", "equipment.operate", "equipment.manage"
DEVICE_ERRORS: dict[int, Any] = {**ERRORS, 502: ErrorOut}
TagKindValue = Literal["process_value", "state", "good_count", "reject_count"]


def _decimal(description: str, *, default: Any = ...) -> Any:
    return Field(default, pattern=DECIMAL_PATTERN, description=description,
                 json_schema_extra={"max_digits": 18, "decimal_places": 6})


def _text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value.normalize(), "f") if value != 0 else "0"


# --- shapes --------------------------------------------------------------------------------------

class BalanceReadingOut(Schema):
    equipment: str = Field(description="Balance (equipment id). 天平设备编号。")
    weight: str | None = Field(description="Net weight; null when the value is bad. 净重；值不可用时为空。")
    gross: str | None = Field(description="Gross weight. 毛重。")
    tare: str | None = Field(description="Tare. 皮重。")
    unit: str = Field(description="Unit the device reports (kg, g, mg). 设备报告的单位。")
    stable: bool = Field(description="The balance reports the weight as stable. 稳定标志。")
    overload: bool = Field(description="Overload. 超载。")
    underload: bool = Field(description="Underload. 欠载。")
    status_code: str = Field(description="OPC UA status code, e.g. Good, BadSensorFailure. OPC UA 状态码。")
    good: bool = Field(description=(
        "Good status with a source timestamp; a value that is not good is never used as a result. "
        "状态为 Good 且带源时间戳；非 Good 的值不作为结果使用。"))
    source_timestamp: datetime | None = Field(description="Source timestamp (device time), UTC. 源时间戳。")
    server_timestamp: datetime | None = Field(description="Server timestamp, UTC. 服务器时间戳。")
    serial_number: str = Field(description="Serial number the device reports. 设备报告的出厂编号。")


class WeightOut(Schema):
    equipment: str = Field(description="Balance (equipment id). 天平设备编号。")
    net: str = Field(description="Net weight accepted for GMP use. 可用于 GMP 记录的净重。",
                     json_schema_extra={"unit_field": "unit"})
    tare: str = Field(description="Tare. 皮重。", json_schema_extra={"unit_field": "unit"})
    gross: str = Field(description="Gross weight. 毛重。", json_schema_extra={"unit_field": "unit"})
    unit: str = Field(description="The balance's weighing unit. 天平称量单位。")
    status_code: str = Field(description="OPC UA status code (Good). OPC UA 状态码。")
    source_timestamp: datetime = Field(description="Source timestamp of the weight, UTC. 称量值源时间戳。")
    server_timestamp: datetime | None = Field(description="Server timestamp, UTC. 服务器时间戳。")
    read_at: datetime = Field(description="When Batchline read it, UTC. 读取时间。")
    serial_number: str = Field(description="Serial number the device reports. 设备出厂编号。")


class CheckPointIn(In):
    weight_id: str = Field(max_length=40, description="Test weight id. 砝码编号。")
    nominal: str = _decimal("Nominal value, in the balance's weighing unit. 标称值（天平称量单位）。")
    tolerance: str = _decimal("Allowed deviation (±). 允差（±）。")
    reading: str | None = _decimal(
        "A typed reading (recorded as manual). Omit it to read the balance now, with this test weight on the pan. "
        "手工录入的示值（记为手工）；不填则立即读取天平（砝码须已放在秤盘上）。", default=None)


class DailyCheckIn(In):
    points: list[CheckPointIn] = Field(min_length=1, max_length=balances.MAX_CHECK_POINTS, description=(
        "The test weights, in order. 砝码（按顺序）。"))


class CheckPointOut(Schema):
    weight_id: str
    nominal: str
    reading: str
    tolerance: str
    deviation: str = Field(description="Reading − nominal. 示值减标称值。")
    unit: str
    source: str = Field(description="balance (OPC UA) or manual. 读数来源。")
    status_code: str
    source_timestamp: str | None
    passed: bool = Field(description="|deviation| ≤ tolerance. 是否在允差内。")


class BalanceCheckOut(Schema):
    id: int
    equipment: str
    valid_on: date = Field(description="Site-calendar day the check covers. 日校适用日期。")
    performed_at: datetime
    performed_by: str
    result: str = Field(description="pass or fail. 结果。")
    points: list[CheckPointOut]


class CheckStateOut(Schema):
    day: date = Field(description="Today, site calendar. 当日（工厂日历）。")
    usable: bool = Field(description="Today's daily check allows weighing. 当日日校允许称量。")
    latest: BalanceCheckOut | None
    blocked_by: BalanceCheckOut | None = Field(description=(
        "The failed check that blocks weighing today. 当日阻止称量的不合格日校。"))


class BalanceCheckPage(PageMeta):
    items: list[BalanceCheckOut]
    today: CheckStateOut


class TagOut(Schema):
    name: str
    kind: TagKindValue
    node_id: str
    unit: str | None
    low_limit: str | None
    high_limit: str | None


class TagIn(In):
    kind: TagKindValue = Field(description="What the node holds. 节点内容类别。")
    node_id: str = Field(max_length=200, description=(
        "OPC UA node id: ns=2;s=Press1.Force or nsu=<namespace uri>;s=... OPC UA 节点标识。"))
    unit: str | None = Field(default=None, max_length=40, description="Unit of a process value. 过程值单位。")
    low_limit: str | None = _decimal("Low limit of a process value. 下限。", default=None)
    high_limit: str | None = _decimal("High limit of a process value. 上限。", default=None)
    reason: str = Field(default="", max_length=2000, description=(
        "Why: required to change an existing mapping. 变更已有映射时必填的原因。"))


class ReasonIn(In):
    reason: str = Field(max_length=2000, description="Why: recorded in the audit trail. 原因（记入审计追踪）。")


class ProcessValueOut(Schema):
    name: str
    kind: TagKindValue
    node_id: str
    value: str | None = Field(description=(
        "The value as text (numbers as decimal strings); null when not good. 值（数值为十进制字符串）；不可用时为空。"))
    unit: str
    status_code: str
    good: bool
    source_timestamp: datetime | None
    server_timestamp: datetime | None
    low_limit: str | None
    high_limit: str | None
    within_limits: bool | None = Field(description=(
        "Inside the limits; null when not good, not a number or without limits. 是否在限度内。"))


class OeeShiftOut(Schema):
    day: date
    shift: str = Field(description="Shift code from BATCHLINE_SHIFTS. 班次代码。")
    shift_name: str
    start: datetime
    end: datetime
    started: bool = Field(description="False for a shift that has not begun. 班次是否已开始。")
    covered_until: datetime | None = Field(description="The figures cover up to here (now, for the running shift).")
    planned_seconds: str | None
    run_seconds: str | None = Field(description="Time in PackML Execute. 运行（Execute）时间。")
    good: int | None
    reject: int | None
    availability: str | None = Field(description="Run time / planned time. 时间开动率。")
    performance: str | None = Field(description="Total × ideal cycle time / run time. 性能开动率。")
    quality: str | None = Field(description="Good / total. 合格品率。")
    oee: str | None = Field(description="Availability × performance × quality. 设备综合效率。")


class OeeQuery(Schema):
    day: date | None = Field(default=None, description="Site-calendar day (default today). 日期（默认当日）。")


# --- converters ----------------------------------------------------------------------------------

def reading_out(code: str, reading: BalanceReading) -> dict[str, Any]:
    return BalanceReadingOut(
        equipment=code, weight=_text(reading.weight), gross=_text(reading.gross), tare=_text(reading.tare),
        unit=reading.unit, stable=reading.stable, overload=reading.overload, underload=reading.underload,
        status_code=reading.status_code, good=reading.good, source_timestamp=reading.source_timestamp,
        server_timestamp=reading.server_timestamp, serial_number=reading.serial_number).model_dump(mode="json")


def check_out(check: BalanceCheck) -> dict[str, Any]:
    return BalanceCheckOut(
        id=check.pk, equipment=check.equipment.code, valid_on=check.valid_on, performed_at=check.performed_at,
        performed_by=check.performed_by.username, result=check.result,
        points=[CheckPointOut(**{k: v for k, v in p.items() if k != "pass"}, passed=p["pass"]) for p in check.points],
    ).model_dump(mode="json")


def tag_out(tag: EquipmentTag) -> dict[str, Any]:
    return TagOut(name=tag.name, kind=tag.kind, node_id=tag.node_id,  # type: ignore[arg-type]
                  unit=tag.unit.code if tag.unit else None, low_limit=_text(tag.low_limit),
                  high_limit=_text(tag.high_limit)).model_dump(mode="json")


def _value_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return _text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def shift_out(item: oee.ShiftOee) -> dict[str, Any]:
    figures = item.figures

    def ratio(name: str) -> str | None:
        value = getattr(figures, name) if figures else None
        return format(value, "f") if value is not None else None

    return OeeShiftOut(
        day=item.day, shift=item.shift.code, shift_name=item.shift.name, start=item.start, end=item.end,
        started=figures is not None, covered_until=figures.end if figures else None,
        planned_seconds=_text(figures.planned_seconds) if figures else None,
        run_seconds=_text(figures.run_seconds) if figures else None,
        good=figures.good if figures else None, reject=figures.reject if figures else None,
        availability=ratio("availability"), performance=ratio("performance"), quality=ratio("quality"),
        oee=ratio("oee")).model_dump(mode="json")


# --- balances ------------------------------------------------------------------------------------

@router.get("/{code}/balance/reading", response={200: BalanceReadingOut, **DEVICE_ERRORS})
def equipment_device_balance_reading(request: HttpRequest, code: str) -> dict[str, Any]:
    """What the balance shows now, with its status code, stability and source time, whatever its quality: a
    display, never a result (that is /balance/weight). 天平当前显示值（含状态码、稳定标志、源时间），仅供显示。"""
    authorize(caller(request), VIEW)
    balance = balances.registered_balance(code, field="code")
    return reading_out(balance.code, balances.live_reading(balance))


@router.get("/{code}/balance/weight", response={200: WeightOut, **DEVICE_ERRORS})
def equipment_device_weigh(request: HttpRequest, code: str) -> dict[str, Any]:
    """The weight for GMP use (equipment.operate): refused unless the balance is registered, usable
    (calibrated, qualified), daily-checked today, and the value good, stable, in the weighing unit and range.
    读取可用于 GMP 记录的称量值（须已登记、可用、当日日校合格，读数合格且稳定）。"""
    weight = balances.read_weight(actor=caller(request), equipment_code=code)
    return WeightOut(
        equipment=weight.equipment, net=_text(weight.net) or "0", tare=_text(weight.tare) or "0",
        gross=_text(weight.gross) or "0", unit=weight.unit, status_code=weight.status_code,
        source_timestamp=weight.source_timestamp, server_timestamp=weight.server_timestamp, read_at=weight.read_at,
        serial_number=weight.serial_number).model_dump(mode="json")


@router.post("/{code}/balance/daily-checks", response={201: BalanceCheckOut, **DEVICE_ERRORS})
def equipment_device_daily_check(request: HttpRequest, code: str, payload: DailyCheckIn) -> HttpResponse:
    """Record the balance's daily check (equipment.operate): each test weight read from the balance (or
    typed, recorded as manual) against its tolerance. A failed check blocks weighing for the day.
    记录天平日校：逐个砝码读取天平示值并与允差比较；不合格则当日禁止称量。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        check = balances.perform_daily_check(actor=actor, equipment_code=code,
                                             points=[p.model_dump() for p in payload.points])
        return 201, check_out(check)

    return respond(request, action)


@router.get("/{code}/balance/daily-checks", response={200: BalanceCheckPage, **ERRORS})
def equipment_device_daily_checks(request: HttpRequest, code: str, paging: Query[PageQuery]) -> dict[str, Any]:
    """The balance's daily checks, newest first, and where today's stands. 天平日校记录（最新在前）及当日状态。"""
    authorize(caller(request), VIEW)
    balance = balances.registered_balance(code, field="code")
    rows = balances.checks(balance)
    start = (paging.page - 1) * paging.page_size
    state = balances.check_state(balance)
    return {"items": [check_out(c) for c in rows[start:start + paging.page_size]], "count": rows.count(),
            "page": paging.page, "page_size": paging.page_size,
            "today": {"day": state.day, "usable": state.usable,
                      "latest": check_out(state.latest) if state.latest else None,
                      "blocked_by": check_out(state.failed) if state.failed else None}}


# --- PLC tags and values -------------------------------------------------------------------------

@router.get("/{code}/tags", response={200: list[TagOut], **ERRORS})
def equipment_device_tags(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    """The equipment's OPC UA tag mapping. 设备的 OPC UA 点位映射。"""
    authorize(caller(request), VIEW)
    return [tag_out(tag) for tag in tags.tags_of(tags.registered_device(code, field="code"))]


@router.put("/{code}/tags/{name}", response={200: TagOut, 201: TagOut, **ERRORS})
def equipment_device_save_tag(request: HttpRequest, code: str, name: str, payload: TagIn) -> HttpResponse:
    """Map a value of the equipment to an OPC UA node (equipment.manage); changing a mapping needs a reason.
    映射设备点位到 OPC UA 节点；变更需填写原因。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        outcome, tag = tags.save_tag(actor=actor, equipment_code=code, name=name, **payload.model_dump())
        return (201 if outcome == "created" else 200), tag_out(tag)

    return respond(request, action)


@router.post("/{code}/tags/{name}/remove", response={204: None, **ERRORS})
def equipment_device_remove_tag(request: HttpRequest, code: str, name: str, payload: ReasonIn) -> HttpResponse:
    """Remove a tag mapping with a reason (equipment.manage); the audit trail keeps it. 删除点位映射（需原因）。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        tags.remove_tag(actor=actor, equipment_code=code, name=name, reason=payload.reason)
        return 204, None

    return respond(request, action)


@router.get("/{code}/process-values", response={200: list[ProcessValueOut], **DEVICE_ERRORS})
def equipment_device_process_values(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    """Every mapped value read now, with status code, source time and limits. 实时读取全部映射点位（含质量与限度）。"""
    authorize(caller(request), VIEW)
    return [ProcessValueOut(
        name=v.name, kind=v.kind, node_id=v.node_id, value=_value_text(v.value),  # type: ignore[arg-type]
        unit=v.unit, status_code=v.status_code, good=v.good, source_timestamp=v.source_timestamp,
        server_timestamp=v.server_timestamp, low_limit=_text(v.low_limit), high_limit=_text(v.high_limit),
        within_limits=v.within_limits).model_dump(mode="json") for v in tags.read_process_values(code)]


# --- OEE -----------------------------------------------------------------------------------------

@router.get("/{code}/oee", response={200: list[OeeShiftOut], **ERRORS})
def equipment_device_oee(request: HttpRequest, code: str, query: Query[OeeQuery]) -> list[dict[str, Any]]:
    """OEE per shift of a day (availability × performance × quality) from PackML states and counts.
    按班次的设备综合效率（时间开动率 × 性能开动率 × 合格品率）。"""
    authorize(caller(request), VIEW)
    equipment = tags.registered_device(code, field="code")
    day = query.day or clock.to_site(clock.now()).date()
    if day > clock.to_site(clock.now()).date():
        raise InvalidInput(field="day")
    return [shift_out(item) for item in oee.shift_oee(equipment, day)]
