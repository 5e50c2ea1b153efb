"""The warehouse workspace (web:warehouse) and its stock screens (issue 4; WMS-03, WMS-07, WMS-08).

* the hub: tiles to receiving, putaway, picking and requests (other modules' screens, shown once they
  exist), stock, the location map, movements, counts, alerts and stock policies, with what waits;
* stock: filters (material, lot, location, warehouse, status), grouping by container, lot, material or
  location, and a chart of stock by status per material (ECharts, vendored);
* the location map: each warehouse's locations as tiles coloured by the worst state they hold;
* a lot: details, derived state, containers, full movement history, audit link, and QA's signed
  status change (inventory.lots.change_lot_status);
* handheld forms (phone-sized, scan fields): transfer, return to stock, scrap, sample withdrawal. The
  container is scanned first (a label's GS1 barcode or its code), then the rest is entered;
* cycle counts: open a count of a location, count it blind, approve (signed, second person) or reject;
* alerts, and stock policies (the thresholds behind them).
"""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from batchline.compliance.meanings import meaning_for
from batchline.compliance.signatures import SignatureRequest
from batchline.core.canonical import sha256_hex
from batchline.core.errors import DomainError, InvalidInput
from batchline.core.idempotency import run_once
from batchline.identity.authz import has_permission
from batchline.inventory import alerts, counting, lots, movements, scanning, selectors
from batchline.inventory.choices import AlertKind, CountStatus, DerivedLotState, LotStatus, ReasonCode
from batchline.inventory.models import Container, CycleCount, Lot, StockBalance
from batchline.inventory.selectors import STATE_CHOICES, StockFilter
from batchline.inventory.usability import lot_state, today
from batchline.masterdata.choices import LocationType, RecordStatus
from batchline.masterdata.models import Location, Material, Unit, Warehouse
from batchline.web import signing
from batchline.web.middleware import count_failed_signature
from batchline.web.views._guards import acting_user, requires

PAGE_SIZE = 50
GROUPS = [("container", gettext_lazy("Container")), ("lot", gettext_lazy("Lot")),
          ("material", gettext_lazy("Material")), ("location", gettext_lazy("Location"))]
# Colours of the states, the same in the chart, the badges and the map (app.css, warehouse stock).
STATE_COLOURS = {"released": "#1d6b40", "restricted": "#b7791f", "quarantine": "#d4a017", "retest_due": "#7b4fb5",
                 "expired": "#8f1c13", "rejected": "#d64545"}


def _state_label(state: str) -> str:
    return str(dict(DerivedLotState.choices).get(state, state))


def _error_context(error: DomainError | None) -> dict[str, Any]:
    return {"error": error, "error_field": (error.field or "") if error else ""}


def _signature(request: HttpRequest, meaning: str) -> SignatureRequest:
    """The dialog's fields. After the first signature of the session the dialog asks the password only
    (ES-05); the signed-in person is then the signer named."""
    request_ = signing.signature_request(request, meaning)
    if request_.username is None and not signing.username_required(request):
        request_ = dataclasses.replace(request_, username=acting_user(request).username)
    return request_


# --- hub -------------------------------------------------------------------------------------------------

@requires("inventory.view")
def hub(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    return render(request, "web/warehouse/hub.html", {
        "alert_counts": selectors.open_alert_counts(),
        "open_alerts": sum(selectors.open_alert_counts().values()),
        "counts_to_approve": (selectors.counts_awaiting_approval(user).count()
                              if has_permission(user, "inventory.approve_count") else None),
        "open_counts": selectors.cycle_counts(status=CountStatus.OPEN).count(),
        "containers_by_state": [(value, label, n) for (value, label), n in
                                zip(STATE_CHOICES, selectors.containers_by_state().values(), strict=True)],
        "can": _abilities(user),
    })


def _abilities(user: Any) -> dict[str, bool]:
    return {name: has_permission(user, f"inventory.{name}") for name in
            ("move", "adjust", "sample", "count", "approve_count", "change_lot_status", "configure", "receive",
             "pick", "allocate")}


# --- stock ------------------------------------------------------------------------------------------------

@requires("inventory.view")
def stock(request: HttpRequest) -> HttpResponse:
    flt = StockFilter.from_query(request.GET)
    by = request.GET.get("by", "container")
    by = by if by in dict(GROUPS) else "container"
    if flt.status and flt.status not in DerivedLotState.values:
        flt = dataclasses.replace(flt, status="")
    if by == "container":
        rows: Any = selectors.stock(flt)
    else:
        rows = selectors.stock_summary(flt, by=by)
    query = request.GET.copy()
    query.pop("page", None)
    totals = selectors.totals_by_state(flt)
    return render(request, "web/warehouse/stock/stock.html", {
        "flt": flt, "by": by, "groups": GROUPS, "states": STATE_CHOICES,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")), "query": query.urlencode(),
        "totals": totals, "chart": _chart(totals),
        "warehouses": Warehouse.objects.filter(status=RecordStatus.APPROVED).order_by("code"),
        "materials": selectors.materials_with_stock(),
        "state_labels": dict(DerivedLotState.choices),
    })


def _chart(totals: list[selectors.StateTotals]) -> dict[str, Any]:
    """ECharts data: one stacked bar per material (in its own base unit), one series per state."""
    language = get_language() or "zh-hans"
    categories = [f"{t.material} ({t.unit})" for t in totals]
    names = {t.material: (t.name_zh if language.startswith("zh") else t.name_en) for t in totals}
    series = []
    for value, label in STATE_CHOICES:
        data = [float(t.by_state.get(value, Decimal(0))) for t in totals]  # display only: the table is exact
        if any(data):
            series.append({"name": str(label), "state": value, "color": STATE_COLOURS[value], "data": data})
    return {"categories": categories, "names": [names[t.material] for t in totals], "series": series,
            "empty": _("No stock matches."), "quantity": _("Quantity (base unit)")}


@requires("inventory.view")
def location_map(request: HttpRequest) -> HttpResponse:
    warehouse = request.GET.get("warehouse", "").strip()
    return render(request, "web/warehouse/stock/map.html", {
        "grouped": selectors.location_map(warehouse=warehouse), "warehouse": warehouse,
        "warehouses": Warehouse.objects.filter(status=RecordStatus.APPROVED).order_by("code"),
        "states": [*STATE_CHOICES, ("empty", _("Empty"))],
    })


# --- lots -------------------------------------------------------------------------------------------------

@requires("inventory.view")
def lot_search(request: HttpRequest) -> HttpResponse:
    """Find a lot by its number, a supplier lot or a scanned container label."""
    text = request.GET.get("q", "").strip()
    found: Any = []
    error = None
    if text:
        exact = selectors.lot_by_number(text)
        if exact is not None:
            return redirect(reverse("web:warehouse_lot", args=[exact.pk]))
        try:
            container = scanning.container_from_scan(text, field="q")
            return redirect(reverse("web:warehouse_lot", args=[container.lot_id]))
        except DomainError as refused:
            error = refused
        found = list(selectors.lots(text=text)[:100])
        if len(found) == 1:
            return redirect(reverse("web:warehouse_lot", args=[found[0].pk]))
        if found:
            error = None
    return render(request, "web/warehouse/stock/lots.html", {"q": text, "lots": found, "error": error})


def _lot(lot_id: int) -> Lot:
    return get_object_or_404(Lot.objects.select_related(
        "material__base_unit", "supplier", "received_by", "purchase_order_line__purchase_order"), pk=lot_id)


def _render_lot(request: HttpRequest, lot: Lot, *, error: DomainError | None = None,
                posted: dict[str, str] | None = None) -> HttpResponse:
    user = acting_user(request)
    language = get_language() or "zh-hans"
    state = lot_state(lot)
    return render(request, "web/warehouse/stock/lot.html", {
        "lot": lot, "state": state.value, "state_label": state.label,
        "stored_status": LotStatus(lot.status).label, "today": today(),
        "containers": selectors.lot_containers(lot), "total": selectors.lot_total(lot),
        "history": selectors.lot_history(lot),
        "alerts": selectors.stock_alerts().filter(lot=lot),
        "transitions": [(s, LotStatus(s).label) for s in LotStatus.values
                        if s in lots.TRANSITIONS[LotStatus(lot.status)]],
        "can_change_status": has_permission(user, "inventory.change_lot_status"),
        "can_read_audit": has_permission(user, "audit.view"),
        "can": _abilities(user),
        "meaning_label": meaning_for("inventory.lot", lots.SIGNATURE_MEANING).label(language),
        "posted": posted or {}, **_error_context(error),
    }, status=error.http_status if error else 200)


@requires("inventory.view")
def lot_detail(request: HttpRequest, lot_id: int) -> HttpResponse:
    return _render_lot(request, _lot(lot_id))


@requires("inventory.change_lot_status")
@require_POST
def lot_status(request: HttpRequest, lot_id: int) -> HttpResponse:
    """QA's signed status decision (WMS-03): takes effect on every allocation at once."""
    lot = _lot(lot_id)
    posted = {name: request.POST.get(name, "") for name in ("status", "restriction", "reason", "reference",
                                                             "sig_comment")}
    try:
        changed = lots.change_lot_status(actor=request.user, lot_id=lot.pk, status=posted["status"],
                                         reason=posted["reason"], restriction=posted["restriction"],
                                         reference=posted["reference"].strip(),
                                         signature=_signature(request, lots.SIGNATURE_MEANING))
    except DomainError as error:
        count_failed_signature(error)
        return _render_lot(request, lot, error=error, posted=posted)
    signing.mark_signed(request)
    messages.success(request, _("Lot {lot} is now {status}.").format(lot=changed.number,
                                                                    status=LotStatus(changed.status).label))
    return redirect(reverse("web:warehouse_lot", args=[changed.pk]))


# --- handheld movements -----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class MoveAction:
    key: str
    permission: str
    title: Any
    fields: tuple[str, ...]
    reasons: tuple[ReasonCode, ...] = ()


ACTIONS = {
    "transfer": MoveAction("transfer", "inventory.move", gettext_lazy("Transfer"),
                           ("to_location", "quantity", "unit", "from_location", "reference")),
    "return": MoveAction("return", "inventory.adjust", gettext_lazy("Return to stock"),
                         ("to_location", "reweighed_quantity", "unit", "reason_code", "reason", "order_ref",
                          "from_location"), movements.RETURN_REASONS),
    "scrap": MoveAction("scrap", "inventory.adjust", gettext_lazy("Scrap"),
                        ("quantity", "unit", "reason_code", "reason", "from_location", "reference"),
                        movements.SCRAP_REASONS),
    "sample": MoveAction("sample", "inventory.sample", gettext_lazy("Sample withdrawal"),
                         ("quantity", "unit", "reason_code", "reference", "reason", "from_location"),
                         movements.SAMPLE_REASONS),
}


def _container_facts(container: Container) -> dict[str, Any]:
    rows = list(StockBalance.objects.filter(container=container, on_hand__gt=0).select_related("location")
                .order_by("location__code"))
    state = lot_state(container.lot)
    return {"container": container, "lot": container.lot, "material": container.lot.material,
            "state": state.value, "state_label": state.label, "balances": rows,
            "on_hand": sum((r.on_hand for r in rows), Decimal(0)),
            "available": sum((r.available for r in rows), Decimal(0)),
            "issued": movements.issued_not_returned(container)}


def _units_for(container: Container | None) -> list[Unit]:
    if container is None:
        return []
    base = container.lot.material.base_unit
    return list(Unit.objects.filter(status=RecordStatus.APPROVED, dimension=base.dimension).order_by("code"))


def _move_page(request: HttpRequest, action: MoveAction, *, container: Container | None = None,
               values: dict[str, str] | None = None, error: DomainError | None = None,
               scan: str = "") -> HttpResponse:
    values = values or {}
    context: dict[str, Any] = {
        "action": action, "values": values, "scan": scan, "units": _units_for(container),
        "token": values.get("token") or uuid.uuid4().hex,
        "reasons": [(code.value, code.label) for code in action.reasons],
        "actions": ACTIONS, **_error_context(error),
    }
    if container is not None:
        context.update(_container_facts(container))
        context["targets"] = _targets(action, container)
    return render(request, "web/warehouse/stock/move.html", context,
                  status=error.http_status if error else 200)


def _targets(action: MoveAction, container: Container) -> list[Location]:
    """Locations offered as a choice (the scan field accepts any): those of the material's storage condition."""
    if action.key not in ("transfer", "return"):
        return []
    kinds = [LocationType.STORAGE, LocationType.DISPENSARY, LocationType.LINE_SIDE, LocationType.STAGING,
             LocationType.QUARANTINE, LocationType.REJECTED]
    return list(Location.objects.filter(status=RecordStatus.APPROVED, location_type__in=kinds,
                                        storage_condition=container.lot.material.storage_condition)
                .order_by("location_type", "code")[:50])


def _scanned_location(text: str, field: str) -> str:
    """A location scan (plain code or GS1 AI 254) → its code; empty stays empty."""
    text = (text or "").strip()
    if not text:
        return ""
    return scanning.location_from_scan(text, field=field).code


def _move(request: HttpRequest, key: str) -> HttpResponse:
    action = ACTIONS[key]
    text = (request.POST.get("container") if request.method == "POST" else request.GET.get("container")) or ""
    if not text.strip():
        return _move_page(request, action)
    try:
        container = scanning.container_from_scan(text, field="container")
    except DomainError as error:
        return _move_page(request, action, error=error, scan=text)
    if request.method != "POST":
        return _move_page(request, action, container=container, values={"unit": container.lot.material.base_unit.code})
    values = {name: request.POST.get(name, "").strip() for name in (*action.fields, "token")}
    try:
        quantity = _run_once(action, request, container, values)
    except DomainError as error:
        return _move_page(request, action, container=container, values=values, error=error)
    messages.success(request, _("{action}: container {container}, {quantity} {unit}. Scan the next container.").format(
        action=action.title, container=container.code, quantity=quantity, unit=container.lot.material.base_unit.code))
    return redirect(reverse(f"web:warehouse_{key}"))


def _run_once(action: MoveAction, request: HttpRequest, container: Container, values: dict[str, str]) -> str:
    """A double tap (or a resent form) moves once: the form's one-time token is an idempotency key.
    → the quantity moved, as text."""
    user = acting_user(request)

    def run() -> tuple[int, Any]:
        moved = _run(action, request, container, values)
        quantity = sum((m.quantity for m in moved.movements if m.movement_type not in ("count_gain", "count_loss")),
                       Decimal(0))
        return 200, {"quantity": format(quantity.normalize(), "f")}

    token = values.get("token", "")
    if not token:
        return str(run()[1]["quantity"])
    endpoint = f"web {action.key} {container.code}"[:200]
    _status, body = run_once(source=user.username, key=f"web-move:{token}"[:200], endpoint=endpoint,
                             request_hash=sha256_hex(endpoint), action=run)
    return str(body["quantity"])


def _run(action: MoveAction, request: HttpRequest, container: Container, values: dict[str, str]) -> Any:
    actor = request.user
    unit = values.get("unit") or None
    source = _scanned_location(values.get("from_location", ""), "from_location") or None
    if action.key == "transfer":
        target = _scanned_location(values["to_location"], "to_location")
        if not target:
            raise InvalidInput(_("Scan or choose the location."), field="to_location")
        return movements.transfer(actor=actor, container=container, to_location=target,
                                  quantity=values["quantity"] or None, unit=unit, from_location=source,
                                  reference=values["reference"])
    if action.key == "return":
        target = _scanned_location(values["to_location"], "to_location")
        if not target:
            raise InvalidInput(_("Scan or choose the location."), field="to_location")
        return movements.return_to_stock(actor=actor, container=container, to_location=target,
                                         reweighed_quantity=values["reweighed_quantity"], unit=unit,
                                         reason_code=values["reason_code"], reason=values["reason"],
                                         order_ref=values["order_ref"], from_location=source)
    if action.key == "scrap":
        return movements.scrap(actor=actor, container=container, quantity=values["quantity"] or None, unit=unit,
                               reason_code=values["reason_code"], reason=values["reason"], from_location=source,
                               reference=values["reference"])
    return movements.withdraw_sample(actor=actor, container=container, quantity=values["quantity"], unit=unit,
                                     reason_code=values["reason_code"], reference=values["reference"],
                                     reason=values["reason"], from_location=source)


@requires("inventory.move")
def transfer(request: HttpRequest) -> HttpResponse:
    return _move(request, "transfer")


@requires("inventory.adjust")
def return_to_stock(request: HttpRequest) -> HttpResponse:
    return _move(request, "return")


@requires("inventory.adjust")
def scrap(request: HttpRequest) -> HttpResponse:
    return _move(request, "scrap")


@requires("inventory.sample")
def sample(request: HttpRequest) -> HttpResponse:
    return _move(request, "sample")


# --- cycle counts ---------------------------------------------------------------------------------------

@requires("inventory.view")
def counts(request: HttpRequest, *, error: DomainError | None = None, location: str = "") -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in CountStatus.values else ""
    user = acting_user(request)
    return render(request, "web/warehouse/stock/counts.html", {
        "counts": selectors.cycle_counts(status=status)[:200], "status": status,
        "statuses": CountStatus.choices, "location": location,
        "to_approve": (selectors.counts_awaiting_approval(user)
                       if has_permission(user, "inventory.approve_count") else None),
        "can_count": has_permission(user, "inventory.count"), **_error_context(error),
    }, status=error.http_status if error else 200)


@requires("inventory.count")
@require_POST
def count_open(request: HttpRequest) -> HttpResponse:
    text = request.POST.get("location", "")
    try:
        code = _scanned_location(text, "location")
        if not code:
            raise InvalidInput(_("Scan or choose the location."), field="location")
        count = counting.open_count(actor=request.user, location=code)
    except DomainError as error:
        return counts(request, error=error, location=text)
    messages.success(request, _("Count {count} is open: count every container at {location}.").format(
        count=count.number, location=count.location.code))
    return redirect(reverse("web:warehouse_count", args=[count.pk]))


def _count(count_id: int) -> CycleCount:
    return get_object_or_404(CycleCount.objects.select_related("location", "created_by", "counted_by",
                                                               "decided_by"), pk=count_id)


def _render_count(request: HttpRequest, count: CycleCount, *, error: DomainError | None = None,
                  posted: dict[str, str] | None = None, extra: list[tuple[str, str]] | None = None) -> HttpResponse:
    user = acting_user(request)
    language = get_language() or "zh-hans"
    lines = list(count.lines.select_related("container__lot__material__base_unit").order_by("container__code"))
    may_approve = has_permission(user, "inventory.approve_count")
    # Blind count: the book quantity is shown to approvers only, and only once the count is entered.
    show_book = may_approve and count.status != CountStatus.OPEN
    moved = counting.moved_since_opened(count) if count.status in counting.OPEN_STATES else 0
    return render(request, "web/warehouse/stock/count.html", {
        "count": count, "lines": lines, "show_book": show_book,
        "variances": [(line, line.counted - line.expected) for line in lines if line.counted is not None],
        "can_enter": count.status == CountStatus.OPEN and has_permission(user, "inventory.count"),
        "can_decide": count.status in counting.OPEN_STATES and may_approve,
        "can_approve": count.status == CountStatus.COUNTED and may_approve and count.counted_by_id != user.pk,
        "is_counter": count.counted_by_id == user.pk, "moved": moved,
        "can_read_audit": has_permission(user, "audit.view"),
        "meaning_label": meaning_for("inventory.cyclecount", counting.APPROVE_MEANING).label(language),
        "posted": posted or {}, "extra": extra or [("", "")] * 3, **_error_context(error),
    }, status=error.http_status if error else 200)


@requires("inventory.view")
def count_detail(request: HttpRequest, count_id: int) -> HttpResponse:
    return _render_count(request, _count(count_id))


@requires("inventory.count")
@require_POST
def count_enter(request: HttpRequest, count_id: int) -> HttpResponse:
    """The blind entry: one field per container of the snapshot, plus rows for containers found."""
    count = _count(count_id)
    posted = {key: request.POST.get(key, "").strip() for key in request.POST if key.startswith("line:")}
    lines: dict[str, Any] = {key.removeprefix("line:"): value for key, value in posted.items()}
    extra: list[tuple[str, str]] = []
    for scan_text, quantity in zip(request.POST.getlist("extra_container"), request.POST.getlist("extra_quantity"),
                                   strict=False):
        extra.append((scan_text, quantity))
        if not scan_text.strip() and not quantity.strip():
            continue
        try:
            found = scanning.container_from_scan(scan_text, field="extra_container")
        except DomainError as error:
            return _render_count(request, count, error=error, posted=posted, extra=extra)
        lines[found.code] = quantity
    try:
        for code, value in lines.items():
            if value == "":
                raise InvalidInput(_("Enter a quantity for container {container} (0 if it is not there)."),
                                   field=f"lines.{code}", code="count_incomplete", container=code)
        counting.enter_count(actor=request.user, count_id=count.pk, lines=lines)
    except DomainError as error:
        return _render_count(request, count, error=error, posted=posted, extra=extra)
    messages.success(request, _("Count {count} is entered; a second person approves it.").format(count=count.number))
    return redirect(reverse("web:warehouse_count", args=[count.pk]))


@requires("inventory.approve_count")
@require_POST
def count_approve(request: HttpRequest, count_id: int) -> HttpResponse:
    count = _count(count_id)
    posted = {"reason": request.POST.get("reason", ""), "sig_comment": request.POST.get("sig_comment", "")}
    try:
        counting.approve_count(actor=request.user, count_id=count.pk, reason=posted["reason"],
                               signature=_signature(request, counting.APPROVE_MEANING))
    except DomainError as error:
        count_failed_signature(error)
        return _render_count(request, count, error=error, posted=posted)
    signing.mark_signed(request)
    messages.success(request, _("Count {count} is approved; its differences are posted.").format(count=count.number))
    return redirect(reverse("web:warehouse_count", args=[count.pk]))


@requires("inventory.approve_count")
@require_POST
def count_reject(request: HttpRequest, count_id: int) -> HttpResponse:
    count = _count(count_id)
    posted = {"reject_reason": request.POST.get("reason", "")}
    try:
        counting.reject_count(actor=request.user, count_id=count.pk, reason=posted["reject_reason"])
    except DomainError as error:
        if error.field == "reason":
            error.field = "reject_reason"
        return _render_count(request, count, error=error, posted=posted)
    messages.success(request, _("Count {count} is rejected.").format(count=count.number))
    return redirect(reverse("web:warehouse_count", args=[count.pk]))


# --- alerts and policies -------------------------------------------------------------------------------

@requires("inventory.view")
def alert_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in AlertKind.values else ""
    show = request.GET.get("show", "open")
    rows = selectors.stock_alerts(open_only=show != "all", kind=kind)
    return render(request, "web/warehouse/stock/alerts.html", {
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")), "kind": kind, "show": show,
        "kinds": AlertKind.choices, "alert_counts": selectors.open_alert_counts(),
        "can_evaluate": has_permission(request.user, "inventory.configure"),
        "can_configure": has_permission(request.user, "inventory.configure"),
    })


@requires("inventory.configure")
@require_POST
def alerts_evaluate(request: HttpRequest) -> HttpResponse:
    summary = alerts.evaluate_alerts()
    messages.success(request, _("Alerts evaluated: {raised} raised, {cleared} cleared, {open} open.").format(
        **summary.as_dict()))
    return redirect(reverse("web:warehouse_alerts"))


POLICY_FIELDS = ("material", "safety_stock", "unit", "expiry_warning_days", "retest_warning_days", "slow_moving_days",
                 "reason")


@requires("inventory.configure")
def policies(request: HttpRequest) -> HttpResponse:
    """The stock policies, and the form to create or change one (?material=CODE fills it in)."""
    error = None
    code = (request.POST.get("material") if request.method == "POST" else request.GET.get("material")) or ""
    material = Material.objects.select_related("base_unit").filter(code=code.strip()).first() if code else None
    values: dict[str, str] = {"material": code.strip()}
    existing = selectors.stock_policies().filter(material=material).first() if material else None
    current = alerts.policy_of(existing)
    values.update({
        "safety_stock": format(current.safety_stock.normalize(), "f") if current.safety_stock is not None else "",
        "unit": material.base_unit.code if material else "",
        "expiry_warning_days": str(current.expiry_warning_days),
        "retest_warning_days": str(current.retest_warning_days),
        "slow_moving_days": str(current.slow_moving_days), "reason": ""})
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in POLICY_FIELDS}
        try:
            saved = alerts.set_stock_policy(
                actor=request.user, material=values["material"], safety_stock=values["safety_stock"] or None,
                unit=values["unit"] or None, expiry_warning_days=values["expiry_warning_days"],
                retest_warning_days=values["retest_warning_days"], slow_moving_days=values["slow_moving_days"],
                reason=values["reason"])
        except DomainError as refused:
            error = refused
        else:
            messages.success(request, _("The stock policy of {material} is saved.").format(
                material=saved.material.code))
            return redirect(reverse("web:warehouse_policies"))
    return render(request, "web/warehouse/stock/policies.html", {
        "policies": selectors.stock_policies(), "values": values, "editing": existing,
        "defaults": alerts.DEFAULT_POLICY,
        "materials": Material.objects.filter(status=RecordStatus.APPROVED).order_by("code"),
        "units": Unit.objects.filter(status=RecordStatus.APPROVED).order_by("code"), **_error_context(error),
    }, status=error.http_status if error else 200)


urlpatterns = [
    path("warehouse/", hub, name="warehouse"),
    path("warehouse/stock/", stock, name="warehouse_stock"),
    path("warehouse/stock/map/", location_map, name="warehouse_location_map"),
    path("warehouse/lots/", lot_search, name="warehouse_lots"),
    path("warehouse/lots/<int:lot_id>/", lot_detail, name="warehouse_lot"),
    path("warehouse/lots/<int:lot_id>/status/", lot_status, name="warehouse_lot_status"),
    path("warehouse/move/transfer/", transfer, name="warehouse_transfer"),
    path("warehouse/move/return/", return_to_stock, name="warehouse_return"),
    path("warehouse/move/scrap/", scrap, name="warehouse_scrap"),
    path("warehouse/move/sample/", sample, name="warehouse_sample"),
    path("warehouse/counts/", counts, name="warehouse_counts"),
    path("warehouse/counts/open/", count_open, name="warehouse_count_open"),
    path("warehouse/counts/<int:count_id>/", count_detail, name="warehouse_count"),
    path("warehouse/counts/<int:count_id>/enter/", count_enter, name="warehouse_count_enter"),
    path("warehouse/counts/<int:count_id>/approve/", count_approve, name="warehouse_count_approve"),
    path("warehouse/counts/<int:count_id>/reject/", count_reject, name="warehouse_count_reject"),
    path("warehouse/alerts/", alert_list, name="warehouse_alerts"),
    path("warehouse/alerts/evaluate/", alerts_evaluate, name="warehouse_alerts_evaluate"),
    path("warehouse/policies/", policies, name="warehouse_policies"),
]
