"""Parked inbound messages (MD-03): what other systems sent that Batchline refused for data a data
steward can fix (an unmapped code, an unknown unit). The steward fixes the code map, then re-processes
the message, or discards it with a reason. core.inbound does the work and writes the audit trail;
seeing needs `integration.view`, acting `integration.reprocess`.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from batchline.core import inbound
from batchline.core.errors import DomainError
from batchline.core.models import ParkedMessage, ParkedStatus
from batchline.identity.authz import has_permission
from batchline.web.middleware import count_failed_signature
from batchline.web.views._guards import requires

PAGE_SIZE = 50
NAV = "interfaces"
STATUSES = [(ParkedStatus.PARKED, gettext_lazy("Parked")), (ParkedStatus.REPROCESSED, gettext_lazy("Re-processed")),
            (ParkedStatus.DISCARDED, gettext_lazy("Discarded"))]


@requires("integration.view")
def parked_messages(request: HttpRequest) -> HttpResponse:
    source = request.GET.get("source", "").strip().upper()
    status = request.GET.get("status", ParkedStatus.PARKED)
    rows = ParkedMessage.objects.all()
    if source:
        rows = rows.filter(source_system=source)
    if status in ParkedStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/parked/list.html", {
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")), "query": query.urlencode(),
        "source": source, "status": status, "statuses": STATUSES,
        "sources": ParkedMessage.objects.order_by("source_system").values_list("source_system", flat=True).distinct(),
        "nav_current": NAV,
    })


def _render_detail(request: HttpRequest, parked: ParkedMessage, *, error: DomainError | None = None,
                   reason: str = "") -> HttpResponse:
    return render(request, "web/parked/detail.html", {
        "parked": parked, "payload": json.dumps(parked.payload, indent=2, ensure_ascii=False, sort_keys=True),
        "can_act": parked.status == ParkedStatus.PARKED and has_permission(request.user, "integration.reprocess"),
        "can_map": has_permission(request.user, "masterdata.configure"),
        "can_read_audit": has_permission(request.user, "audit.view"),
        "status_label": {str(value): label for value, label in STATUSES}[parked.status],
        "error": error, "reason": reason, "nav_current": NAV,
    }, status=error.http_status if error else 200)


@requires("integration.view")
def parked_message(request: HttpRequest, parked_id: int) -> HttpResponse:
    return _render_detail(request, get_object_or_404(ParkedMessage, pk=parked_id))


@requires("integration.reprocess")
@require_POST
def parked_reprocess(request: HttpRequest, parked_id: int) -> HttpResponse:
    parked = get_object_or_404(ParkedMessage, pk=parked_id)
    try:
        parked, result = inbound.reprocess(actor=request.user, parked_id=parked.pk)
    except DomainError as error:
        count_failed_signature(error)
        return _render_detail(request, parked, error=error)
    if result is None:
        messages.error(request, _("The message was refused again: {error}").format(error=parked.error_message))
    else:
        messages.success(request, _("The message was re-processed."))
    return redirect(reverse("web:parked_message", args=[parked.pk]))


@requires("integration.reprocess")
@require_POST
def parked_discard(request: HttpRequest, parked_id: int) -> HttpResponse:
    parked = get_object_or_404(ParkedMessage, pk=parked_id)
    reason = request.POST.get("reason", "")
    try:
        inbound.discard(actor=request.user, parked_id=parked.pk, reason=reason)
    except DomainError as error:
        count_failed_signature(error)
        return _render_detail(request, parked, error=error, reason=reason)
    messages.success(request, _("The message was discarded."))
    return redirect(reverse("web:parked_message", args=[parked.pk]))


urlpatterns = [
    path("interfaces/parked/", parked_messages, name="parked_messages"),
    path("interfaces/parked/<int:parked_id>/", parked_message, name="parked_message"),
    path("interfaces/parked/<int:parked_id>/reprocess/", parked_reprocess, name="parked_reprocess"),
    path("interfaces/parked/<int:parked_id>/discard/", parked_discard, name="parked_discard"),
]
