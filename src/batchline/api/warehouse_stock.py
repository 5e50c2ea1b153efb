"""Stock, lots and their history, the signed lot status change, transfers, returns, scrap, samples,
cycle counts, alerts and stock policies over the API (issue 4; WMS-03, WMS-07, WMS-08), under
/api/v1/inventory.

Writes call the inventory services (movements, counting, alerts, lots), which check the permission
and refuse bad input before anything is written, with the field at fault. Every POST and PUT takes an
Idempotency-Key (required for API tokens): a replay returns the first response and changes nothing.
Container and location fields take a code or a label scan (GS1 element string, (AI) form).

Signed actions (a lot's status, a count's approval) carry a signature block with the caller's own user
id and password and the meaning: `lot_status` for a lot, `approve` for a count (docs/api.md).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field, StrictInt

from batchline.api.auth import caller
from batchline.api.idempotency import respond
from batchline.api.schemas import ERRORS, In, PageMeta, PageQuery, SignatureIn
from batchline.api.signing import signature_fields, signature_request
from batchline.core.errors import NotFound, ensure
from batchline.identity.authz import authorize, has_permission
from batchline.inventory import alerts, counting, lots, movements, scanning, selectors
from batchline.inventory.choices import AlertKind, CountStatus, DerivedLotState, LotStatus
from batchline.inventory.models import CycleCount, Lot, Movement, StockAlert, StockBalance, StockPolicy
from batchline.inventory.selectors import StockFilter
from batchline.inventory.usability import lot_state

router = Router(tags=["warehouse stock"])

VIEW = "inventory.view"
StateValue = Literal["quarantine", "released", "rejected", "restricted", "expired", "retest_due"]


def _plain(value: Decimal | None) -> str | None:
    return format(value.normalize(), "f") if value is not None else None


# --- schemas: stock -----------------------------------------------------------------------------------

class StockQuery(Schema):
    material: str = Field(default="", description="Material code, or part of its name. 物料编码或名称。")
    lot: str = Field(default="", description="Part of the lot or supplier lot number. 批号或供应商批号。")
    location: str = Field(default="", description="Location code. 库位编码。")
    warehouse: str = Field(default="", description="Warehouse code. 仓库编码。")
    container: str = Field(default="", description="Container code. 容器编码。")
    status: StateValue | Literal[""] = Field(default="", description=(
        "Derived status on the site's day: quarantine, released, rejected, restricted, expired, retest_due. "
        "当日的批次状态（含已过期、待复验）。"))

    def filter(self) -> StockFilter:
        return StockFilter(material=self.material, lot=self.lot, location=self.location, warehouse=self.warehouse,
                           container=self.container, status=self.status)


class StockRowOut(Schema):
    material: str = Field(description="Material code. 物料编码。")
    material_name_zh: str
    material_name_en: str
    lot: str = Field(description="Lot number. 批号。")
    supplier_lot: str
    container: str = Field(description="Container code. 容器编码。")
    location: str = Field(description="Location code. 库位编码。")
    warehouse: str = Field(description="Warehouse code. 仓库编码。")
    lot_status: str = Field(description="Stored QC status. 批次质量状态。")
    state: StateValue = Field(description="Derived status today (expired, retest_due override). 当日状态。")
    on_hand: str = Field(description="On hand, in `unit`. 现存数量。")
    reserved: str = Field(description="Held by open pick tasks. 已预留数量。")
    available: str = Field(description="On hand minus reserved. 可用数量。")
    unit: str = Field(description="The material's base unit. 物料基本单位。")
    expires_on: date | None
    retest_on: date | None


class StockPage(PageMeta):
    items: list[StockRowOut]


class StockGroupOut(Schema):
    material: str
    material_name_zh: str | None = None
    material_name_en: str | None = None
    lot: str | None = Field(default=None, description="When grouped by lot. 按批次汇总时。")
    expires_on: date | None = None
    location: str | None = Field(default=None, description="When grouped by location. 按库位汇总时。")
    warehouse: str | None = None
    state: StateValue
    containers: int = Field(description="Containers with stock. 有库存的容器数。")
    total: str = Field(description="Total on hand, in `unit`. 合计数量。")
    unit: str


class StateTotalsOut(Schema):
    material: str
    material_name_zh: str
    material_name_en: str
    unit: str = Field(description="The material's base unit: quantities of different materials are never added. "
                                  "物料基本单位（不同物料不相加）。")
    by_state: dict[str, str] = Field(description="State → quantity. 状态 → 数量。")
    total: str


class StockByStatusOut(Schema):
    materials: list[StateTotalsOut]
    containers: dict[str, int] = Field(description="State → number of containers. 状态 → 容器数。")


class LocationOccupancyOut(Schema):
    warehouse: str
    location: str
    location_type: str
    storage_condition: str
    containers: int
    lots: int
    state: str = Field(description="The most critical state held (rejected first), or empty. 库位上最需关注的状态。")
    states: dict[str, int] = Field(description="State → containers. 状态 → 容器数。")


# --- schemas: lots and movements -----------------------------------------------------------------------

class LedgerMovementOut(Schema):
    id: int = Field(description="Ledger line id. 库存台账行号。")
    movement_type: str = Field(description="receipt, putaway, transfer, pick, split_out, split_in, issue, return, "
                                           "scrap, sample, count_gain, count_loss, shipment. 移动类型。")
    material: str
    lot: str
    container: str
    from_location: str | None
    to_location: str | None
    quantity: str = Field(description="Quantity moved, positive, in `unit`. 移动数量。")
    unit: str
    reason_code: str
    reason: str
    reference: str
    posted_by: str = Field(description="User id. 过账人。")
    posted_by_name: str
    posted_at: datetime = Field(description="UTC. 过账时间（UTC）。")


class ContainerStockOut(Schema):
    location: str
    on_hand: str
    reserved: str


class StockContainerOut(Schema):
    code: str
    serial: int
    on_hand: str
    reserved: str
    sampled: bool = Field(description="A sample was withdrawn from it. 已取样。")
    stock: list[ContainerStockOut]


class StockLotOut(Schema):
    number: str = Field(description="Lot number. 批号。")
    material: str
    material_name_zh: str
    material_name_en: str
    status: str = Field(description="Stored QC status. 批次质量状态。")
    state: StateValue = Field(description="Derived status today. 当日状态。")
    restriction: str
    supplier: str | None
    supplier_lot: str
    manufactured_on: date | None
    expires_on: date | None
    retest_on: date | None
    inspection_required: bool
    received_at: datetime
    status_changed_at: datetime | None
    on_hand: str
    unit: str
    containers: list[StockContainerOut]
    open_alerts: list[str] = Field(description="Kinds of the lot's open alerts. 未关闭的预警类型。")
    movements: list[LedgerMovementOut] | None = Field(description="Every movement, oldest first (history=true). "
                                                                  "全部库存移动。")


class LotStatusIn(In):
    """QA's decision (WMS-03). 质量判定。"""

    status: Literal["quarantine", "released", "rejected", "restricted"] = Field(description="New status. 新状态。")
    reason: str = Field(max_length=2000, description="Reason for the decision. 判定理由。")
    restriction: str = Field(default="", max_length=2000, description=(
        "For restricted: what the lot may be used for. 限制使用的范围。"))
    reference: str = Field(default="", max_length=60, description=(
        "Decision behind it: inspection lot, deviation. 依据：检验批、偏差。"))
    signature: SignatureIn = Field(description="Meaning `lot_status`. 签名含义 lot_status。")


class TransferIn(In):
    container: str = Field(max_length=500, description="Container code or label scan. 容器编码或标签扫描内容。")
    to_location: str = Field(max_length=500, description="Target location code or scan. 目标库位。")
    quantity: str | None = Field(default=None, max_length=40, description=(
        "Decimal string; omitted: the container's whole stock at its location. 数量；不填则整桶。"))
    unit: str | None = Field(default=None, max_length=40, description="Unit of `quantity` (default: base unit). 单位。")
    from_location: str | None = Field(default=None, max_length=500, description=(
        "Needed when the container has stock at several locations. 容器在多个库位时须指定。"))
    reference: str = Field(default="", max_length=60)


class ReturnIn(In):
    """Material back from the line (INTERFACES.md exchange 5). 退料。"""

    container: str = Field(max_length=500, description="Container code or label scan. 容器。")
    to_location: str = Field(max_length=500, description="Where it goes back to. 退回库位。")
    reweighed_quantity: str = Field(max_length=40, description="Re-weighed quantity, decimal string. 复称数量。")
    unit: str | None = Field(default=None, max_length=40)
    reason_code: Literal["surplus", "order_cancelled", "damaged", "contaminated", "other"] = Field(description=(
        "Why it came back. 退料原因代码。"))
    reason: str = Field(default="", max_length=2000, description=(
        "Required for other, and when the re-weighed quantity differs from the book. 原因说明。"))
    order_ref: str = Field(default="", max_length=60, description=(
        "Original order; required when the material was issued to production. 原生产订单。"))
    from_location: str | None = Field(default=None, max_length=500)


class ScrapIn(In):
    container: str = Field(max_length=500)
    reason_code: Literal["damaged", "expired", "contaminated", "rejected_by_qc", "other"] = Field(description=(
        "expired needs an expired lot, rejected_by_qc a rejected one. 报废原因代码。"))
    reason: str = Field(max_length=2000, description="Always required. 报废原因说明（必填）。")
    quantity: str | None = Field(default=None, max_length=40, description="Omitted: all of it. 不填则整桶。")
    unit: str | None = Field(default=None, max_length=40)
    from_location: str | None = Field(default=None, max_length=500)
    reference: str = Field(default="", max_length=60)


class SampleIn(In):
    """Sample withdrawal (INTERFACES.md exchange 4). 取样。"""

    container: str = Field(max_length=500)
    quantity: str = Field(max_length=40, description="Sample quantity, decimal string. 取样量。")
    unit: str | None = Field(default=None, max_length=40, description="e.g. g. 单位，例如 g。")
    reason_code: Literal["qc_sample", "retention_sample"]
    reference: str = Field(default="", max_length=60, description=(
        "Inspection request number; required for qc_sample. 检验请求号（QC 取样必填）。"))
    reason: str = Field(default="", max_length=2000)
    from_location: str | None = Field(default=None, max_length=500)


class MovedOut(Schema):
    lot: str
    container: str
    movements: list[LedgerMovementOut]
    container_stock: list[ContainerStockOut] = Field(description="The container's stock afterwards. 移动后的容器库存。")


# --- schemas: counts, alerts, policies ----------------------------------------------------------------

class CountLineOut(Schema):
    container: str
    lot: str
    material: str
    unit: str
    counted: str | None
    expected: str | None = Field(description=(
        "Book quantity when the count was opened: null for a blind reader (the count is open, or the caller "
        "may not approve counts). 开单时账面数量；盲盘时为空。"))
    difference: str | None


class CountOut(Schema):
    id: int
    number: str
    location: str
    status: Literal["open", "counted", "approved", "rejected"]
    created_at: datetime
    created_by: str
    counted_at: datetime | None
    counted_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    lines: list[CountLineOut]


class CountOpenIn(In):
    location: str = Field(max_length=500, description="Location code or scan. 盘点库位。")


class CountEntryIn(In):
    lines: dict[str, str] = Field(description=(
        "Container code → counted quantity (decimal string, base unit), for every container of the count "
        "(0 when not there) and any found that were not listed. 容器 → 实盘数量。"))


class CountApproveIn(In):
    reason: str = Field(default="", max_length=2000, description="Required when there are differences. 差异原因。")
    signature: SignatureIn = Field(description="Meaning `approve`; not the counter. 签名含义 approve；不得为盘点人。")


class ReasonOnlyIn(In):
    reason: str = Field(max_length=2000)


class AlertQuery(Schema):
    kind: Literal["safety_stock", "expiry", "expired", "retest", "slow_moving", ""] = ""
    material: str = ""
    include_cleared: bool = Field(default=False, description="Also cleared alerts. 包括已关闭的。")


class StockAlertOut(Schema):
    id: int
    kind: str = Field(description="safety_stock, expiry, expired, retest, slow_moving. 预警类型。")
    material: str
    lot: str | None
    details: dict[str, Any] = Field(description="The figures behind it: quantity, unit, dates, days. 预警依据。")
    raised_at: datetime
    cleared_at: datetime | None


class StockPolicyOut(Schema):
    material: str
    safety_stock: str | None = Field(description="In the material's base unit; null: none. 安全库存。")
    unit: str
    expiry_warning_days: int
    retest_warning_days: int
    slow_moving_days: int
    updated_at: datetime
    updated_by: str


class StockPolicyIn(In):
    """The whole policy of a material: an omitted field takes its default. 物料的库存预警策略。"""

    safety_stock: str | None = Field(default=None, max_length=40, description="Decimal string; null: none. 安全库存。")
    unit: str | None = Field(default=None, max_length=40, description="Unit of safety_stock (default base unit).")
    expiry_warning_days: StrictInt = Field(default=alerts.DEFAULT_POLICY.expiry_warning_days, description=(
        "Warn this many days before expiry. 效期预警天数。"))
    retest_warning_days: StrictInt = Field(default=alerts.DEFAULT_POLICY.retest_warning_days, description=(
        "Warn this many days before retest. 复验预警天数。"))
    slow_moving_days: StrictInt = Field(default=alerts.DEFAULT_POLICY.slow_moving_days, description=(
        "Slow-moving after this many days without movement. 呆滞天数。"))
    reason: str = Field(default="", max_length=2000, description="Required for a change. 变更原因（修改时必填）。")


# --- output helpers ---------------------------------------------------------------------------------------

def stock_row_out(row: Any) -> dict[str, Any]:
    return {"material": row.material.code, "material_name_zh": row.material.name_zh,
            "material_name_en": row.material.name_en, "lot": row.lot.number, "supplier_lot": row.lot.supplier_lot,
            "container": row.container.code, "location": row.location.code, "warehouse": row.location.warehouse.code,
            "lot_status": row.lot.status, "state": row.state, "on_hand": _plain(row.on_hand),
            "reserved": _plain(row.reserved), "available": _plain(row.on_hand - row.reserved), "unit": row.unit.code,
            "expires_on": row.lot.expires_on, "retest_on": row.lot.retest_on}


def movement_out(m: Movement) -> dict[str, Any]:
    return {"id": m.pk, "movement_type": m.movement_type, "material": m.lot.material.code, "lot": m.lot.number,
            "container": m.container.code, "from_location": m.from_location.code if m.from_location else None,
            "to_location": m.to_location.code if m.to_location else None, "quantity": _plain(m.quantity),
            "unit": m.unit.code, "reason_code": m.reason_code, "reason": m.reason, "reference": m.reference,
            "posted_by": m.actor.username, "posted_by_name": m.actor.full_name, "posted_at": m.occurred_at}


def _history(lot: Lot) -> list[Movement]:
    return list(selectors.lot_history(lot).select_related("lot__material"))


def lot_out(lot: Lot, *, history: bool = True) -> dict[str, Any]:
    containers = [{"code": e["container"].code, "serial": e["container"].serial, "on_hand": _plain(e["on_hand"]),
                   "reserved": _plain(e["reserved"]), "sampled": e["sampled"],
                   "stock": [{"location": b.location.code, "on_hand": _plain(b.on_hand),
                              "reserved": _plain(b.reserved)} for b in e["balances"]]}
                  for e in selectors.lot_containers(lot)]
    return StockLotOut.model_validate({
        "number": lot.number, "material": lot.material.code, "material_name_zh": lot.material.name_zh,
        "material_name_en": lot.material.name_en, "status": lot.status, "state": lot_state(lot).value,
        "restriction": lot.restriction, "supplier": lot.supplier.code if lot.supplier else None,
        "supplier_lot": lot.supplier_lot, "manufactured_on": lot.manufactured_on, "expires_on": lot.expires_on,
        "retest_on": lot.retest_on, "inspection_required": lot.inspection_required, "received_at": lot.received_at,
        "status_changed_at": lot.status_changed_at, "on_hand": _plain(selectors.lot_total(lot)),
        "unit": lot.material.base_unit.code, "containers": containers,
        "open_alerts": list(selectors.stock_alerts().filter(lot=lot).values_list("kind", flat=True)),
        "movements": [movement_out(m) for m in _history(lot)] if history else None,
    }).model_dump(mode="json")


def moved_out(moved: movements.Moved) -> dict[str, Any]:
    rows = StockBalance.objects.filter(container=moved.container, on_hand__gt=0).select_related("location")
    done = (Movement.objects.filter(pk__in=[m.pk for m in moved.movements])
            .select_related("lot__material", "container", "from_location", "to_location", "unit", "actor")
            .order_by("id"))
    return MovedOut.model_validate({
        "lot": moved.lot.number, "container": moved.container.code, "movements": [movement_out(m) for m in done],
        "container_stock": [{"location": r.location.code, "on_hand": _plain(r.on_hand),
                             "reserved": _plain(r.reserved)} for r in rows.order_by("location__code")],
    }).model_dump(mode="json")


def count_out(count: CycleCount, reader: Any) -> dict[str, Any]:
    sees_book = count.status != CountStatus.OPEN and has_permission(reader, "inventory.approve_count")
    lines = count.lines.select_related("container__lot__material__base_unit").order_by("container__code")
    return CountOut.model_validate({
        "id": count.pk, "number": count.number, "location": count.location.code, "status": count.status,
        "created_at": count.created_at, "created_by": count.created_by.username,
        "counted_at": count.counted_at, "counted_by": count.counted_by.username if count.counted_by else None,
        "decided_at": count.decided_at, "decided_by": count.decided_by.username if count.decided_by else None,
        "lines": [{"container": line.container.code, "lot": line.container.lot.number,
                   "material": line.container.lot.material.code, "unit": line.container.lot.material.base_unit.code,
                   "counted": _plain(line.counted),
                   "expected": _plain(line.expected) if sees_book else None,
                   "difference": (_plain(line.counted - line.expected)
                                  if sees_book and line.counted is not None else None)}
                  for line in lines],
    }).model_dump(mode="json")


def alert_out(alert: StockAlert) -> dict[str, Any]:
    return {"id": alert.pk, "kind": alert.kind, "material": alert.material.code,
            "lot": alert.lot.number if alert.lot else None, "details": alert.details, "raised_at": alert.raised_at,
            "cleared_at": alert.cleared_at}


def policy_out(policy: StockPolicy) -> dict[str, Any]:
    return StockPolicyOut.model_validate({
        "material": policy.material.code, "safety_stock": _plain(policy.safety_stock),
        "unit": policy.material.base_unit.code, "expiry_warning_days": policy.expiry_warning_days,
        "retest_warning_days": policy.retest_warning_days, "slow_moving_days": policy.slow_moving_days,
        "updated_at": policy.updated_at, "updated_by": policy.updated_by.username,
    }).model_dump(mode="json")


def _lot(number: str) -> Lot:
    lot = selectors.lot_by_number(number)
    ensure(lot is not None, NotFound(field="number"))
    assert lot is not None
    return lot


def _count(count_id: int) -> CycleCount:
    count = (CycleCount.objects.select_related("location", "created_by", "counted_by", "decided_by")
             .filter(pk=count_id).first())
    ensure(count is not None, NotFound(field="count_id"))
    assert count is not None
    return count


def _container_code(text: str, field: str = "container") -> str:
    return scanning.container_from_scan(text, field=field).code


def _location_code(text: str | None, field: str) -> str | None:
    if text is None or not text.strip():
        return None
    return scanning.location_from_scan(text, field=field).code


# --- stock ------------------------------------------------------------------------------------------------

@router.get("/stock", response={200: StockPage, **ERRORS})
def inventory_stock(request: HttpRequest, query: Query[StockQuery], paging: Query[PageQuery]) -> dict[str, Any]:
    """Stock per container and location, with each lot's derived status today (WMS-03), filtered.
    按容器和库位列出库存（含当日批次状态），可筛选。"""
    authorize(caller(request), VIEW)
    rows = selectors.stock(query.filter())
    start = (paging.page - 1) * paging.page_size
    return {"items": [stock_row_out(r) for r in rows[start:start + paging.page_size]], "count": rows.count(),
            "page": paging.page, "page_size": paging.page_size}


@router.get("/stock/summary", response={200: list[StockGroupOut], **ERRORS})
def inventory_stock_summary(request: HttpRequest, query: Query[StockQuery],
                            by: Literal["material", "lot", "location"] = "material") -> list[dict[str, Any]]:
    """Stock totals by material, lot or location, and by derived status. 按物料、批次或库位及状态汇总。"""
    authorize(caller(request), VIEW)
    out = []
    for row in selectors.stock_summary(query.filter(), by=by):
        out.append({"material": row["material__code"], "material_name_zh": row.get("material__name_zh"),
                    "material_name_en": row.get("material__name_en"), "lot": row.get("lot__number"),
                    "expires_on": row.get("lot__expires_on"), "location": row.get("location__code"),
                    "warehouse": row.get("location__warehouse__code"), "state": row["state"],
                    "containers": row["containers"], "total": _plain(row["total"]), "unit": row["unit__code"]})
    return out


@router.get("/stock/by-status", response={200: StockByStatusOut, **ERRORS})
def inventory_stock_by_status(request: HttpRequest, query: Query[StockQuery]) -> dict[str, Any]:
    """Stock of each material split by status (the picture of stock by status), and containers per status.
    各物料按状态的库存，以及各状态的容器数。"""
    authorize(caller(request), VIEW)
    flt = query.filter()
    return {"materials": [{"material": t.material, "material_name_zh": t.name_zh, "material_name_en": t.name_en,
                           "unit": t.unit, "by_state": {k: _plain(v) for k, v in t.by_state.items()},
                           "total": _plain(t.total)} for t in selectors.totals_by_state(flt)],
            "containers": selectors.containers_by_state(flt)}


@router.get("/locations/occupancy", response={200: list[LocationOccupancyOut], **ERRORS})
def inventory_location_occupancy(request: HttpRequest, warehouse: str = "") -> list[dict[str, Any]]:
    """Every approved location with what it holds (the location map). 各库位占用情况（库位图）。"""
    authorize(caller(request), VIEW)
    return [{"warehouse": cell.location.warehouse.code, "location": cell.location.code,
             "location_type": cell.location.location_type, "storage_condition": cell.location.storage_condition,
             "containers": cell.containers, "lots": cell.lots, "state": cell.state, "states": cell.states}
            for cells in selectors.location_map(warehouse=warehouse).values() for cell in cells]


# --- lots ---------------------------------------------------------------------------------------------------

@router.get("/lots/{number}", response={200: StockLotOut, **ERRORS})
def inventory_lot(request: HttpRequest, number: str, history: bool = True) -> dict[str, Any]:
    """A lot: status and derived state, dates, containers with stock, open alerts and (history=true) every
    movement with who posted it and when. 批次详情及全部库存移动记录。"""
    authorize(caller(request), VIEW)
    return lot_out(_lot(number), history=history)


@router.post("/lots/{number}/status", response={200: StockLotOut, **ERRORS})
def inventory_change_lot_status(request: HttpRequest, number: str, payload: LotStatusIn) -> HttpResponse:
    """QA's signed status decision (WMS-03; quality's usage decision calls the same service). A lot that
    stops being released leaves every allocation at once: its open pick tasks are cancelled.
    质量判定（电子签名）：不再合格的批次立即退出所有分配。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        lot = _lot(number)
        with signature_fields():
            changed = lots.change_lot_status(
                actor=actor, lot_id=lot.pk, status=payload.status, reason=payload.reason,
                restriction=payload.restriction, reference=payload.reference,
                signature=signature_request(actor, payload.signature))
        return 200, lot_out(changed, history=False)

    return respond(request, action)


# --- movements ---------------------------------------------------------------------------------------------

@router.post("/transfers", response={200: MovedOut, **ERRORS})
def inventory_transfer(request: HttpRequest, payload: TransferIn) -> HttpResponse:
    """Move a container (or part of it) to another location: storage, dispensary, line-side, staging,
    quarantine, rejected goods; the location must fit (WMS-07). 容器转移。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        authorize(actor, "inventory.move")
        moved = movements.transfer(
            actor=actor, container=_container_code(payload.container),
            to_location=_location_code(payload.to_location, "to_location") or "", quantity=payload.quantity,
            unit=payload.unit, from_location=_location_code(payload.from_location, "from_location"),
            reference=payload.reference)
        return 200, moved_out(moved)

    return respond(request, action)


@router.post("/returns", response={200: MovedOut, **ERRORS})
def inventory_return_to_stock(request: HttpRequest, payload: ReturnIn) -> HttpResponse:
    """Return material from the line, re-weighed (exchange 5): a difference from the book is posted as a
    count gain or loss with the reason (WMS-07). 退料入库（复称差异记盘盈/盘亏）。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        authorize(actor, "inventory.adjust")
        moved = movements.return_to_stock(
            actor=actor, container=_container_code(payload.container),
            to_location=_location_code(payload.to_location, "to_location") or "",
            reweighed_quantity=payload.reweighed_quantity, unit=payload.unit, reason_code=payload.reason_code,
            reason=payload.reason, order_ref=payload.order_ref,
            from_location=_location_code(payload.from_location, "from_location"))
        return 200, moved_out(moved)

    return respond(request, action)


@router.post("/scraps", response={200: MovedOut, **ERRORS})
def inventory_scrap(request: HttpRequest, payload: ScrapIn) -> HttpResponse:
    """Scrap stock with a reason code and reason (WMS-07). 报废。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        authorize(actor, "inventory.adjust")
        moved = movements.scrap(
            actor=actor, container=_container_code(payload.container), reason_code=payload.reason_code,
            reason=payload.reason, quantity=payload.quantity, unit=payload.unit,
            from_location=_location_code(payload.from_location, "from_location"), reference=payload.reference)
        return 200, moved_out(moved)

    return respond(request, action)


@router.post("/samples", response={200: MovedOut, **ERRORS})
def inventory_withdraw_sample(request: HttpRequest, payload: SampleIn) -> HttpResponse:
    """Withdraw a QC or retention sample (exchange 4, WMS-07); quality calls this with the inspection number.
    取样（QC 样品须提供检验请求号）。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        authorize(actor, "inventory.sample")
        moved = movements.withdraw_sample(
            actor=actor, container=_container_code(payload.container), quantity=payload.quantity, unit=payload.unit,
            reason_code=payload.reason_code, reference=payload.reference, reason=payload.reason,
            from_location=_location_code(payload.from_location, "from_location"))
        return 200, moved_out(moved)

    return respond(request, action)


# --- cycle counts -------------------------------------------------------------------------------------------

@router.get("/cycle-counts", response={200: list[CountOut], **ERRORS})
def inventory_cycle_counts(request: HttpRequest,
                           status: Literal["open", "counted", "approved", "rejected", ""] = "",
                           location: str = "") -> list[dict[str, Any]]:
    """Cycle counts, newest first (at most 200). 循环盘点单。"""
    reader = caller(request)
    authorize(reader, VIEW)
    return [count_out(c, reader) for c in selectors.cycle_counts(status=status, location=location)[:200]]


@router.get("/cycle-counts/{int:count_id}", response={200: CountOut, **ERRORS})
def inventory_cycle_count(request: HttpRequest, count_id: int) -> dict[str, Any]:
    """A count; the book quantities only for those who approve counts, once it is counted (blind count).
    盘点单（盲盘：仅审批人在录入后可见账面数）。"""
    reader = caller(request)
    authorize(reader, VIEW)
    return count_out(_count(count_id), reader)


@router.post("/cycle-counts", response={201: CountOut, **ERRORS})
def inventory_open_count(request: HttpRequest, payload: CountOpenIn) -> HttpResponse:
    """Open a count of a location: the book quantity of every container there is noted. 开盘点单。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        authorize(actor, "inventory.count")
        count = counting.open_count(actor=actor, location=_location_code(payload.location, "location") or "")
        return 201, count_out(_count(count.pk), actor)

    return respond(request, action)


@router.post("/cycle-counts/{int:count_id}/entries", response={200: CountOut, **ERRORS})
def inventory_enter_count(request: HttpRequest, count_id: int, payload: CountEntryIn) -> HttpResponse:
    """Enter what was counted, for every container of the count. 录入实盘数量。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        counting.enter_count(actor=actor, count_id=_count(count_id).pk, lines=payload.lines)
        return 200, count_out(_count(count_id), actor)

    return respond(request, action)


@router.post("/cycle-counts/{int:count_id}/approve", response={200: CountOut, **ERRORS})
def inventory_approve_count(request: HttpRequest, count_id: int, payload: CountApproveIn) -> HttpResponse:
    """Approve a counted count (signed, meaning approve, not by its counter): each difference is posted as
    a count gain or loss. 审批盘点差异（电子签名，不得为盘点人）。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        with signature_fields():
            counting.approve_count(actor=actor, count_id=_count(count_id).pk, reason=payload.reason,
                                   signature=signature_request(actor, payload.signature))
        return 200, count_out(_count(count_id), actor)

    return respond(request, action)


@router.post("/cycle-counts/{int:count_id}/reject", response={200: CountOut, **ERRORS})
def inventory_reject_count(request: HttpRequest, count_id: int, payload: ReasonOnlyIn) -> HttpResponse:
    """Reject a count without posting anything (a recount follows). 驳回盘点单。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        counting.reject_count(actor=actor, count_id=_count(count_id).pk, reason=payload.reason)
        return 200, count_out(_count(count_id), actor)

    return respond(request, action)


# --- alerts and policies ---------------------------------------------------------------------------------------

@router.get("/alerts", response={200: list[StockAlertOut], **ERRORS})
def inventory_stock_alerts(request: HttpRequest, query: Query[AlertQuery]) -> list[dict[str, Any]]:
    """Stock alerts (WMS-08), newest first (at most 500): safety stock, approaching expiry, expired, retest
    due, slow-moving. 库存预警。"""
    authorize(caller(request), VIEW)
    rows = selectors.stock_alerts(open_only=not query.include_cleared, kind=query.kind, material=query.material)
    return [alert_out(a) for a in rows[:500]]


@router.get("/stock-policies", response={200: list[StockPolicyOut], **ERRORS})
def inventory_stock_policies(request: HttpRequest) -> list[dict[str, Any]]:
    """The materials' alert thresholds (others have the defaults). 各物料的库存预警策略。"""
    authorize(caller(request), VIEW)
    return [policy_out(p) for p in selectors.stock_policies()]


@router.put("/stock-policies/{material}", response={200: StockPolicyOut, **ERRORS})
def inventory_set_stock_policy(request: HttpRequest, material: str, payload: StockPolicyIn) -> HttpResponse:
    """Set a material's whole policy (audited; a change needs a reason). 设置物料的库存预警策略。"""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        policy = alerts.set_stock_policy(
            actor=actor, material=material, safety_stock=payload.safety_stock, unit=payload.unit,
            expiry_warning_days=payload.expiry_warning_days, retest_warning_days=payload.retest_warning_days,
            slow_moving_days=payload.slow_moving_days, reason=payload.reason)
        return 200, policy_out(selectors.stock_policies().get(pk=policy.pk))

    return respond(request, action)


# Values the schemas spell out are the model's (tests/api/test_inventory_stock.py holds them equal).
MODEL_VALUES = {"state": set(DerivedLotState.values), "status": set(LotStatus.values),
                "count_status": set(CountStatus.values), "alert_kind": set(AlertKind.values)}
