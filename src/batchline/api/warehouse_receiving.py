"""Goods receipt into quarantine, container labels, scans and putaway over the API (issue 4;
WMS-01, WMS-02, WMS-10), under /api/v1/inventory.

Writes go through the inventory services, which check permissions and refuse bad input before
anything is written: a receipt (inventory.receiving), a label print (inventory.labels), a putaway
(inventory.putaway). POSTs that change something take an Idempotency-Key (required for tokens): a
replay returns the first response. Resolving a scan changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field, StrictInt

from batchline.api.auth import caller
from batchline.api.idempotency import respond
from batchline.api.messages import DECIMAL_PATTERN
from batchline.api.schemas import ERRORS, In
from batchline.core.errors import NotFound, ensure
from batchline.identity.authz import authorize
from batchline.inventory import labels, putaway, receiving, scanning
from batchline.inventory.models import Container, Lot, PurchaseOrder, PurchaseOrderLine

router = Router(tags=["warehouse receiving"])

VIEW = "inventory.view"


# --- schemas ----------------------------------------------------------------------------------------

class PurchaseOrderLineOut(Schema):
    id: int = Field(description="Line id, used to receive against it. 行标识，收货时引用。")
    line_no: int = Field(description="Line number. 行号。")
    material: str = Field(description="Material code. 物料编码。")
    material_name_zh: str = Field(description="Material name (Chinese). 物料名称（中文）。")
    material_name_en: str = Field(description="Material name (English). 物料名称（英文）。")
    quantity: str = Field(description="Ordered quantity, in `unit`. 订购数量。")
    received_quantity: str = Field(description="Received so far, in `unit`. 已收数量。")
    open_quantity: str = Field(description="Still to come, in `unit` (never below 0). 未收数量。")
    unit: str = Field(description="Unit code of the quantities. 计量单位。")
    expected_date: date = Field(description="Expected delivery date. 预计到货日期。")
    storage_condition: str = Field(description="Material storage condition. 物料储存条件。")


class PurchaseOrderOut(Schema):
    id: int
    po_number: str = Field(description="PO number. 采购订单号。")
    source_system: str = Field(description="System the PO came from. 来源系统。")
    supplier: str = Field(description="Supplier code. 供应商编码。")
    supplier_name: str = Field(description="Supplier name (Chinese). 供应商名称。")
    status: str = Field(description="open, closed or cancelled. 状态。")
    lines: list[PurchaseOrderLineOut]


class ReceiptIn(In):
    """One delivery of one PO line (WMS-01). 一个采购订单行的一次到货。"""

    purchase_order_line_id: StrictInt = Field(description="The PO line received against. 收货的采购订单行。")
    location: str = Field(max_length=40, description="Receiving or quarantine location code. 收货区或待验区库位编码。")
    containers: StrictInt = Field(description="Number of containers, 1-999. 容器数量。")
    quantity_per_container: str = Field(max_length=40, description="Quantity in each container, decimal string. "
                                                                   "每个容器的数量（十进制字符串）。")
    last_container_quantity: str | None = Field(default=None, max_length=40, description=(
        "Quantity in the last container when it differs. 最后一个容器的数量（如不同）。"))
    unit: str = Field(max_length=40, description="Unit code of the quantities. 数量的计量单位。")
    supplier_lot: str = Field(max_length=200, description="Supplier's lot number. 供应商批号。")
    manufactured_on: date | None = Field(default=None, description="Manufacture date. 生产日期。")
    expires_on: date | None = Field(default=None, description=(
        "Expiry date; derived from the manufacture date and the shelf life when omitted. "
        "有效期至；未填时按生产日期和保质期推算。"))
    retest_on: date | None = Field(default=None, description="Retest date. 复验日期。")
    note: str = Field(default="", max_length=2000, description="Remark for the audit trail. 备注。")


class ContainerOut(Schema):
    id: int
    code: str = Field(description="Container code, printed on the label. 容器编码（标签上）。")
    serial: int = Field(description="Container number within the lot. 批内容器序号。")
    quantity: str = Field(description="Quantity it holds now, in `unit`. 当前数量。")
    unit: str = Field(description="The material's base unit. 物料基本单位。")
    locations: list[str] = Field(description="Where it has stock. 所在库位。")
    labels_printed: int = Field(description="Labels printed so far. 已打印标签数。")


class LotOut(Schema):
    id: int
    number: str = Field(description="Batchline lot number. 批号。")
    material: str = Field(description="Material code. 物料编码。")
    status: str = Field(description="Lot status: quarantine after receipt. 批次状态：收货后为待验。")
    supplier: str | None
    supplier_lot: str
    manufactured_on: date | None
    expires_on: date | None
    retest_on: date | None
    inspection_required: bool = Field(description="Incoming inspection needed. 需要来料检验。")
    purchase_order: str | None
    containers: list[ContainerOut]


class LabelOut(Schema):
    container: str = Field(description="Container code. 容器编码。")
    gs1: bool = Field(description="Whether the symbol is a GS1 DataMatrix (else a plain one of the code). "
                                  "是否为 GS1 DataMatrix。")
    element_string: str = Field(description=(
        "GS1 element string without the leading FNC1; the GS character (\\u001d) separates variable fields. "
        "GS1 元素串（不含起始 FNC1），可变长字段之间为 GS 字符。"))
    hri: str = Field(description="Human-readable form: (01)...(10).... 人可读形式。")
    not_encodable: str = Field(description="Why the container has no GS1 string, if so. 无法编码为 GS1 的原因。")
    material: str
    material_name_zh: str
    material_name_en: str
    lot: str
    supplier_lot: str
    serial: int
    containers_in_lot: int
    quantity: str = Field(pattern=DECIMAL_PATTERN)
    unit: str
    manufactured_on: date | None
    expires_on: date | None
    retest_on: date | None
    status: str
    labels_printed: int
    svg: str = Field(description="The DataMatrix as SVG. 二维码（SVG）。")
    zpl: str = Field(description="ZPL II for a 100 × 70 mm label at 203 dpi. Zebra 打印机指令。")


class LabelPrintIn(In):
    containers: list[str] = Field(min_length=1, max_length=999, description="Container codes. 容器编码。")
    reason: str = Field(default="", max_length=2000, description=(
        "Required when a label of one of them was printed before (reprint). 补打标签时必填原因。"))


class LabelPrintOut(Schema):
    container: str
    labels_printed: int


class ScanIn(In):
    text: str = Field(min_length=1, max_length=500, description=(
        "What the scanner sent: a GS1 element string (GS as \\u001d, AIM prefix allowed), (AI) form, or a code. "
        "扫描内容。"))


class ElementOut(Schema):
    ai: str
    value: str


class ScanOut(Schema):
    kind: Literal["container", "location", "gs1"] = Field(description=(
        "container (ours), location, or gs1 (a foreign GS1 barcode). 容器、库位或外来 GS1 条码。"))
    container: str | None
    location: str | None
    lot: str = Field(description="AI 10: our lot, or the supplier's on a supplier label. 批号。")
    serial: str
    gtin: str
    material: str | None = Field(description="Material identified by GTIN or code, if approved. 识别出的物料。")
    expires_on: date | None
    manufactured_on: date | None
    quantity: str | None
    unit: str
    hri: str
    elements: list[ElementOut]


class SuggestionOut(Schema):
    location: str
    name_zh: str
    name_en: str
    location_type: str
    storage_condition: str
    preferred: bool = Field(description="The kind the lot's status asks for first. 首选库位类型。")
    holds_material: bool = Field(description="Already holds this material. 已存放同一物料。")
    containers_here: int = Field(description="Containers with stock there. 库位上的容器数。")


class SuggestionsOut(Schema):
    container: str
    lot_status: str
    storage_condition: str
    current_locations: list[str]
    suggestions: list[SuggestionOut]


class PutawayIn(In):
    container: str = Field(max_length=500, description="Container code or label scan. 容器编码或标签扫描内容。")
    location: str = Field(max_length=500, description="Location code or label scan. 库位编码或扫描内容。")
    reference: str = Field(default="", max_length=60)


class MovementOut(Schema):
    id: int
    movement_type: str
    from_location: str | None
    to_location: str | None
    quantity: str
    unit: str


class PutawayOut(Schema):
    container: str
    location: str
    movements: list[MovementOut]


# --- helpers -----------------------------------------------------------------------------------------

def _decimal(value: Any) -> str:
    return labels.decimal_text(value)


def line_out(line: PurchaseOrderLine) -> dict[str, Any]:
    return {"id": line.pk, "line_no": line.line_no, "material": line.material.code,
            "material_name_zh": line.material.name_zh, "material_name_en": line.material.name_en,
            "quantity": _decimal(line.quantity), "received_quantity": _decimal(line.received_quantity),
            "open_quantity": _decimal(receiving.open_quantity(line)), "unit": line.unit.code,
            "expected_date": line.expected_date, "storage_condition": line.material.storage_condition}


def order_out(order: PurchaseOrder) -> dict[str, Any]:
    return {"id": order.pk, "po_number": order.po_number, "source_system": order.source_system,
            "supplier": order.supplier.code, "supplier_name": order.supplier.name_zh, "status": order.status,
            "lines": [line_out(line) for line in order.lines.all()]}


def lot_out(lot: Lot) -> dict[str, Any]:
    containers = list(lot.containers.select_related("lot__material__base_unit").order_by("serial"))
    line = lot.purchase_order_line
    return {
        "id": lot.pk, "number": lot.number, "material": lot.material.code, "status": lot.status,
        "supplier": lot.supplier.code if lot.supplier else None, "supplier_lot": lot.supplier_lot,
        "manufactured_on": lot.manufactured_on, "expires_on": lot.expires_on, "retest_on": lot.retest_on,
        "inspection_required": lot.inspection_required,
        "purchase_order": f"{line.purchase_order.po_number}/{line.line_no}" if line else None,
        "containers": [container_out(stock) for stock in receiving.container_stock(containers)],
    }


def container_out(stock: receiving.ContainerStock) -> dict[str, Any]:
    return {"id": stock.container.pk, "code": stock.container.code, "serial": stock.container.serial,
            "quantity": _decimal(stock.quantity), "unit": stock.unit, "locations": list(stock.locations),
            "labels_printed": stock.container.labels_printed}


def label_out(label: labels.Label) -> dict[str, Any]:
    return {
        "container": label.container_code, "gs1": bool(label.elements), "element_string": label.element_string,
        "hri": label.hri, "not_encodable": label.not_encodable, "material": label.material_code,
        "material_name_zh": label.material_name_zh, "material_name_en": label.material_name_en, "lot": label.lot,
        "supplier_lot": label.supplier_lot, "serial": label.serial, "containers_in_lot": label.containers_in_lot,
        "quantity": label.quantity_text, "unit": label.unit, "manufactured_on": label.manufactured_on,
        "expires_on": label.expires_on, "retest_on": label.retest_on, "status": label.status,
        "labels_printed": label.labels_printed, "svg": labels.symbol_svg(label), "zpl": labels.zpl(label),
    }


def scan_out(scan: scanning.Scan) -> dict[str, Any]:
    return {
        "kind": scan.kind, "container": scan.container.code if scan.container else None,
        "location": scan.location.code if scan.location else None, "lot": scan.lot, "serial": scan.serial,
        "gtin": scan.gtin, "material": scan.material.code if scan.material else None,
        "expires_on": scan.expires_on, "manufactured_on": scan.manufactured_on,
        "quantity": _decimal(scan.quantity) if scan.quantity is not None else None, "unit": scan.unit,
        "hri": scan.hri, "elements": [{"ai": ai, "value": value} for ai, value in scan.elements],
    }


def suggestions_out(container: Container) -> dict[str, Any]:
    lot = container.lot
    return {
        "container": container.code, "lot_status": lot.status, "storage_condition": lot.material.storage_condition,
        "current_locations": [loc.code for loc in putaway.current_locations(container)],
        "suggestions": [{"location": s.location.code, "name_zh": s.location.name_zh, "name_en": s.location.name_en,
                         "location_type": s.location.location_type,
                         "storage_condition": s.location.storage_condition, "preferred": s.preferred,
                         "holds_material": s.holds_material, "containers_here": s.containers_here}
                        for s in putaway.suggestions(container)],
    }


# --- endpoints ---------------------------------------------------------------------------------------

@router.get("/purchase-orders", response={200: list[PurchaseOrderOut], **ERRORS})
def inventory_purchase_orders(request: HttpRequest) -> list[dict[str, Any]]:
    """Open purchase orders (expected receipts) with their lines, the earliest expected first."""
    authorize(caller(request), VIEW)
    return [order_out(order) for order in receiving.open_purchase_orders()]


@router.get("/purchase-orders/{int:order_id}", response={200: PurchaseOrderOut, **ERRORS})
def inventory_purchase_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    authorize(caller(request), VIEW)
    order = (PurchaseOrder.objects.select_related("supplier").prefetch_related("lines__material", "lines__unit")
             .filter(pk=order_id).first())
    ensure(order is not None, NotFound(field="order_id"))
    assert order is not None
    return order_out(order)


@router.post("/receipts", response={201: LotOut, **ERRORS})
def inventory_receive(request: HttpRequest, payload: ReceiptIn) -> HttpResponse:
    """Receive one delivery of one PO line: a lot in quarantine with its containers at the receiving
    location (WMS-01). Materials that need incoming inspection raise the inspection need."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        lot = receiving.receive_goods(actor=actor, receipt=receiving.Receipt(**payload.model_dump()))
        return 201, LotOut.model_validate(lot_out(lot)).model_dump(mode="json")

    return respond(request, action)


def _container(code: str) -> Container:
    return receiving.container_by_code(code)


@router.get("/containers/{code}/label", response={200: LabelOut, **ERRORS})
def inventory_container_label(request: HttpRequest, code: str,
                              format: Literal["json", "svg", "zpl"] = "json") -> Any:
    """The container's label: GS1 element string and text (json), the DataMatrix (svg) or ZPL (zpl).
    Reading a label records nothing; printing is POST .../labels/print."""
    authorize(caller(request), VIEW)
    label = labels.label_for(_container(code))
    if format == "svg":
        return HttpResponse(labels.symbol_svg(label), content_type="image/svg+xml")
    if format == "zpl":
        return HttpResponse(labels.zpl(label), content_type="text/plain; charset=utf-8")
    return label_out(label)


@router.post("/labels/print", response={200: list[LabelPrintOut], **ERRORS})
def inventory_print_labels(request: HttpRequest, payload: LabelPrintIn) -> HttpResponse:
    """Record that these containers' labels were printed; a reprint needs a reason (audited)."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        ids = [_container(code).pk for code in payload.containers]
        printed = labels.print_labels(actor=actor, container_ids=ids, reason=payload.reason)
        return 200, [{"container": c.code, "labels_printed": c.labels_printed} for c in printed]

    return respond(request, action)


@router.post("/scans", response={200: ScanOut, **ERRORS})
def inventory_resolve_scan(request: HttpRequest, payload: ScanIn) -> dict[str, Any]:
    """What a scanned string is: one of our containers, a location, or a foreign GS1 barcode (WMS-10).
    Changes nothing (no Idempotency-Key needed)."""
    authorize(caller(request), VIEW)
    return scan_out(scanning.resolve_scan(payload.text, field="text"))


@router.get("/containers/{code}/putaway-suggestions", response={200: SuggestionsOut, **ERRORS})
def inventory_putaway_suggestions(request: HttpRequest, code: str) -> dict[str, Any]:
    """Locations that fit the container (storage condition, lot status), best first (WMS-02)."""
    authorize(caller(request), VIEW)
    return suggestions_out(_container(code))


@router.post("/putaways", response={200: PutawayOut, **ERRORS})
def inventory_put_away(request: HttpRequest, payload: PutawayIn) -> HttpResponse:
    """Move the container's whole stock to the location; a location that does not fit is refused
    with the reason (409 location_not_usable) and nothing moves (WMS-02)."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        authorize(actor, "inventory.move")
        container = scanning.container_from_scan(payload.container, field="container")
        movements = putaway.put_away(actor=actor, container_id=container.pk, location=payload.location,
                                     reference=payload.reference)
        return 200, {"container": container.code, "location": movements[0].to_location.code,  # type: ignore[union-attr]
                     "movements": [{"id": m.pk, "movement_type": m.movement_type,
                                    "from_location": m.from_location.code if m.from_location else None,
                                    "to_location": m.to_location.code if m.to_location else None,
                                    "quantity": _decimal(m.quantity), "unit": container.lot.material.base_unit.code}
                                   for m in movements]}

    return respond(request, action)
