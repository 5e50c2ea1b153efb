"""Interfaces workspace: the interface monitor, the deliveries with dead-letter replay, and the
destinations the plant's IT engineer configures (INT-03, INT-06).

Core's services carry no permission check (core sits below identity), so every view checks it:
integration.view to look, integration.configure to change destinations, integration.replay to send
a dead-lettered message again. A webhook secret is never shown again once saved, and a password in a
broker URL is shown as ***.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from batchline.core import destinations, monitor, outbox
from batchline.core.errors import DomainError
from batchline.core.models import DEFAULT_MAX_ATTEMPTS, DeliveryStatus, Destination, DestinationKind
from batchline.identity.authz import has_permission
from batchline.web.views._guards import acting_user, requires

NAV = "interfaces"
PAGE_SIZE = 50
FIELDS = ("code", "name", "kind", "url", "secret", "exchange", "topic_prefix", "event_types", "max_attempts",
          "timeout_seconds")


def _errors(error: DomainError | None) -> dict[str, list[str]]:
    return {error.field: [error.render()]} if error is not None and error.field else {}


# --- monitor ----------------------------------------------------------------------------------------

def duration(value: timedelta | None) -> str:
    """A short reading of a duration for the monitor: "850 ms", "12.4 s", "7 min 5 s", "3 h 20 min"."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 1:
        return _("{n} ms").format(n=int(seconds * 1000))
    if seconds < 60:
        return _("{n} s").format(n=f"{seconds:.1f}")
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return _("{m} min {s} s").format(m=minutes, s=rest)
    hours, minutes = divmod(minutes, 60)
    return _("{h} h {m} min").format(h=hours, m=minutes)


def _monitor_context(request: HttpRequest) -> dict[str, Any]:
    figures = monitor.monitor()
    busiest = max([f.pending + f.delivered + f.dead for f in figures] or [0])
    return {
        "cards": [{"f": f, "url": destinations.masked_url(f.destination.url),
                   "age": duration(f.oldest_pending_age), "p50": duration(f.latency_p50),
                   "p95": duration(f.latency_p95),
                   # Bar widths in percent of the busiest destination: a quick visual comparison.
                   "bars": {name: (100 * count // busiest if busiest else 0)
                            for name, count in (("delivered", f.delivered), ("pending", f.pending),
                                                ("dead", f.dead))}}
                  for f in figures],
        "can_configure": has_permission(request.user, "integration.configure"),
        "nav_current": NAV,
    }


@requires("integration.view")
def interfaces(request: HttpRequest) -> HttpResponse:
    return render(request, "web/interfaces/monitor.html", _monitor_context(request))


@requires("integration.view")
def monitor_cards(request: HttpRequest) -> HttpResponse:
    """The cards alone, which the monitor page reloads every 10 seconds (HTMX)."""
    return render(request, "web/interfaces/_cards.html", _monitor_context(request))


# --- deliveries and replay ----------------------------------------------------------------------------

@requires("integration.view")
def deliveries(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("destination", "").strip()
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/interfaces/deliveries.html", {
        "page": Paginator(monitor.deliveries(destination=code or None, status=status or None), PAGE_SIZE)
        .get_page(request.GET.get("page")),
        "query": query.urlencode(), "destination": code, "status": status, "statuses": DeliveryStatus.choices,
        "codes": Destination.objects.order_by("code").values_list("code", flat=True),
        "can_replay": has_permission(request.user, "integration.replay"), "nav_current": NAV,
    })


def _render_delivery(request: HttpRequest, delivery_id: int, *, error: DomainError | None = None,
                     reason: str = "") -> HttpResponse:
    found = monitor.delivery_detail(delivery_id)
    if found is None:
        raise Http404
    delivery, message = found
    return render(request, "web/interfaces/delivery.html", {
        "delivery": delivery, "message": json.dumps(message, ensure_ascii=False, indent=2),
        "can_replay": has_permission(request.user, "integration.replay") and delivery.status == DeliveryStatus.DEAD,
        "can_read_audit": has_permission(request.user, "audit.view"), "audit_record_type": outbox.DELIVERY_RECORD_TYPE,
        "error": error, "errors": _errors(error), "reason": reason, "nav_current": NAV,
    }, status=error.http_status if error else 200)


@requires("integration.view")
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    return _render_delivery(request, delivery_id)


@requires("integration.replay")
@require_POST
def delivery_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    try:
        outbox.replay(actor=acting_user(request), delivery_id=delivery_id, reason=reason)
    except DomainError as error:
        return _render_delivery(request, delivery_id, error=error, reason=reason)
    messages.success(request, _("The message is queued to be sent again."))
    return redirect(reverse("web:interface_delivery", args=[delivery_id]))


# --- destinations ------------------------------------------------------------------------------------

@requires("integration.configure")
def destination_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/interfaces/destinations.html", {
        "destinations": [{"d": d, "url": destinations.masked_url(d.url)} for d in Destination.objects.order_by("code")],
        "can_read_audit": has_permission(request.user, "audit.view"), "record_type": destinations.RECORD_TYPE,
        "nav_current": NAV,
    })


def _render_form(request: HttpRequest, *, destination: Destination | None, values: dict[str, Any],
                 error: DomainError | None = None, reason: str = "") -> HttpResponse:
    values = {**values, "secret": ""}  # a secret is never sent back to the browser
    return render(request, "web/interfaces/destination_form.html", {
        "destination": destination, "values": values, "kinds": DestinationKind.choices, "reason": reason,
        "error": error, "errors": _errors(error), "nav_current": NAV,
    }, status=error.http_status if error else 200)


def _form(request: HttpRequest, destination: Destination | None) -> HttpResponse:
    if request.method != "POST":
        if destination is None:
            values: dict[str, Any] = {"code": "", "name": "", "kind": DestinationKind.WEBHOOK, "url": "",
                                      "exchange": "", "topic_prefix": "", "event_types": "",
                                      "max_attempts": DEFAULT_MAX_ATTEMPTS, "timeout_seconds": 10}
        else:
            values = {name: getattr(destination, name) for name in FIELDS if name != "secret"}
            values["url"] = destinations.masked_url(destination.url)
            values["event_types"] = " ".join(destination.event_types)
        return _render_form(request, destination=destination, values=values)
    values = {name: request.POST.get(name, "") for name in FIELDS}
    reason = request.POST.get("reason", "")
    actor = acting_user(request)
    try:
        if destination is None:
            saved = destinations.create_destination(actor=actor, **values)
        else:
            values["code"] = destination.code  # the code names the destination; it does not change
            changes = {k: v for k, v in values.items() if k != "code"}
            saved = destinations.update_destination(actor=actor, code=destination.code, reason=reason, **changes)
    except DomainError as error:
        return _render_form(request, destination=destination, values=values, error=error, reason=reason)
    messages.success(request, _("Destination {code} is saved.").format(code=saved.code))
    return redirect(reverse("web:interface_destinations"))


@requires("integration.configure")
def destination_create(request: HttpRequest) -> HttpResponse:
    return _form(request, None)


@requires("integration.configure")
def destination_edit(request: HttpRequest, code: str) -> HttpResponse:
    return _form(request, get_object_or_404(Destination, code=code))


@requires("integration.configure")
@require_POST
def destination_active(request: HttpRequest, code: str) -> HttpResponse:
    destination = get_object_or_404(Destination, code=code)
    active = request.POST.get("active") == "yes"
    reason = request.POST.get("reason", "")
    try:
        destinations.set_active(actor=acting_user(request), code=destination.code, active=active, reason=reason)
    except DomainError as error:
        values = {name: getattr(destination, name) for name in FIELDS if name != "secret"}
        values["url"] = destinations.masked_url(destination.url)
        values["event_types"] = " ".join(destination.event_types)
        return _render_form(request, destination=destination, values=values, error=error)
    if active:
        messages.success(request, _("Destination {code} is active.").format(code=code))
    else:
        messages.success(request, _("Destination {code} is inactive: it gets no messages until activated.")
                         .format(code=code))
    return redirect(reverse("web:interface_destinations"))


urlpatterns = [
    path("interfaces/", interfaces, name="interfaces"),
    path("interfaces/cards/", monitor_cards, name="interface_cards"),
    path("interfaces/deliveries/", deliveries, name="interface_deliveries"),
    path("interfaces/deliveries/<int:delivery_id>/", delivery_detail, name="interface_delivery"),
    path("interfaces/deliveries/<int:delivery_id>/replay/", delivery_replay, name="interface_replay"),
    path("interfaces/destinations/", destination_list, name="interface_destinations"),
    path("interfaces/destinations/new/", destination_create, name="interface_destination_create"),
    path("interfaces/destinations/<str:code>/", destination_edit, name="interface_destination_edit"),
    path("interfaces/destinations/<str:code>/active/", destination_active, name="interface_destination_active"),
]
