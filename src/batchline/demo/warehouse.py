"""The demo plant's warehouse: purchase orders, received lots, QA decisions, stock in its places, a
material request with open pick tasks and stock alerts, so that the Warehouse workspace shows a
living store from the first sign-in.

Written the way the plant writes it, through the services: the ERP (the SAP-PRD system account)
sends the purchase orders; the warehouse clerk receives the deliveries into quarantine; QA releases
or rejects the lots with an electronic signature; the clerk puts the containers away; production
asks for material for an order through the warehouse port (exchange 1), which allocates it FEFO
into pick tasks; the supervisor sets a safety stock, and the alerts are evaluated once.

All dates are relative to the plant's day (`inventory.usability.today()`), so the picture stays the
same whenever the demo is loaded: one lot expires within 40 days (approaching-expiry alert), one is
due for retest in 20 days (retest alert), lactose is below its safety stock, one lot waits in
quarantine and one was rejected.

Idempotent: when the first demo purchase order exists, the warehouse was loaded and nothing is
written. Called by `batchline.demo.plant.load()` inside its transaction (this module must not import
`plant`: plant imports it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from batchline.compliance.signatures import SignatureRequest
from batchline.identity.models import User
from batchline.inventory import alerts, lots, putaway
from batchline.inventory import services as purchasing
from batchline.inventory.choices import LotStatus
from batchline.inventory.models import PurchaseOrder, PurchaseOrderLine
from batchline.inventory.port import warehouse
from batchline.inventory.receiving import Receipt, receive_goods
from batchline.inventory.usability import today

SOURCE_SYSTEM = "SAP-PRD"  # the ERP; plant.ERP_SYSTEM (not imported: plant imports this module)
RECEIVING_DOCK = "WH01-RCV-01"


@dataclass(frozen=True)
class OrderLine:
    line_no: int
    material: str  # as the ERP sends it: its own code where the code maps know one, else ours
    quantity: str
    unit: str  # ERP unit code (KGM, PCE), translated through the code maps
    expected_in: int  # days from today (negative: already due)


@dataclass(frozen=True)
class DemoOrder:
    po_number: str
    supplier: str  # as the ERP sends it
    lines: tuple[OrderLine, ...]


# SAP-style PO numbers; V100001 and the 18-digit material numbers are mapped in plant.CODE_MAPS.
PURCHASE_ORDERS: tuple[DemoOrder, ...] = (
    DemoOrder("4500012001", "V100001", (  # SUP-0001 Shandong Luhong API
        OrderLine(1, "000000000010000001", "200", "KGM", -7),  # RM-API-0001 paracetamol
        OrderLine(2, "RM-API-0003", "100", "KGM", -7),  # ibuprofen
    )),
    DemoOrder("4500012002", "SUP-0002", (  # Hebei Hengrun
        OrderLine(1, "000000000010000002", "150", "KGM", -5),  # RM-API-0002 metformin HCl
        OrderLine(2, "RM-API-0004", "20", "KGM", -5),  # loratadine
        OrderLine(3, "RM-API-0005", "30", "KGM", -2),  # pancreatin, 2–8 °C
    )),
    DemoOrder("4500012003", "SUP-0003", (  # Shanghai Chengfu excipients
        OrderLine(1, "000000000010000101", "100", "KGM", -4),  # RM-EXC-0101 MCC PH102
        OrderLine(2, "RM-EXC-0102", "200", "KGM", -4),  # lactose monohydrate (half delivered so far)
    )),
    DemoOrder("4500012004", "SUP-0004", (  # Huzhou Ruibang
        OrderLine(1, "000000000010000104", "30", "KGM", -3),  # RM-EXC-0104 magnesium stearate
    )),
    DemoOrder("4500012005", "SUP-0005", (  # Suzhou Mingche packaging
        OrderLine(1, "PM-0201", "112", "KGM", -2),  # PVC/PVDC blister film, 4 rolls of 28 kg
    )),
    DemoOrder("4500012006", "SUP-0006", (  # Kunshan Caiyin: not delivered yet, open on the receiving screen
        OrderLine(1, "PM-0204", "20000", "PCE", 5),  # folding boxes
    )),
)


@dataclass(frozen=True)
class DemoLot:
    """One delivery of one PO line, what QA decided and where it was put away."""

    po_number: str
    line_no: int
    supplier_lot: str  # the supplier's prefix; the manufacture date (yymmdd) completes it
    containers: int
    each: str  # quantity per container, in `unit`
    unit: str
    made_days_ago: int
    decision: str | None  # released, rejected, or None: stays in quarantine
    put_away_to: str
    expires_in: int | None = None  # days from today; None: manufacture date + shelf life
    received_at: str = RECEIVING_DOCK


RELEASE_REASON = ("Incoming inspection passed: identity, assay and certificate of analysis conform to the "
                  "specification.")
REJECT_REASON = ("Incoming inspection: assay 96.2 % is below the specification (98.0–102.0 %); "
                 "out-of-specification result confirmed.")

LOTS: tuple[DemoLot, ...] = (
    # Paracetamol in two deliveries: the older lot expires first, so FEFO picks it first.
    DemoLot("4500012001", 1, "LH-APAP-", 2, "25", "kg", 400, LotStatus.RELEASED, "WH01-A-01-01"),
    DemoLot("4500012001", 1, "LH-APAP-", 6, "25", "kg", 45, LotStatus.RELEASED, "WH01-A-01-01"),
    DemoLot("4500012001", 2, "LH-IBU-", 4, "25", "kg", 60, LotStatus.REJECTED, "WH01-REJ-01"),
    # Metformin made 710 days ago, retest interval 730 days: due for retest in 20 days.
    DemoLot("4500012002", 1, "HR-MET-", 6, "25", "kg", 710, LotStatus.RELEASED, "WH01-A-01-02"),
    DemoLot("4500012002", 2, "HR-LOR-", 2, "10", "kg", 30, None, "WH01-QUA-01"),
    # Cool material goes straight into the 2–8 °C quarantine, and after release into the cold room.
    DemoLot("4500012002", 3, "HR-PAN-", 3, "10", "kg", 50, LotStatus.RELEASED, "WH01-C-01-01",
            received_at="WH01-QUA-02"),
    DemoLot("4500012003", 1, "CF-MCC-", 5, "1", "bag", 90, LotStatus.RELEASED, "WH01-A-01-03"),
    DemoLot("4500012003", 2, "CF-LAC-", 4, "25", "kg", 75, LotStatus.RELEASED, "WH01-A-01-03"),
    # The supplier's label gives an expiry in 40 days (shorter than our shelf life): expiry alert.
    DemoLot("4500012004", 1, "RB-MGS-", 3, "10", "kg", 320, LotStatus.RELEASED, "WH01-A-01-02",
            expires_in=40),
    DemoLot("4500012005", 1, "MC-PVC-", 4, "1", "roll", 40, LotStatus.RELEASED, "WH01-P-01-01"),
)


@dataclass(frozen=True)
class DemoRequest:
    """Exchange 1: the MES asks for material for a production order (the ERP's order number)."""

    order_ref: str
    material: str
    quantity: str
    unit: str
    to_location: str
    need_by_in: int  # days from today


MATERIAL_REQUEST = DemoRequest("1000101", "RM-API-0001", "60", "kg", "WH01-DSP-01", need_by_in=2)
SAFETY_STOCK = ("RM-EXC-0102", "300", "kg")  # material, safety stock, unit: 100 kg on hand, so an alert


def loaded() -> bool:
    return PurchaseOrder.objects.filter(source_system=SOURCE_SYSTEM,
                                        po_number__in=[o.po_number for o in PURCHASE_ORDERS]).exists()


def load(*, users: dict[str, User], created: Counter[str], password: str) -> None:
    """Load the demo warehouse through the services, unless it is there already (then write nothing).
    Runs inside the caller's transaction; `users` by username, `password` the demo accounts' one."""
    if loaded():
        return
    day = today()
    erp, clerk, qa = users["sap-prd"], users["warehouse"], users["qa"]
    for order in PURCHASE_ORDERS:
        purchasing.register_purchase_order(actor=erp, source_system=SOURCE_SYSTEM, data={
            "po_number": order.po_number, "supplier": order.supplier, "lines": [
                {"line_no": line.line_no, "material": line.material, "quantity": line.quantity, "unit": line.unit,
                 "expected_date": day + timedelta(days=line.expected_in)} for line in order.lines]})
        created["purchase order"] += 1
    for spec in LOTS:
        lot = receive_goods(actor=clerk, receipt=_receipt(spec, day))
        created["lot"] += 1
        if spec.decision is not None:
            lots.change_lot_status(
                actor=qa, lot_id=lot.pk, status=spec.decision,
                reason=RELEASE_REASON if spec.decision == LotStatus.RELEASED else REJECT_REASON,
                signature=SignatureRequest(password=password, meaning=lots.SIGNATURE_MEANING, username=qa.username))
        for container_id in lot.containers.order_by("serial").values_list("pk", flat=True):
            putaway.put_away(actor=clerk, container_id=container_id, location=spec.put_away_to)
    request = MATERIAL_REQUEST
    warehouse().request_material(
        actor=users["supervisor"], order_ref=request.order_ref, material=request.material,
        quantity=request.quantity, unit=request.unit, to_location=request.to_location,
        need_by=day + timedelta(days=request.need_by_in))
    created["material request"] += 1
    material, safety_stock, unit = SAFETY_STOCK
    alerts.set_stock_policy(actor=users["supervisor"], material=material, safety_stock=safety_stock, unit=unit)
    created["stock policy"] += 1
    raised = alerts.evaluate_alerts().raised
    if raised:
        created["stock alert"] += raised


def _receipt(spec: DemoLot, day: date) -> Receipt:
    line = PurchaseOrderLine.objects.get(purchase_order__source_system=SOURCE_SYSTEM,
                                         purchase_order__po_number=spec.po_number, line_no=spec.line_no)
    made = day - timedelta(days=spec.made_days_ago)
    return Receipt(
        purchase_order_line_id=line.pk, location=spec.received_at, containers=spec.containers,
        quantity_per_container=spec.each, unit=spec.unit, supplier_lot=f"{spec.supplier_lot}{made:%y%m%d}",
        manufactured_on=made,
        expires_on=day + timedelta(days=spec.expires_in) if spec.expires_in is not None else None)
