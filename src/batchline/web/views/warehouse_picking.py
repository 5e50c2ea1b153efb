"""Material requests, FEFO allocation and picking (issue 4; WMS-04, WMS-05; INTERFACES.md exchange 1).

The handheld screens (a phone in a gloved hand): the open pick tasks grouped by request, the most
urgent first; one task at a time: go to the location, scan the container label, confirm the
quantity (and the destination, when the request has none), done — or refused with the reason. A
pick that split a container links to the new container's label.

The supervisor's screens: material requests (from the MES later; by hand now), one request with its
tasks, allocate again, cancel with a reason. inventory.allocation and inventory.picking do the
work, check the permissions and write the audit trail.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from batchline.core.errors import DomainError
from batchline.identity.authz import has_permission
from batchline.inventory import allocation, picking
from batchline.inventory.choices import RequestStatus, TaskStatus
from batchline.inventory.models import Container, MaterialRequest, PickTask, StockBalance
from batchline.inventory.usability import today
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.models import Location, Material
from batchline.web.views._guards import acting_user, requires

PAGE_SIZE = 50
LABEL_URL = "web:warehouse_labels"  # inventory's label sheet of a lot (web/views/warehouse_receiving.py)
OPEN_STATUSES = (RequestStatus.OPEN, RequestStatus.PARTIALLY_ALLOCATED, RequestStatus.ALLOCATED)


def label_url(container: Container) -> str | None:
    """The label page of one container (None while the label screens are not installed)."""
    try:
        return f"{reverse(LABEL_URL, args=[container.lot_id])}?container={container.pk}"
    except NoReverseMatch:
        return None


def _quantity(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


# --- the handheld: pick tasks ------------------------------------------------------------------------

@requires("inventory.view")
def pick_list(request: HttpRequest) -> HttpResponse:
    """Open pick tasks, grouped by request, the earliest need-by date first."""
    tasks = (PickTask.objects.filter(status=TaskStatus.OPEN)
             .select_related("request__material", "request__unit", "request__to_location", "lot", "container",
                             "from_location")
             .order_by("request__need_by", "request_id", "from_location__code", "pk"))
    groups: list[dict[str, Any]] = []
    for task in tasks[:500]:
        if not groups or groups[-1]["request"].pk != task.request_id:
            groups.append({"request": task.request, "quantity": _quantity(task.request.quantity), "tasks": []})
        groups[-1]["tasks"].append({"task": task, "quantity": _quantity(task.quantity)})
    return render(request, "web/warehouse/picking/tasks.html", {
        "groups": groups, "today": today(), "can_pick": has_permission(request.user, "inventory.pick"),
        "can_request": has_permission(request.user, "inventory.allocate"),
    })


def _task_page(request: HttpRequest, task: PickTask, *, scanned: str = "", confirmed: bool = False,
               error: DomainError | None = None, values: dict[str, str] | None = None) -> HttpResponse:
    row = StockBalance.objects.filter(container_id=task.container_id, location_id=task.from_location_id).first()
    return render(request, "web/warehouse/picking/pick.html", {
        "task": task, "req": task.request, "scanned": scanned, "confirmed": confirmed, "error": error,
        "values": values or {"quantity": _quantity(task.quantity)}, "quantity": _quantity(task.quantity),
        "in_container": _quantity(row.on_hand) if row else "0",
        "splits": bool(row and task.quantity < row.on_hand),
        "destinations": Location.objects.filter(
            status=RecordStatus.APPROVED, location_type__in=allocation.DELIVERY_LOCATION_TYPES,
            storage_condition=task.request.material.storage_condition).order_by("code"),
    }, status=error.http_status if error else 200)


@requires("inventory.pick")
def pick_task(request: HttpRequest, task_id: int) -> HttpResponse:
    """GET: where to go and what to take. POST (the scan): the right container goes on to the
    quantity; anything else is refused with the reason."""
    task = picking.load_task(get_object_or_404(PickTask, pk=task_id).pk)
    if task.status != TaskStatus.OPEN:
        return redirect(reverse("web:warehouse_pick_done", args=[task.pk]))
    if request.method != "POST":
        return _task_page(request, task)
    scanned = request.POST.get("scanned", "")
    try:
        picking.check_scan(task, scanned)
    except DomainError as error:
        return _task_page(request, task, scanned=scanned, error=error)
    return _task_page(request, task, scanned=scanned, confirmed=True)


@requires("inventory.pick")
@require_POST
def pick_confirm(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(PickTask, pk=task_id)
    values = {name: request.POST.get(name, "") for name in ("quantity", "to_location", "reason")}
    scanned = request.POST.get("scanned", "")
    try:
        picking.confirm_pick(actor=acting_user(request), task_id=task.pk, scanned=scanned,
                             quantity=values["quantity"] or None, to_location=values["to_location"] or None,
                             reason=values["reason"])
    except DomainError as error:
        loaded = picking.load_task(task.pk)
        if loaded.status != TaskStatus.OPEN:
            messages.error(request, error.render())
            return redirect(reverse("web:warehouse_pick_done", args=[task.pk]))
        wrong_scan = error.field == "scanned" or error.code in ("lot_not_usable", "wrong_container")
        return _task_page(request, loaded, scanned="" if wrong_scan else scanned, confirmed=not wrong_scan,
                          error=error, values=values)
    return redirect(reverse("web:warehouse_pick_done", args=[task.pk]))


@requires("inventory.view")
def pick_done(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(PickTask.objects.select_related(
        "request__material", "request__unit", "lot", "container", "from_location", "picked_container",
        "done_by"), pk=task_id)
    moved = task.picked_container or task.container
    arrived = (StockBalance.objects.select_related("location").filter(container=moved, on_hand__gt=0)
               .exclude(location_id=task.from_location_id).order_by("-updated_at").first())
    return render(request, "web/warehouse/picking/done.html", {
        "task": task, "req": task.request, "moved": moved, "split": task.picked_container_id is not None,
        "picked": _quantity(task.picked_quantity),
        "label_url": label_url(moved) if task.picked_container_id else None,
        "arrived": arrived.location if arrived else None,
        "next_task": PickTask.objects.filter(request_id=task.request_id, status=TaskStatus.OPEN).order_by("pk")
        .first(),
    })


# --- the supervisor: material requests ---------------------------------------------------------------

@requires("inventory.view")
def request_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "active")
    order_ref = request.GET.get("order", "").strip()
    rows = MaterialRequest.objects.select_related("material", "unit", "to_location").order_by("need_by", "pk")
    if status == "active":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif status in RequestStatus.values:
        rows = rows.filter(status=status)
    else:
        status = "all"
    if order_ref:
        rows = rows.filter(order_ref__icontains=order_ref)
    query = request.GET.copy()
    query.pop("page", None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/warehouse/picking/requests.html", {
        "page": page, "rows": [_request_row(made) for made in page.object_list], "query": query.urlencode(),
        "status": status, "order": order_ref, "statuses": RequestStatus.choices,
        "can_request": has_permission(request.user, "inventory.allocate"),
    })


def _request_row(made: MaterialRequest) -> dict[str, Any]:
    return {"req": made, "quantity": _quantity(made.quantity), "allocated": _quantity(made.allocated_quantity),
            "picked": _quantity(made.picked_quantity)}


def _form_context(values: dict[str, str]) -> dict[str, Any]:
    return {
        "values": values,
        "materials": Material.objects.filter(status=RecordStatus.APPROVED).select_related("base_unit")
        .order_by("code"),
        "destinations": Location.objects.filter(status=RecordStatus.APPROVED,
                                                location_type__in=allocation.DELIVERY_LOCATION_TYPES)
        .order_by("code"),
    }


@requires("inventory.allocate")
def request_new(request: HttpRequest) -> HttpResponse:
    """Record a material request by hand (the MES posts them over the API) and allocate it at once."""
    names = ("order_ref", "material", "quantity", "unit", "need_by", "to_location", "lot")
    if request.method != "POST":
        values = {name: "" for name in names}
        values["need_by"] = today().isoformat()
        return render(request, "web/warehouse/picking/request_form.html", _form_context(values))
    values = {name: request.POST.get(name, "").strip() for name in names}
    material = Material.objects.select_related("base_unit").filter(code=values["material"]).first()
    try:
        made = allocation.request_material(
            actor=acting_user(request), order_ref=values["order_ref"], material_code=values["material"],
            quantity=values["quantity"], unit=values["unit"] or (material.base_unit.code if material else ""),
            need_by=values["need_by"], lot_number=values["lot"] or None, to_location=values["to_location"] or None)
    except DomainError as error:
        return render(request, "web/warehouse/picking/request_form.html", {**_form_context(values), "error": error},
                      status=error.http_status)
    _announce(request, made)
    return redirect(reverse("web:warehouse_request", args=[made.pk]))


def _announce(request: HttpRequest, made: MaterialRequest) -> None:
    if made.status == RequestStatus.ALLOCATED:
        messages.success(request, _("Allocated in full: {count} pick task(s).").format(count=made.tasks.count()))
    elif made.status == RequestStatus.PARTIALLY_ALLOCATED:
        messages.warning(request, _("Allocated {allocated} of {quantity} {unit}: not enough usable stock.").format(
            allocated=_quantity(made.allocated_quantity), quantity=_quantity(made.quantity), unit=made.unit.code))
    elif made.status == RequestStatus.OPEN:
        messages.warning(request, _("Nothing could be allocated: no usable stock until the need-by date."))


def _request_page(request: HttpRequest, made: MaterialRequest, *, error: DomainError | None = None,
                  reason: str = "") -> HttpResponse:
    closed = made.status in allocation.CLOSED_STATUSES
    return render(request, "web/warehouse/picking/request.html", {
        **_request_row(made), "error": error, "reason": reason,
        "tasks": [{"task": task, "quantity": _quantity(task.quantity), "picked": _quantity(task.picked_quantity),
                   "travelled": task.picked_container or (task.container if task.status == TaskStatus.DONE else None)}
                  for task in allocation.tasks_of(made)],
        "can_change": not closed and has_permission(request.user, "inventory.allocate"),
        "can_allocate": not closed and made.allocated_quantity < made.quantity
        and has_permission(request.user, "inventory.allocate"),
        "can_pick": has_permission(request.user, "inventory.pick"),
    }, status=error.http_status if error else 200)


@requires("inventory.view")
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    made = get_object_or_404(MaterialRequest.objects.select_related("material", "unit", "lot", "to_location",
                                                                    "created_by"), pk=request_id)
    return _request_page(request, made)


@requires("inventory.allocate")
@require_POST
def request_allocate(request: HttpRequest, request_id: int) -> HttpResponse:
    made = get_object_or_404(MaterialRequest, pk=request_id)
    try:
        made = allocation.allocate(actor=acting_user(request), request_id=made.pk)
    except DomainError as error:
        return _request_page(request, made, error=error)
    _announce(request, made)
    return redirect(reverse("web:warehouse_request", args=[made.pk]))


@requires("inventory.allocate")
@require_POST
def request_cancel(request: HttpRequest, request_id: int) -> HttpResponse:
    made = get_object_or_404(MaterialRequest, pk=request_id)
    reason = request.POST.get("reason", "")
    try:
        allocation.cancel_request(actor=acting_user(request), request_id=made.pk, reason=reason)
    except DomainError as error:
        return _request_page(request, made, error=error, reason=reason)
    messages.success(request, _("The request was cancelled; its reservations were released."))
    return redirect(reverse("web:warehouse_request", args=[made.pk]))


urlpatterns = [
    path("warehouse/picking/", pick_list, name="warehouse_picking"),
    path("warehouse/picking/<int:task_id>/", pick_task, name="warehouse_pick"),
    path("warehouse/picking/<int:task_id>/confirm/", pick_confirm, name="warehouse_pick_confirm"),
    path("warehouse/picking/<int:task_id>/done/", pick_done, name="warehouse_pick_done"),
    path("warehouse/requests/", request_list, name="warehouse_requests"),
    path("warehouse/requests/new/", request_new, name="warehouse_request_new"),
    path("warehouse/requests/<int:request_id>/", request_detail, name="warehouse_request"),
    path("warehouse/requests/<int:request_id>/allocate/", request_allocate, name="warehouse_request_allocate"),
    path("warehouse/requests/<int:request_id>/cancel/", request_cancel, name="warehouse_request_cancel"),
]
