"""Inbound messages from the ERP (INTERFACES.md, INT-04, MD-03), and the parked ones a data steward
fixes and re-processes.

Every message comes in the envelope: message_id (the idempotency key, per source system),
occurred_at, source_system, schema_version and the payload. core.inbound runs it once: a replay of
the same message_id returns the first response; the same id with a different payload is refused (409).
An unmapped code or an unknown unit is refused with 422 naming the field, and the message is parked
(`parked_id` in the error) until a data steward fixes the code map and re-processes it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from pydantic import AwareDatetime, Field, StrictInt

from batchline.api.auth import caller
from batchline.api.idempotency import respond
from batchline.api.masterdata import upsert_material_master
from batchline.api.schemas import ERRORS, ErrorOut, In, MaterialUpsertIn, MaterialUpsertOut, PageMeta, PageQuery
from batchline.core import inbound
from batchline.core.errors import InvalidInput, NotFound, ensure
from batchline.core.models import ParkedMessage
from batchline.identity.authz import authorize
from batchline.inventory import services as inventory
from batchline.inventory.models import PurchaseOrder

router = Router(tags=["inbound messages"])

MATERIAL_MASTER = "material-master"
PURCHASE_ORDER = "purchase-orders"

SourceSystem = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$", description=(
    "Code of the sending system, e.g. SAP-PRD; the same as in the URL. 发送系统代码，例如 SAP-PRD，须与 URL 中一致。"))


class Envelope(In):
    message_id: UUID = Field(description=(
        "Unique id of the message (UUID): the idempotency key within the source system. "
        "消息唯一标识（UUID），在来源系统内作为幂等键。"))
    occurred_at: AwareDatetime = Field(description=(
        "When the message was created in the source system, UTC ISO 8601. "
        "消息在来源系统中产生的时间（UTC，ISO 8601）。"))
    source_system: str = SourceSystem
    schema_version: Literal["1"] = Field(description="Version of the message schema: \"1\". 消息结构版本：\"1\"。")


# --- material master -------------------------------------------------------------------------------

class MaterialMasterIn(MaterialUpsertIn):
    """The ERP material master as a message: the upsert body with the material code."""

    code: str = Field(min_length=1, max_length=40, description="Material code. 物料编码。")


class MaterialMasterMessage(Envelope):
    payload: MaterialMasterIn = Field(description="The material master. 物料主数据。")


# --- purchase orders / ASN -------------------------------------------------------------------------

class PurchaseOrderLineIn(In):
    line_no: StrictInt = Field(ge=1, le=99999, description="Line number within the order. 行号。")
    material: str = Field(min_length=1, max_length=40, description=(
        "Material code of the sender, translated through the code maps. 物料编码（来源系统代码，经代码映射转换）。"))
    quantity: str = Field(min_length=1, max_length=40, description=(
        "Ordered quantity as a decimal string, e.g. \"120.500\" (never a JSON number). 订购数量，十进制字符串。"),
        json_schema_extra={"unit_field": "unit"})
    unit: str = Field(min_length=1, max_length=40, description=(
        "Unit code of the sender, translated through the code maps. 计量单位（来源系统代码，经代码映射转换）。"))
    expected_date: date = Field(description="Expected delivery date, ISO 8601 (2026-01-31). 预计到货日期。")


class PurchaseOrderIn(In):
    po_number: str = Field(min_length=1, max_length=40, description="Purchase order number. 采购订单号。")
    supplier: str = Field(min_length=1, max_length=40, description=(
        "Supplier code of the sender, translated through the code maps; the supplier must be approved and not "
        "blocked. 供应商代码（经代码映射转换），供应商须已批准且未被冻结。"))
    lines: list[PurchaseOrderLineIn] = Field(min_length=1, max_length=500, description=(
        "Order lines: the expected receipts. 订单行：预计收货。"))


class PurchaseOrderMessage(Envelope):
    payload: PurchaseOrderIn = Field(description="The purchase order or ASN. 采购订单或预先发货通知。")


class PurchaseOrderLineOut(Schema):
    line_no: int
    material: str = Field(description="Batchline material code. 物料编码。")
    quantity: str = Field(description="Decimal string. 数量（十进制字符串）。")
    unit: str = Field(description="Batchline unit code. 计量单位。")
    expected_date: date
    received_quantity: str = Field(description="Received so far. 已收数量。")


class PurchaseOrderOut(Schema):
    outcome: Literal["created", "updated", "unchanged"] = Field(description=(
        "created: a new order; updated: the open order's lines were replaced; unchanged: nothing differs. "
        "created 新建；updated 已替换未关闭订单的行；unchanged 无变化。"))
    po_number: str
    source_system: str
    supplier: str = Field(description="Batchline supplier code. 供应商编码。")
    status: str = Field(description="open, closed or cancelled. 状态：未关闭、已关闭、已取消。")
    received_at: datetime
    lines: list[PurchaseOrderLineOut]


class ParkedErrorOut(ErrorOut):
    parked_id: int | None = Field(default=None, description=(
        "The parked message, when a data steward can fix the refusal (unmapped code, unknown unit). "
        "被暂存消息的编号（未映射代码、未知单位时）。"))


INBOUND_ERRORS = {**ERRORS, 422: ParkedErrorOut}


# --- parked messages -------------------------------------------------------------------------------

class ParkedOut(Schema):
    id: int
    source_system: str
    message_type: str
    message_id: str
    payload: dict[str, Any] = Field(description="The payload as received. 收到的消息内容。")
    error_code: str
    error_field: str
    error_message: str
    status: str = Field(description="parked, reprocessed or discarded. 状态：已暂存、已重新处理、已丢弃。")
    received_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str


class ParkedPage(PageMeta):
    items: list[ParkedOut]


class ReprocessOut(Schema):
    parked: ParkedOut
    reprocessed: bool = Field(description="False: refused again, still parked with the new error. "
                                          "False 表示再次被拒，仍暂存并记录新错误。")
    result_status: int | None = Field(description="HTTP status the message's own processing answered.")
    result: Any = Field(description="What the message's own processing answered.")


class DiscardIn(In):
    reason: str = Field(max_length=2000, description="Why the message is discarded (audit trail). 丢弃原因。")


# --- handlers (registered with core.inbound) ------------------------------------------------------

def _material_master(actor: Any, source_system: str, payload: dict[str, Any]) -> tuple[int, Any]:
    message = MaterialMasterIn.model_validate(payload)
    upsert = MaterialUpsertIn.model_validate({**message.model_dump(exclude={"code"}), "source_system": source_system})
    return upsert_material_master(actor, message.code, upsert)


def _purchase_order(actor: Any, source_system: str, payload: dict[str, Any]) -> tuple[int, Any]:
    message = PurchaseOrderIn.model_validate(payload)
    outcome, order = inventory.register_purchase_order(actor=actor, source_system=source_system,
                                                       data=message.model_dump())
    return (201 if outcome == "created" else 200), purchase_order_out(outcome, order)


inbound.register(MATERIAL_MASTER, _material_master)
inbound.register(PURCHASE_ORDER, _purchase_order)


def _decimal(value: Any) -> str:
    return format(value.normalize(), "f")


def purchase_order_out(outcome: str, order: PurchaseOrder) -> dict[str, Any]:
    lines = order.lines.select_related("material", "unit").order_by("line_no")
    return PurchaseOrderOut(
        outcome=outcome, po_number=order.po_number, source_system=order.source_system,  # type: ignore[arg-type]
        supplier=order.supplier.code, status=order.status, received_at=order.received_at,
        lines=[PurchaseOrderLineOut(line_no=line.line_no, material=line.material.code,
                                    quantity=_decimal(line.quantity), unit=line.unit.code,
                                    expected_date=line.expected_date,
                                    received_quantity=_decimal(line.received_quantity)) for line in lines],
    ).model_dump(mode="json")


def _receive(request: HttpRequest, message_type: str, source_system: str, message: Envelope,
             payload: dict[str, Any]) -> HttpResponse:
    from batchline.api.api import api  # the API object imports this router

    ensure(message.source_system.upper() == source_system.upper(),
           InvalidInput(_("The envelope's source system '{sent}' is not the one in the URL."),
                        field="source_system", code="source_system_mismatch", sent=message.source_system))
    status, body = inbound.process(message_type=message_type, source_system=source_system,
                                   message_id=str(message.message_id), payload=payload, actor=caller(request))
    return api.create_response(request, body, status=status)


@router.post("/{source_system}/material-master",
             response={200: MaterialUpsertOut, 201: MaterialUpsertOut, 202: MaterialUpsertOut, **INBOUND_ERRORS})
def receive_material_master(request: HttpRequest, source_system: str, payload: MaterialMasterMessage) -> HttpResponse:
    """ERP material master in the message envelope: the same upsert as PUT /masterdata/materials/{code},
    with the sender's unit code translated through the code maps. The envelope's message_id is the
    idempotency key. 信封格式的 ERP 物料主数据；message_id 为幂等键。"""
    body = payload.payload.model_dump(mode="json", exclude_unset=True)
    return _receive(request, MATERIAL_MASTER, source_system, payload, body)


@router.post("/{source_system}/purchase-orders",
             response={200: PurchaseOrderOut, 201: PurchaseOrderOut, **INBOUND_ERRORS})
def receive_purchase_order(request: HttpRequest, source_system: str, payload: PurchaseOrderMessage) -> HttpResponse:
    """Purchase order / ASN: the expected receipts (201 created; 200 the open order's lines replaced or
    unchanged; 409 when the order is closed). Requires `inventory.register_purchase_order`.
    采购订单/预先发货通知：预计收货。"""
    body = payload.payload.model_dump(mode="json")
    return _receive(request, PURCHASE_ORDER, source_system, payload, body)


def parked_out(parked: ParkedMessage) -> dict[str, Any]:
    return ParkedOut(
        id=parked.pk, source_system=parked.source_system, message_type=parked.message_type,
        message_id=parked.message_id, payload=parked.payload, error_code=parked.error_code,
        error_field=parked.error_field, error_message=parked.error_message, status=parked.status,
        received_at=parked.received_at, resolved_at=parked.resolved_at,
        resolved_by=parked.resolved_by.username if parked.resolved_by else None, resolution=parked.resolution,
    ).model_dump(mode="json")


def parked_messages(*, source_system: str = "", status: str = "") -> QuerySet[ParkedMessage]:
    qs = ParkedMessage.objects.select_related("resolved_by")
    if source_system:
        qs = qs.filter(source_system=source_system.upper())
    if status and status != "all":
        qs = qs.filter(status=status)
    return qs


@router.get("/parked", response={200: ParkedPage, **ERRORS})
def list_parked(request: HttpRequest, paging: Query[PageQuery], source_system: str = "",
                status: str = "parked") -> dict[str, Any]:
    """Parked inbound messages, newest first; `status` is parked (default), reprocessed, discarded or all."""
    authorize(caller(request), "integration.view")
    qs = parked_messages(source_system=source_system, status=status)
    start = (paging.page - 1) * paging.page_size
    rows = list(qs[start:start + paging.page_size])
    return {"items": [parked_out(p) for p in rows], "count": qs.count(), "page": paging.page,
            "page_size": paging.page_size}


def _parked(parked_id: int) -> ParkedMessage:
    parked = ParkedMessage.objects.select_related("resolved_by").filter(pk=parked_id).first()
    if parked is None:
        raise NotFound(field="id")
    return parked


@router.get("/parked/{int:parked_id}", response={200: ParkedOut, **ERRORS})
def get_parked(request: HttpRequest, parked_id: int) -> dict[str, Any]:
    authorize(caller(request), "integration.view")
    return parked_out(_parked(parked_id))


@router.post("/parked/{int:parked_id}/reprocess", response={200: ReprocessOut, **ERRORS})
def reprocess_parked(request: HttpRequest, parked_id: int) -> HttpResponse:
    """Run a parked message again after its data was fixed (e.g. a code map added). Requires
    `integration.reprocess`; the message's own processing acts as the caller."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        authorize(actor, "integration.reprocess")
        parked, result = inbound.reprocess(actor=actor, parked_id=parked_id)
        return 200, {"parked": parked_out(_parked(parked.pk)), "reprocessed": result is not None,
                     "result_status": result[0] if result else None, "result": result[1] if result else None}

    return respond(request, action)


@router.post("/parked/{int:parked_id}/discard", response={200: ParkedOut, **ERRORS})
def discard_parked(request: HttpRequest, parked_id: int, payload: DiscardIn) -> HttpResponse:
    """Close a parked message without processing it; the reason goes into the audit trail."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        authorize(actor, "integration.reprocess")
        parked = inbound.discard(actor=actor, parked_id=parked_id, reason=payload.reason)
        return 200, parked_out(_parked(parked.pk))

    return respond(request, action)
