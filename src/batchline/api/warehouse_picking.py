"""Material requests, FEFO allocation and picking over the API (issue 4; WMS-04, WMS-05; INTERFACES.md
exchange 1), under /api/v1/inventory.

The MES (or an ERP) posts an order's requirement of one material; Batchline allocates it FEFO from
usable stock at once and answers with the request, its status and its pick tasks. With
`source_system` the sender's material, unit and location codes are translated through the code maps
(an unmapped code is refused with 422 naming the field). POSTs take an Idempotency-Key (required for
API tokens): a replay returns the first response and changes nothing. Bad input is refused with a
specific 4xx before anything is written. A deadlock that PostgreSQL reports is retried inside.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from batchline.api.auth import caller
from batchline.api.idempotency import respond
from batchline.api.schemas import ERRORS, In, PageMeta, PageQuery
from batchline.core.errors import NotFound, ensure
from batchline.identity.authz import authorize
from batchline.inventory import allocation, picking
from batchline.inventory.models import MaterialRequest, PickTask
from batchline.inventory.retry import retrying
from batchline.masterdata.choices import CodeMapKind
from batchline.masterdata.codemaps import translate

router = Router(tags=["warehouse picking"])

VIEW = "inventory.view"
RequestStatusValue = Literal["open", "partial", "allocated", "picked", "cancelled"]
TaskStatusValue = Literal["open", "done", "cancelled"]


# --- schemas ----------------------------------------------------------------------------------------

class MaterialRequestIn(In):
    """Exchange 1 (MES → WMS): one material an order needs. 生产备料需求：订单所需的一种物料。"""

    order_ref: str = Field(min_length=1, max_length=40, description="Production order number. 生产订单号。")
    material: str = Field(min_length=1, max_length=40, description=(
        "Material code (the sender's code when source_system is given). 物料编码（给出来源系统时为其编码）。"))
    quantity: str = Field(min_length=1, max_length=40, description=(
        "Quantity needed, a decimal string. 需求数量（十进制字符串）。"),
        json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    unit: str = Field(min_length=1, max_length=40, description=(
        "Unit code of the quantity (translated for the source system). 数量的计量单位编码。"))
    need_by: date = Field(description="Date the order needs the material, ISO 8601. 需求日期（ISO 8601）。")
    lot: str | None = Field(default=None, max_length=40, description=(
        "Only this Batchline lot (optional); it must be usable on the need-by day. 指定批号（可选），须在需求日可用。"))
    to_location: str | None = Field(default=None, max_length=40, description=(
        "Staging, dispensary or line-side location to deliver to (optional: else scanned at the pick). "
        "送达库位：备料区、称量室或线边（可选，否则拣货时扫描）。"))
    source_system: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$", description=(
        "Sending system, e.g. MES-1: its codes are translated through the code maps. 发送系统，按代码映射转换其编码。"))


class PickTaskOut(Schema):
    task_id: int = Field(description="Pick task id. 拣货任务号。")
    lot: str = Field(description="Lot to pick. 批号。")
    container: str = Field(description="Container to pick (its label code). 容器编码。")
    from_location: str = Field(description="Where the container is. 所在库位。")
    quantity: str = Field(description="Quantity reserved for the task, in the request's unit. 预留数量。")
    status: TaskStatusValue = Field(description="open, done or cancelled. 状态：待拣、已拣、已取消。")
    picked_quantity: str = Field(description="Quantity picked. 已拣数量。")
    picked_container: str | None = Field(description=(
        "The container that travelled: the new one after a split; null until picked. "
        "实际送出的容器（拆分后为新容器）；拣货前为空。"))


class MaterialRequestOut(Schema):
    request_id: int = Field(description="Material request id. 备料需求号。")
    order_ref: str = Field(description="Production order number. 生产订单号。")
    source_system: str = Field(description="Sending system. 来源系统。")
    material: str = Field(description="Batchline material code. 物料编码。")
    lot: str | None = Field(description="The requested lot, if one was. 指定批号。")
    quantity: str = Field(description="Quantity needed, in `unit`. 需求数量。")
    unit: str = Field(description="The material's base unit. 物料基本单位。")
    need_by: date = Field(description="Need-by date. 需求日期。")
    to_location: str | None = Field(description="Delivery location. 送达库位。")
    status: RequestStatusValue = Field(description=(
        "open (nothing allocated), partial, allocated, picked or cancelled. "
        "状态：未分配、部分分配、已分配、已拣、已取消。"))
    allocated_quantity: str = Field(description="Reserved or picked. 已分配数量（含已拣）。")
    picked_quantity: str = Field(description="Picked. 已拣数量。")
    created_at: datetime
    tasks: list[PickTaskOut]


class MaterialRequestPage(PageMeta):
    items: list[MaterialRequestOut]


class MaterialRequestQuery(Schema):
    status: RequestStatusValue | None = None
    order_ref: str = Field(default="", description="Only this order. 仅此订单。")
    source_system: str = ""
    material: str = Field(default="", description="Only this Batchline material code. 仅此物料。")


class OpenTaskOut(PickTaskOut):
    request_id: int
    order_ref: str
    material: str
    unit: str
    need_by: date
    to_location: str | None


class PickTaskQuery(Schema):
    status: TaskStatusValue = Field(default="open", description="open (default), done or cancelled.")
    order_ref: str = ""


class CancelIn(In):
    reason: str = Field(max_length=2000, description="Why: recorded in the audit trail. 取消原因（记入审计追踪）。")


class PickIn(In):
    """Confirm a pick by the scanned container label. 扫描容器标签确认拣货。"""

    scanned: str = Field(min_length=1, max_length=500, description=(
        "What the scanner read from the container label (GS1 string or container code). 扫描到的容器标签内容。"))
    quantity: str | None = Field(default=None, max_length=40, description=(
        "Quantity picked (default: the task's); less is a short pick and needs a reason. "
        "拣货数量（默认任务数量）；少拣须填原因。"))
    unit: str | None = Field(default=None, max_length=40, description="Unit of the quantity (default the base unit).")
    to_location: str | None = Field(default=None, max_length=40, description=(
        "Where the material goes (default: the request's). 送达库位（默认取需求中的库位）。"))
    reason: str = Field(default="", max_length=2000, description="Reason for a short pick. 少拣原因。")


class PickOut(Schema):
    task: PickTaskOut
    request: MaterialRequestOut
    container: str = Field(description=(
        "The container that went to the destination (new after a split: print its label). "
        "送出的容器（拆分后为新容器，请打印其标签）。"))
    split: bool = Field(description="Whether the container was split. 是否拆分。")


# --- conversions --------------------------------------------------------------------------------------

def task_out(task: PickTask) -> dict[str, Any]:
    return PickTaskOut(**allocation.task_payload(task)).model_dump(mode="json")


def request_out(request: MaterialRequest) -> dict[str, Any]:
    payload = allocation.request_payload(request, allocation.tasks_of(request))
    payload["created_at"] = request.created_at
    return MaterialRequestOut(**payload).model_dump(mode="json")


def _requests() -> QuerySet[MaterialRequest]:
    return MaterialRequest.objects.select_related("material", "unit", "lot", "to_location")


def _request(request_id: int) -> MaterialRequest:
    found = _requests().filter(pk=request_id).first()
    ensure(found is not None, NotFound(field="request_id"))
    assert found is not None
    return found


def _code(source_system: str | None, kind: str, value: str | None, field: str) -> str | None:
    if value is None or not source_system:
        return value
    return translate(source_system, kind, value, field=field)


# --- endpoints ----------------------------------------------------------------------------------------

@router.post("/material-requests", response={201: MaterialRequestOut, **ERRORS})
def inventory_request_material(request: HttpRequest, payload: MaterialRequestIn) -> HttpResponse:
    """Exchange 1: record an order's requirement and allocate it FEFO at once from released,
    unexpired, not-retest-due stock that is still usable on the need-by day (WMS-04, WMS-05).
    Status allocated, partial (as far as stock allows) or open."""
    actor = caller(request)
    authorize(actor, "inventory.allocate")

    def action() -> tuple[int, Any]:
        system = payload.source_system
        made = allocation.request_material(
            actor=actor, order_ref=payload.order_ref,
            material_code=_code(system, CodeMapKind.MATERIAL, payload.material, "material") or "",
            quantity=payload.quantity, unit=_code(system, CodeMapKind.UNIT, payload.unit, "unit") or "",
            need_by=payload.need_by, lot_number=payload.lot,
            to_location=_code(system, CodeMapKind.LOCATION, payload.to_location, "to_location"),
            source_system=system or allocation.DEFAULT_SOURCE_SYSTEM)
        return 201, request_out(_request(made.pk))

    return retrying(respond)(request, action)


@router.get("/material-requests", response={200: MaterialRequestPage, **ERRORS})
def inventory_material_requests(request: HttpRequest, query: Query[MaterialRequestQuery],
                                paging: Query[PageQuery]) -> dict[str, Any]:
    """Material requests, the earliest need-by date first."""
    authorize(caller(request), VIEW)
    found = _requests()
    if query.status:
        found = found.filter(status=query.status)
    if query.order_ref:
        found = found.filter(order_ref=query.order_ref)
    if query.source_system:
        found = found.filter(source_system=query.source_system.upper())
    if query.material:
        found = found.filter(material__code=query.material)
    start = (paging.page - 1) * paging.page_size
    return {"items": [request_out(r) for r in found[start:start + paging.page_size]], "count": found.count(),
            "page": paging.page, "page_size": paging.page_size}


@router.get("/material-requests/{int:request_id}", response={200: MaterialRequestOut, **ERRORS})
def inventory_material_request(request: HttpRequest, request_id: int) -> dict[str, Any]:
    authorize(caller(request), VIEW)
    return request_out(_request(request_id))


@router.post("/material-requests/{int:request_id}/allocate", response={200: MaterialRequestOut, **ERRORS})
def inventory_allocate_request(request: HttpRequest, request_id: int) -> HttpResponse:
    """Allocate again what an open or partially allocated request still lacks."""
    actor = caller(request)
    authorize(actor, "inventory.allocate")

    def action() -> tuple[int, Any]:
        allocation.allocate(actor=actor, request_id=request_id)
        return 200, request_out(_request(request_id))

    return retrying(respond)(request, action)


@router.post("/material-requests/{int:request_id}/cancel", response={200: MaterialRequestOut, **ERRORS})
def inventory_cancel_request(request: HttpRequest, request_id: int, payload: CancelIn) -> HttpResponse:
    """Cancel a request: open pick tasks are cancelled and their reservations released (reason required)."""
    actor = caller(request)
    authorize(actor, "inventory.allocate")

    def action() -> tuple[int, Any]:
        allocation.cancel_request(actor=actor, request_id=request_id, reason=payload.reason)
        return 200, request_out(_request(request_id))

    return retrying(respond)(request, action)


@router.get("/pick-tasks", response={200: list[OpenTaskOut], **ERRORS})
def inventory_pick_tasks(request: HttpRequest, query: Query[PickTaskQuery]) -> list[dict[str, Any]]:
    """Pick tasks (open ones by default), the earliest need-by date first; at most 500."""
    authorize(caller(request), VIEW)
    tasks = (PickTask.objects.select_related("request__material", "request__unit", "request__to_location", "lot",
                                             "container", "from_location", "picked_container")
             .filter(status=query.status).order_by("request__need_by", "request_id", "pk"))
    if query.order_ref:
        tasks = tasks.filter(request__order_ref=query.order_ref)
    return [OpenTaskOut(**allocation.task_payload(t), request_id=t.request_id, order_ref=t.request.order_ref,
                        material=t.request.material.code, unit=t.request.unit.code, need_by=t.request.need_by,
                        to_location=t.request.to_location.code if t.request.to_location else None,
                        ).model_dump(mode="json") for t in tasks[:500]]


@router.post("/pick-tasks/{int:task_id}/confirm", response={200: PickOut, **ERRORS})
def inventory_confirm_pick(request: HttpRequest, task_id: int, payload: PickIn) -> HttpResponse:
    """Confirm a pick by the scanned label. A wrong container is refused (409 wrong_container, with the
    reason); less than the container holds splits it into a new container (print its label)."""
    actor = caller(request)
    authorize(actor, "inventory.pick")

    def action() -> tuple[int, Any]:
        done = picking.confirm_pick(actor=actor, task_id=task_id, scanned=payload.scanned, quantity=payload.quantity,
                                    unit=payload.unit, to_location=payload.to_location, reason=payload.reason)
        tasks = allocation.tasks_of(done.task.request)
        return 200, {"task": task_out(next(t for t in tasks if t.pk == task_id)),
                     "request": request_out(_request(done.task.request_id)), "container": done.container.code,
                     "split": done.split}

    return retrying(respond)(request, action)
