"""Goods receipt into quarantine, container labels, putaway (issue 4; WMS-01, WMS-02, WMS-10).

Screens for the warehouse handheld (phone-sized, big touch targets, the scan field focused):

* receiving start (web:warehouse_receiving): open purchase orders, found by scanning or typing the PO
  number; a PO's lines with ordered and received quantities;
* the receipt form of a PO line: a supplier's GS1 label can be scanned first to fill in the supplier
  lot and the dates; a double tap on "Receive" receives once (a one-time form token);
* the result: the new lot in quarantine, its containers, printing their labels (recorded; a reprint
  asks for a reason), putaway of each;
* putaway (web:warehouse_putaway): scan the container, see where it fits, scan the location: done,
  or refused with the reason.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from batchline.core.canonical import sha256_hex
from batchline.core.errors import DomainError, InvalidInput
from batchline.core.idempotency import run_once
from batchline.identity.authz import has_permission
from batchline.inventory import labels, putaway, receiving, scanning
from batchline.inventory.models import Container, Lot, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from batchline.masterdata.models import Unit
from batchline.web.views._guards import acting_user, requires

RECEIPT_FIELDS = ("supplier_lot", "manufactured_on", "expires_on", "retest_on", "containers",
                  "quantity_per_container", "last_container_quantity", "unit", "location", "note")


# --- purchase orders ---------------------------------------------------------------------------------

@requires("inventory.view")
def receiving_start(request: HttpRequest) -> HttpResponse:
    """Open purchase orders; a scanned or typed PO number opens that order directly."""
    query = request.GET.get("q", "").strip()
    orders = receiving.open_purchase_orders()
    if query:
        orders = orders.filter(po_number__icontains=query)
        exact = [order for order in orders if order.po_number.lower() == query.lower()]
        if len(exact) == 1:
            return redirect(reverse("web:warehouse_receiving_order", args=[exact[0].pk]))
    return render(request, "web/warehouse/receiving/orders.html", {
        "orders": orders[:100], "query": query,
        "can_receive": has_permission(request.user, "inventory.receive"),
        "can_move": has_permission(request.user, "inventory.move"),
    })


@requires("inventory.view")
def receiving_order(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_object_or_404(PurchaseOrder.objects.select_related("supplier"), pk=order_id)
    lines = list(order.lines.select_related("material", "unit").order_by("line_no"))
    lots = (Lot.objects.filter(purchase_order_line__purchase_order=order).select_related("material")
            .order_by("-received_at"))
    return render(request, "web/warehouse/receiving/order.html", {
        "order": order, "lines": [(line, receiving.open_quantity(line)) for line in lines], "lots": lots,
        "is_open": order.status == PurchaseOrderStatus.OPEN,
        "can_receive": has_permission(request.user, "inventory.receive"),
    })


# --- the receipt -------------------------------------------------------------------------------------

def _line(line_id: int) -> PurchaseOrderLine:
    return get_object_or_404(PurchaseOrderLine.objects.select_related(
        "purchase_order__supplier", "material__base_unit", "unit"), pk=line_id)


def _receive_page(request: HttpRequest, line: PurchaseOrderLine, values: dict[str, Any], *,
                  error: DomainError | None = None, scan_error: DomainError | None = None,
                  scanned: scanning.Scan | None = None, status: int = 200) -> HttpResponse:
    units = {line.unit.code, line.material.base_unit.code}
    return render(request, "web/warehouse/receiving/receive.html", {
        "line": line, "order": line.purchase_order, "open_quantity": receiving.open_quantity(line),
        "values": values, "error": error, "scan_error": scan_error, "scanned": scanned,
        "error_field": error.field if error else "",
        "locations": receiving.receiving_locations(),
        "units": list(Unit.objects.filter(code__in=units).order_by("code")),
        "token": values.get("token") or uuid.uuid4().hex,
    }, status=status)


def _defaults(line: PurchaseOrderLine) -> dict[str, Any]:
    locations = receiving.receiving_locations()
    return {"containers": "1", "unit": line.unit.code, "location": locations[0].code if locations else ""}


@requires("inventory.receive")
def receive_line(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _line(line_id)
    if request.method != "POST":
        return _receive_page(request, line, _defaults(line))
    values = {name: request.POST.get(name, "").strip() for name in (*RECEIPT_FIELDS, "token")}
    if request.POST.get("action") == "scan":
        return _read_supplier_label(request, line)
    try:
        receipt = _receipt(line, values)
        lot_id = _receive_once(request, line, values["token"], receipt)
    except DomainError as error:
        return _receive_page(request, line, values, error=error, status=error.http_status)
    return redirect(reverse("web:warehouse_receipt", args=[lot_id]))


def _read_supplier_label(request: HttpRequest, line: PurchaseOrderLine) -> HttpResponse:
    """Fill the receipt form from a scanned supplier label: lot, expiry, manufacture date."""
    values = _defaults(line)
    text = request.POST.get("scan", "")
    try:
        scan = scanning.resolve_scan(text, field="scan")
        if scan.kind != "gs1":
            raise InvalidInput(_("This is {what}, not a supplier's label.").format(what=scan.describe()),
                               field="scan", code="not_a_supplier_label")
    except DomainError as error:
        values["scan"] = text
        return _receive_page(request, line, values, scan_error=error, status=error.http_status)
    if scan.material is not None and scan.material.pk != line.material_id:
        mismatch = InvalidInput(_("The label's GTIN belongs to material {label}, but this line is for {line}.").format(
            label=scan.material.code, line=line.material.code), field="scan", code="label_material_mismatch")
        return _receive_page(request, line, values, scan_error=mismatch, scanned=scan, status=mismatch.http_status)
    values.update({k: v for k, v in {
        "supplier_lot": scan.lot, "expires_on": scan.expires_on.isoformat() if scan.expires_on else "",
        "manufactured_on": scan.manufactured_on.isoformat() if scan.manufactured_on else "",
    }.items() if v})
    if scan.quantity is not None and scan.unit in {line.unit.code, line.material.base_unit.code}:
        values.update(quantity_per_container=labels.decimal_text(scan.quantity), unit=scan.unit)
    return _receive_page(request, line, values, scanned=scan)


def _date(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("Expected a date, e.g. 2026-01-31."), field=field, code="not_a_date") from None


def _receipt(line: PurchaseOrderLine, values: dict[str, Any]) -> receiving.Receipt:
    count = values["containers"]
    if not count.isdigit():
        raise InvalidInput(_("The number of containers must be a whole number from 1 to {max}.").format(
            max=receiving.MAX_CONTAINERS), field="containers")
    return receiving.Receipt(
        purchase_order_line_id=line.pk, location=values["location"], containers=int(count),
        quantity_per_container=values["quantity_per_container"], unit=values["unit"],
        supplier_lot=values["supplier_lot"], manufactured_on=_date(values["manufactured_on"], "manufactured_on"),
        expires_on=_date(values["expires_on"], "expires_on"), retest_on=_date(values["retest_on"], "retest_on"),
        last_container_quantity=values["last_container_quantity"] or None, note=values["note"])


def _receive_once(request: HttpRequest, line: PurchaseOrderLine, token: str, receipt: receiving.Receipt) -> int:
    """A double tap (or a resent form) receives once: the form's one-time token is an idempotency key."""
    user = acting_user(request)

    def action() -> tuple[int, Any]:
        lot = receiving.receive_goods(actor=user, receipt=receipt)
        return 201, {"lot_id": lot.pk}

    if not token:
        return int(action()[1]["lot_id"])
    _status, body = run_once(source=user.username, key=f"web-receipt:{token}"[:200],
                             endpoint=f"web receive line {line.pk}",
                             request_hash=sha256_hex(f"web receive line {line.pk}"), action=action)
    return int(body["lot_id"])


@requires("inventory.view")
def receipt_result(request: HttpRequest, lot_id: int) -> HttpResponse:
    lot = get_object_or_404(Lot.objects.select_related("material__base_unit", "supplier",
                                                       "purchase_order_line__purchase_order"), pk=lot_id)
    containers = list(lot.containers.select_related("lot__material__base_unit").order_by("serial"))
    return render(request, "web/warehouse/receiving/result.html", {
        "lot": lot, "line": lot.purchase_order_line, "stock": receiving.container_stock(containers),
        "can_receive": has_permission(request.user, "inventory.receive"),
        "can_move": has_permission(request.user, "inventory.move"),
        "any_printed": any(c.labels_printed for c in containers),
    })


# --- labels ------------------------------------------------------------------------------------------

def _label_containers(request: HttpRequest, lot: Lot) -> list[Container]:
    wanted = request.POST.getlist("container") or request.GET.getlist("container")
    containers = lot.containers.order_by("serial")
    if wanted:
        containers = containers.filter(pk__in=[int(pk) for pk in wanted if pk.isdigit()])
    return list(containers)


def _labels_page(request: HttpRequest, lot: Lot, containers: list[Container], *, printing: bool,
                 error: DomainError | None = None, reason: str = "") -> HttpResponse:
    sheet = [labels.label_for(container) for container in containers]
    return render(request, "web/warehouse/receiving/labels.html", {
        "lot": lot, "labels": [(label, labels.symbol_svg(label)) for label in sheet], "printing": printing,
        "reprint": any(label.labels_printed for label in sheet) if not printing else False,
        "error": error, "reason": reason, "selected": [c.pk for c in containers],
        "can_print": has_permission(request.user, "inventory.receive"),
    }, status=error.http_status if error else 200)


@requires("inventory.view")
def label_sheet(request: HttpRequest, lot_id: int) -> HttpResponse:
    """The labels as they will print (a preview: printing from here is not recorded, so the print
    stylesheet hides them until they are printed with the Print button)."""
    lot = get_object_or_404(Lot, pk=lot_id)
    return _labels_page(request, lot, _label_containers(request, lot), printing=False)


@requires("inventory.receive")
@require_POST
def print_label_sheet(request: HttpRequest, lot_id: int) -> HttpResponse:
    """Record the print (a reprint needs a reason), then hand the labels to the printer: the browser's
    print dialog opens on the label page, or the ZPL file downloads for a Zebra printer."""
    lot = get_object_or_404(Lot, pk=lot_id)
    containers = _label_containers(request, lot)
    reason = request.POST.get("reason", "")
    try:
        labels.print_labels(actor=acting_user(request), container_ids=[c.pk for c in containers], reason=reason)
    except DomainError as error:
        return _labels_page(request, lot, containers, printing=False, error=error, reason=reason)
    if request.POST.get("format") == "zpl":
        body = "".join(labels.zpl(labels.label_for(container)) for container in containers)
        response = HttpResponse(body, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{lot.number}-labels.zpl"'
        return response
    containers = [Container.objects.get(pk=c.pk) for c in containers]
    return _labels_page(request, lot, containers, printing=True)


# --- putaway -----------------------------------------------------------------------------------------

def _putaway_page(request: HttpRequest, *, container: Container | None = None, error: DomainError | None = None,
                  scan: str = "", location: str = "", status: int = 200) -> HttpResponse:
    context: dict[str, Any] = {"container": container, "error": error, "scan": scan, "location_text": location}
    if container is not None:
        stock = receiving.container_stock([container])[0]
        context.update(stock=stock, suggestions=putaway.suggestions(container), lot=container.lot,
                       physical_quarantine=putaway.physical_quarantine())
    return render(request, "web/warehouse/receiving/putaway.html", context, status=status)


@requires("inventory.move")
def putaway_start(request: HttpRequest) -> HttpResponse:
    """Step 1: scan the container (or come with ?container=<code>). Step 2: scan the location."""
    if request.method != "POST":
        code = request.GET.get("container", "").strip()
        if code:
            try:
                return _putaway_page(request, container=scanning.container_from_scan(code))
            except DomainError as error:
                return _putaway_page(request, error=error, scan=code, status=error.http_status)
        return _putaway_page(request)
    text = request.POST.get("scan", "")
    try:
        container = scanning.container_from_scan(text, field="scan")
    except DomainError as error:
        return _putaway_page(request, error=error, scan=text, status=error.http_status)
    return _putaway_page(request, container=container)


@requires("inventory.move")
@require_POST
def putaway_to(request: HttpRequest, container_id: int) -> HttpResponse:
    container = get_object_or_404(Container.objects.select_related("lot__material__base_unit"), pk=container_id)
    text = request.POST.get("location", "")
    try:
        movements = putaway.put_away(actor=acting_user(request), container_id=container.pk, location=text)
    except DomainError as error:
        container.refresh_from_db()
        return _putaway_page(request, container=container, error=error, location=text, status=error.http_status)
    target = movements[0].to_location
    messages.success(request, _("Container {container} was put away to {location}.").format(
        container=container.code, location=target.code if target else ""))
    return redirect(reverse("web:warehouse_putaway"))


urlpatterns = [
    path("warehouse/receiving/", receiving_start, name="warehouse_receiving"),
    path("warehouse/receiving/po/<int:order_id>/", receiving_order, name="warehouse_receiving_order"),
    path("warehouse/receiving/line/<int:line_id>/", receive_line, name="warehouse_receive_line"),
    path("warehouse/receiving/lots/<int:lot_id>/", receipt_result, name="warehouse_receipt"),
    path("warehouse/receiving/lots/<int:lot_id>/labels/", label_sheet, name="warehouse_labels"),
    path("warehouse/receiving/lots/<int:lot_id>/labels/print/", print_label_sheet, name="warehouse_labels_print"),
    path("warehouse/putaway/", putaway_start, name="warehouse_putaway"),
    path("warehouse/putaway/<int:container_id>/", putaway_to, name="warehouse_putaway_to"),
]
