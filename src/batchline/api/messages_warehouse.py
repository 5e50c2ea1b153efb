"""The warehouse messages of the registry in api/messages.py (same conventions: English. 中文。
descriptions, decimals as strings, a quantity names its unit field). Each outbound event type the
inventory context emits has its message here; tests/api hold real events against these models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from batchline.api.messages import DECIMAL_PATTERN, OUTBOUND_TRANSPORT, Message, event_model
from batchline.inventory.choices import MovementType
from batchline.inventory.ledger import MOVEMENT_EVENT
from batchline.inventory.lots import STATUS_CHANGED
from batchline.inventory.receiving import INSPECTION_NEEDED, RECEIVED

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# The same values as inventory.choices.LotStatus and ReasonCode (tests/api/test_messages_warehouse.py).
LotStatusValue = Literal["quarantine", "released", "rejected", "restricted"]
ReasonValue = Literal["", "damaged", "expired", "contaminated", "rejected_by_qc", "surplus", "order_cancelled",
                      "count_difference", "qc_sample", "retention_sample", "other"]


class MovementPayload(BaseModel):
    """One line of the stock ledger (inventory.ledger.payload)."""

    model_config = ConfigDict(extra="forbid")

    movement_id: StrictInt = Field(description="Ledger line id. 库存台账行号。")
    movement_type: str = Field(max_length=12, description=(
        "Movement type (receipt, putaway, transfer, pick, split_out, split_in, issue, return, scrap, sample, "
        "count_gain, count_loss, shipment). "
        "移动类型（收货、上架、转移、拣货、拆分、发料、退库、报废、取样、盘盈、盘亏、发运）。"))
    material: str = Field(max_length=40, description="Material code. 物料编码。")
    lot: str = Field(max_length=40, description="Batchline lot number. 批号。")
    supplier_lot: str = Field(max_length=60, description=(
        "Supplier's lot number (empty when made on site). 供应商批号。"))
    container: str = Field(max_length=60, description="Container code (label). 容器编码（标签）。")
    from_location: str | None = Field(max_length=40, description=(
        "Location the quantity left; null for a receipt. 移出库位；收货时为空。"))
    to_location: str | None = Field(max_length=40, description=(
        "Location the quantity entered; null for an issue, scrap or sample. 移入库位；发料、报废、取样时为空。"))
    quantity: str = Field(pattern=DECIMAL_PATTERN, description="Quantity moved, positive. 移动数量（正数）。",
                          json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    unit: str = Field(max_length=40, description="Unit code: the material's base unit. 计量单位（物料基本单位）。")
    reason_code: ReasonValue = Field(description=(
        "Reason code, empty for planned movements. 原因代码（计划内移动为空）。"))
    reference: str = Field(max_length=60, description=(
        "What the movement belongs to: PO/line, order, request, count. "
        "业务单据：采购订单/行、生产订单、备料需求、盘点单。"))
    posted_by: str = Field(max_length=150, description="User id of who posted it. 过账人用户名。")
    posted_at: str = Field(description="When it was posted, UTC ISO 8601. 过账时间（UTC，ISO 8601）。")


class LotReceivedPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lot: str = Field(max_length=40, description="Batchline lot number. 批号。")
    material: str = Field(max_length=40, description="Material code. 物料编码。")
    status: LotStatusValue = Field(description="Lot status: quarantine at receipt. 批次状态：收货时为待验。")
    supplier: str | None = Field(max_length=40, description="Supplier code. 供应商编码。")
    supplier_lot: str = Field(max_length=60, description="Supplier's lot number. 供应商批号。")
    manufactured_on: str | None = Field(pattern=DATE_PATTERN, description="Manufacture date. 生产日期。")
    expires_on: str | None = Field(pattern=DATE_PATTERN, description="Expiry date. 有效期至。")
    retest_on: str | None = Field(pattern=DATE_PATTERN, description="Retest date. 复验日期。")
    containers: StrictInt = Field(ge=1, description="Number of containers received. 收货容器数。")
    quantity: str = Field(pattern=DECIMAL_PATTERN, description="Total quantity received. 收货总数量。",
                          json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    unit: str = Field(max_length=40, description="Unit code: the material's base unit. 计量单位（物料基本单位）。")
    inspection_required: StrictBool = Field(description=(
        "Whether incoming inspection is required. 是否需要来料检验。"))


class InspectionNeededPayload(LotReceivedPayload):
    purchase_order: str = Field(max_length=40, description="Purchase order number. 采购订单号。")


class LotStatusChangedPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lot: str = Field(max_length=40, description="Batchline lot number. 批号。")
    material: str = Field(max_length=40, description="Material code. 物料编码。")
    status: LotStatusValue = Field(description="New status. 新状态。")
    previous_status: LotStatusValue = Field(description="Status before. 原状态。")
    restriction: str = Field(description="What a restricted lot may be used for. 限制使用范围。")
    reason: str = Field(description="Reason for the decision. 判定理由。")
    reference: str = Field(description=(
        "Decision behind it (inspection lot, deviation). 依据（检验批、偏差）。"))
    signed_by: str = Field(max_length=150, description="User id of the signer. 签名人用户名。")
    cancelled_pick_tasks: StrictInt = Field(ge=0, description=(
        "Open pick tasks cancelled because the lot is no longer usable. 因批次不可用而取消的拣货任务数。"))


def messages() -> list[Message]:
    out = [
        Message(MOVEMENT_EVENT.format(type=kind.value), "outbound", OUTBOUND_TRANSPORT,
                event_model(MOVEMENT_EVENT.format(type=kind.value), MovementPayload),
                f"Stock movement: {kind.label}. 库存移动。")
        for kind in MovementType
    ]
    out += [
        Message(RECEIVED, "outbound", OUTBOUND_TRANSPORT, event_model(RECEIVED, LotReceivedPayload),
                "A lot was received into quarantine. 批次已收货入待验。"),
        Message(INSPECTION_NEEDED, "outbound", OUTBOUND_TRANSPORT,
                event_model(INSPECTION_NEEDED, InspectionNeededPayload),
                "A received lot needs incoming inspection. 已收货批次需要来料检验。"),
        Message(STATUS_CHANGED, "outbound", OUTBOUND_TRANSPORT, event_model(STATUS_CHANGED, LotStatusChangedPayload),
                "A lot's QC status changed (signed). 批次质量状态已变更（已签名）。"),
    ]
    out += picking_messages()
    out += stock_messages()
    return out


# --- material preparation and picking (inventory.allocation, inventory.picking, inventory.port) -----

RequestStatusValue = Literal["open", "partial", "allocated", "picked", "cancelled"]
TaskStatusValue = Literal["open", "done", "cancelled"]


class PickTaskPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: StrictInt = Field(description="Pick task id. 拣货任务号。")
    lot: str = Field(max_length=40, description="Lot to pick. 批号。")
    container: str = Field(max_length=60, description="Container reserved (label code). 预留的容器编码。")
    from_location: str = Field(max_length=40, description="Where the container is. 容器所在库位。")
    quantity: str = Field(pattern=DECIMAL_PATTERN, description="Quantity reserved, in the request's unit. 预留数量。",
                          json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    status: TaskStatusValue = Field(description="open, done or cancelled. 待拣、已拣、已取消。")
    picked_quantity: str = Field(pattern=DECIMAL_PATTERN, description="Quantity picked. 已拣数量。",
                                 json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    picked_container: str | None = Field(max_length=60, description=(
        "Container that travelled (the new one after a split); null until picked. "
        "实际送出的容器（拆分后为新容器）；拣货前为空。"))


class MaterialRequestPayload(BaseModel):
    """A material request (INTERFACES.md exchange 1) as the ordering system sees it."""

    model_config = ConfigDict(extra="forbid")

    request_id: StrictInt = Field(description="Material request id. 备料需求号。")
    order_ref: str = Field(max_length=40, description="Production order number. 生产订单号。")
    source_system: str = Field(max_length=40, description="System the request came from. 来源系统。")
    material: str = Field(max_length=40, description="Material code. 物料编码。")
    lot: str | None = Field(max_length=40, description="Requested lot, if one was. 指定批号。")
    quantity: str = Field(pattern=DECIMAL_PATTERN, description="Quantity needed. 需求数量。",
                          json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    unit: str = Field(max_length=40, description="Unit code: the material's base unit. 计量单位（物料基本单位）。")
    need_by: str = Field(pattern=DATE_PATTERN, description="Need-by date. 需求日期。")
    to_location: str | None = Field(max_length=40, description="Delivery location. 送达库位。")
    status: RequestStatusValue = Field(description=(
        "open (nothing allocated), partial, allocated, picked or cancelled. "
        "未分配、部分分配、已分配、已拣、已取消。"))
    allocated_quantity: str = Field(pattern=DECIMAL_PATTERN, description=(
        "Reserved by open pick tasks plus picked. 已分配数量（预留加已拣）。"),
        json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    picked_quantity: str = Field(pattern=DECIMAL_PATTERN, description="Picked. 已拣数量。",
                                 json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    tasks: list[PickTaskPayload] = Field(description="Its pick tasks, oldest first. 拣货任务。")


class MaterialRequestChangedPayload(MaterialRequestPayload):
    reason: str = Field(description="Why it changed. 变更原因。")


class PickConfirmedPayload(PickTaskPayload):
    request_id: StrictInt = Field(description="Material request id. 备料需求号。")
    order_ref: str = Field(max_length=40, description="Production order number. 生产订单号。")
    source_system: str = Field(max_length=40, description="System the request came from. 来源系统。")
    material: str = Field(max_length=40, description="Material code. 物料编码。")
    unit: str = Field(max_length=40, description="Unit code: the material's base unit. 计量单位（物料基本单位）。")
    to_location: str = Field(max_length=40, description="Where the material was delivered. 送达库位。")
    split: StrictBool = Field(description="Whether the container was split into a new one. 是否拆分为新容器。")
    short: StrictBool = Field(description="Less than the task asked for was picked. 是否少拣。")
    reason: str = Field(description="Reason for a short pick. 少拣原因。")
    request_status: RequestStatusValue = Field(description="The request's status after the pick. 拣货后需求状态。")
    picked_by: str = Field(max_length=150, description="User id of the picker. 拣货人用户名。")
    picked_at: str = Field(description="When, UTC ISO 8601. 拣货时间（UTC，ISO 8601）。")


class MaterialConsumedPayload(BaseModel):
    """Exchange 2 (WMS → MES): material charged to an order left stock."""

    model_config = ConfigDict(extra="forbid")

    order_ref: str = Field(max_length=40, description="Production order number. 生产订单号。")
    material: str = Field(max_length=40, description="Material code. 物料编码。")
    lot: str = Field(max_length=40, description="Batchline lot number. 批号。")
    container: str = Field(max_length=60, description="Container code. 容器编码。")
    from_location: str = Field(max_length=40, description="Location it was issued from. 发料库位。")
    quantity: str = Field(pattern=DECIMAL_PATTERN, description="Quantity consumed. 投料数量。",
                          json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    unit: str = Field(max_length=40, description="Unit code: the material's base unit. 计量单位（物料基本单位）。")
    movement_id: StrictInt = Field(description="The ISSUE ledger line. 发料台账行号。")
    operator: str = Field(max_length=150, description="User id of who confirmed it. 操作人用户名。")
    consumed_at: str = Field(description="When, UTC ISO 8601. 投料时间（UTC，ISO 8601）。")


def picking_messages() -> list[Message]:
    from batchline.api.warehouse_picking import MaterialRequestIn
    from batchline.inventory.allocation import ALLOCATED, CANCELLED, UPDATED
    from batchline.inventory.picking import PICK_CONFIRMED
    from batchline.inventory.port import CONSUMED

    return [
        Message("mes.material-request", "inbound", "REST POST /api/v1/inventory/material-requests (Idempotency-Key)",
                MaterialRequestIn, "Exchange 1: an order's material requirement; allocated FEFO at once. "
                "生产备料需求：立即按近效期先出分配。"),
        Message(ALLOCATED, "outbound", OUTBOUND_TRANSPORT, event_model(ALLOCATED, MaterialRequestPayload),
                "A material request was created or allocated again: status, quantities, pick tasks. "
                "备料需求已创建或重新分配：状态、数量、拣货任务。"),
        Message(CANCELLED, "outbound", OUTBOUND_TRANSPORT, event_model(CANCELLED, MaterialRequestChangedPayload),
                "A material request was cancelled; its reservations were released. 备料需求已取消，预留已释放。"),
        Message(UPDATED, "outbound", OUTBOUND_TRANSPORT, event_model(UPDATED, MaterialRequestChangedPayload),
                "A material request lost allocations (a lot is no longer usable). "
                "备料需求的分配减少（批次不再可用）。"),
        Message(PICK_CONFIRMED, "outbound", OUTBOUND_TRANSPORT, event_model(PICK_CONFIRMED, PickConfirmedPayload),
                "A pick was confirmed by scan: which container went where. 已扫描确认拣货：哪个容器送至何处。"),
        Message(CONSUMED, "outbound", OUTBOUND_TRANSPORT, event_model(CONSUMED, MaterialConsumedPayload),
                "Exchange 2: material charged to an order left stock. 产线投料：物料已发出库存。"),
    ]


# --- stock alerts and cycle counts (inventory.alerts, inventory.counting) --------------------------

AlertKindValue = Literal["safety_stock", "expiry", "expired", "retest", "slow_moving"]


class AlertDetails(BaseModel):
    """The figures behind an alert; which appear depends on the kind. 预警依据的数据，随预警类型而定。"""

    model_config = ConfigDict(extra="forbid")

    quantity: str = Field(pattern=DECIMAL_PATTERN, description=(
        "Stock concerned: the lot's, or the material's usable and quarantine stock for safety stock. "
        "相关库存：批次库存；安全库存预警时为物料的合格及待验库存。"),
        json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    unit: str = Field(max_length=40, description="Unit code: the material's base unit. 计量单位（物料基本单位）。")
    safety_stock: str | None = Field(default=None, pattern=DECIMAL_PATTERN, description=(
        "The policy's safety stock (safety_stock alerts). 安全库存（安全库存预警）。"),
        json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    expires_on: str | None = Field(default=None, pattern=DATE_PATTERN, description=(
        "Expiry date (expiry, expired). 有效期至（效期预警、已过期）。"))
    retest_on: str | None = Field(default=None, pattern=DATE_PATTERN, description="Retest date (retest). 复验日期。")
    last_movement_at: str | None = Field(default=None, description=(
        "Last movement of the lot, UTC ISO 8601 (slow_moving). 批次最后一次移动时间（呆滞）。"))
    days: StrictInt | None = Field(default=None, description=(
        "Days until the date (negative: past), or days without movement. 距日期天数（负数为已过），或未移动天数。"))


class StockAlertPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_id: StrictInt = Field(description="Alert id. 预警编号。")
    kind: AlertKindValue = Field(description=(
        "safety_stock, expiry (approaching), expired, retest (due soon or now), slow_moving. "
        "低于安全库存、近效期、已过期、待复验、呆滞。"))
    material: str = Field(max_length=40, description="Material code. 物料编码。")
    lot: str | None = Field(max_length=40, description="Lot number; null for safety stock. 批号（安全库存预警为空）。")
    details: AlertDetails = Field(description=(
        "The figures behind the alert; which appear depends on the kind. 预警依据的数据，随预警类型而定。"))
    raised_at: str = Field(description="When it was raised, UTC ISO 8601. 预警产生时间（UTC）。")
    cleared_at: str | None = Field(description="When the condition ended; null while open. 解除时间；未解除为空。")


class CountVariance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    container: str = Field(max_length=60, description="Container code. 容器编码。")
    lot: str = Field(max_length=40, description="Lot number. 批号。")
    material: str = Field(max_length=40, description="Material code. 物料编码。")
    expected: str = Field(pattern=DECIMAL_PATTERN, description="Book quantity when the count was opened. 账面数量。",
                          json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    counted: str = Field(pattern=DECIMAL_PATTERN, description="Counted quantity. 实盘数量。",
                         json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    difference: str = Field(pattern=DECIMAL_PATTERN, description="Counted minus book (gain > 0). 差异（盘盈为正）。",
                            json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    unit: str = Field(max_length=40, description="Unit code: the material's base unit. 计量单位（物料基本单位）。")


class CountApprovedPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: str = Field(max_length=40, description="Cycle count number. 盘点单号。")
    location: str = Field(max_length=40, description="Location counted. 盘点库位。")
    counted_by: str = Field(max_length=150, description="User id of the counter. 盘点人用户名。")
    approved_by: str = Field(max_length=150, description="User id of the approver (signed). 批准人用户名（已签名）。")
    reason: str = Field(description="Reason for the differences. 差异原因。")
    variances: list[CountVariance] = Field(description=(
        "Each difference, posted as a count gain or loss movement. 各项差异（已记盘盈/盘亏移动）。"))


def stock_messages() -> list[Message]:
    from batchline.inventory.alerts import ALERT_CLEARED, ALERT_RAISED
    from batchline.inventory.counting import COUNT_APPROVED

    return [
        Message(ALERT_RAISED, "outbound", OUTBOUND_TRANSPORT, event_model(ALERT_RAISED, StockAlertPayload),
                "A stock alert was raised: safety stock, expiry, retest or slow-moving stock. "
                "产生库存预警：安全库存、效期、复验或呆滞。"),
        Message(ALERT_CLEARED, "outbound", OUTBOUND_TRANSPORT, event_model(ALERT_CLEARED, StockAlertPayload),
                "A stock alert was cleared: its condition ended. 库存预警已解除。"),
        Message(COUNT_APPROVED, "outbound", OUTBOUND_TRANSPORT, event_model(COUNT_APPROVED, CountApprovedPayload),
                "A cycle count was approved (signed); its differences were posted. "
                "循环盘点已批准（已签名），差异已过账。"),
    ]
