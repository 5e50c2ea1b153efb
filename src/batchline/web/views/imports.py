"""Master-data import screens (MD-05): upload a file, watch the dry run, review it, apply it.

The dry run advances one chunk of rows per request: the progress fragment polls with HTMX every
500 ms and each poll plans the next rows, so no background worker is needed. Without JavaScript a
"Continue" button does the same. Upload and apply are plain POST forms.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from batchline.core.errors import DomainError, InvalidInput
from batchline.masterdata import importing
from batchline.masterdata.models import ImportBatch
from batchline.masterdata.registry import KINDS, Kind, kind_of
from batchline.web.middleware import count_failed_signature
from batchline.web.views._guards import requires

SHOW = ("all", "errors", "changes")


@requires("masterdata.import")
def index(request: HttpRequest) -> HttpResponse:
    """The upload form, the template files and the recent imports. A refused upload (unreadable file)
    comes back here with the message."""
    if request.method == "POST":
        kind = kind_of(request.POST.get("kind", ""))
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput(_("Choose a file to import."), field="file")
        # One byte more than allowed is enough for read_table() to refuse a file that is too large.
        data = upload.read(importing.MAX_FILE_BYTES + 1)
        batch = importing.upload(actor=request.user, kind=kind, filename=upload.name or "", data=data)
        return redirect("web:import_batch", batch.pk)
    return render(request, "web/imports/index.html", {
        "kinds": list(KINDS.values()),
        "batches": [{"batch": b, "kind": KINDS.get(b.kind)} for b in importing.recent_batches()],
        "max_mb": importing.MAX_FILE_BYTES // (1024 * 1024), "max_rows": importing.MAX_ROWS,
        "nav_current": "masterdata",
    })


@requires("masterdata.import")
def template(request: HttpRequest, kind: str) -> HttpResponse:
    """A CSV with the kind's columns and one example row, to fill in."""
    found = kind_of(kind)
    response = HttpResponse(importing.template_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batchline-{found.slug}-import.csv"'
    return response


@requires("masterdata.import")
def batch_page(request: HttpRequest, batch_id: int) -> HttpResponse:
    return _render_batch(request, importing.get_batch(batch_id))


@requires("masterdata.import")
@require_POST
def plan_step(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Plan the next chunk. For HTMX: the updated progress bar, and a redirect to the report when done."""
    batch = importing.plan_next_chunk(actor=request.user, batch_id=batch_id)
    url = reverse("web:import_batch", args=[batch.pk])
    if not request.headers.get("HX-Request"):
        return redirect(url)
    response = render(request, "web/imports/_progress.html", _progress(batch))
    if not _planning(batch):
        response["HX-Redirect"] = url
    return response


@requires("masterdata.import")
@require_POST
def apply(request: HttpRequest, batch_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    change_control_ref = request.POST.get("change_control_ref", "")
    try:
        importing.apply_batch(actor=request.user, batch_id=batch_id, reason=reason,
                              change_control_ref=change_control_ref)
    except DomainError as error:
        count_failed_signature(error)
        return _render_batch(request, importing.get_batch(batch_id), error=error,
                             entered={"reason": reason, "change_control_ref": change_control_ref}, status=422)
    messages.success(request, _("The import was applied. Each new draft and proposed change now awaits "
                                "approval by a second person."))
    return redirect("web:import_batch", batch_id)


@requires("masterdata.import")
@require_POST
def replan(request: HttpRequest, batch_id: int) -> HttpResponse:
    importing.replan(actor=request.user, batch_id=batch_id)
    return redirect("web:import_batch", batch_id)


# --- page content ---------------------------------------------------------------------------------------

def _planning(batch: ImportBatch) -> bool:
    return batch.status in (ImportBatch.Status.UPLOADED, ImportBatch.Status.PLANNING)


def _progress(batch: ImportBatch) -> dict[str, Any]:
    total = batch.row_count
    return {"batch": batch, "polling": _planning(batch), "done": batch.progress, "total": total,
            "percent": batch.progress * 100 // total if total else 100}


def _label(kind: Kind, name: str) -> str:
    if name in kind.model.content_fields:
        return str(capfirst(kind.model._meta.get_field(name).verbose_name))  # type: ignore[union-attr]
    return name


def _shown(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def _in_form_order(kind: Kind, changes: dict[str, list[Any]]) -> list[tuple[str, list[Any]]]:
    """The stored plan is JSON (PostgreSQL does not keep key order): show fields in the form's order."""
    order = {name: i for i, name in enumerate(kind.model.content_fields)}
    return sorted(changes.items(), key=lambda item: order.get(item[0], len(order)))


def _entries(kind: Kind, plan: importing.ImportPlan, show: str) -> list[dict[str, Any]]:
    rows = []
    for entry in plan.entries:
        if show == "errors" and entry.action != importing.ERROR:
            continue
        if show == "changes" and entry.action == importing.UNCHANGED:
            continue
        rows.append({
            "row": entry.row, "code": entry.code, "action": entry.action,
            "action_label": importing.ACTION_LABELS[entry.action],
            "changes": [{"field": name, "label": _label(kind, name), "old": _shown(old), "new": _shown(new),
                         "is_new": old is None} for name, (old, new) in _in_form_order(kind, entry.changes)],
            "errors": [{"field": name, "label": _label(kind, name), "message": message}
                       for name, message in entry.errors],
        })
    return rows


def _render_batch(request: HttpRequest, batch: ImportBatch, *, error: DomainError | None = None,
                  entered: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    kind = kind_of(batch.kind)
    context: dict[str, Any] = {"batch": batch, "kind": kind, "nav_current": "masterdata",
                               "planning": _planning(batch), **_progress(batch)}
    if not _planning(batch):
        plan = importing.plan_of(batch)
        show = request.GET.get("show", "all")
        counts = plan.counts()
        context.update(
            show=show if show in SHOW else "all",
            counts=[{"action": action, "label": label, "count": counts[action]}
                    for action, label in importing.ACTION_LABELS.items()],
            entries=_entries(kind, plan, show),
            error_count=plan.error_count,
            needs_change_control=plan.needs_change_control,
            can_apply=batch.status == ImportBatch.Status.PLANNED and plan.error_count == 0,
            outcome=[{**item, "action_label": importing.ACTION_LABELS[item["action"]]}
                     for item in batch.outcome],
            apply_error=error, entered=entered or {"reason": batch.reason,
                                                   "change_control_ref": batch.change_control_ref},
        )
    return render(request, "web/imports/batch.html", context, status=status)


# Listed before the master-data screens in web/urls.py: "masterdata/<kind>/" would otherwise take
# "masterdata/import/".
urlpatterns = [
    path("masterdata/import/", index, name="import_index"),
    path("masterdata/import/template/<slug:kind>.csv", template, name="import_template"),
    path("masterdata/import/<int:batch_id>/", batch_page, name="import_batch"),
    path("masterdata/import/<int:batch_id>/plan/", plan_step, name="import_plan"),
    path("masterdata/import/<int:batch_id>/apply/", apply, name="import_apply"),
    path("masterdata/import/<int:batch_id>/replan/", replan, name="import_replan"),
]
