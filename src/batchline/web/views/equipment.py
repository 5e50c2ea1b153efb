"""Equipment register, status and logbook, qualification, calibration, cleaning (issue 5; EQ-01..EQ-03).

The workspace lists the register with each item's status and whether it can be used now, and what
is due or overdue. The detail page shows one piece of equipment: "usable? why not", the actions its
status allows the person to take (with the signature dialog where the step is signed), its logbook,
qualification, calibration and cleaning records. Every action calls one equipment service; a refusal
re-renders the page with the message, in the person's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from batchline.compliance.meanings import meaning_for
from batchline.core.errors import DomainError
from batchline.equipment import cleaning, qualification, register, selectors, status
from batchline.equipment.choices import (
    CleaningState,
    CleaningType,
    EquipmentKind,
    EquipmentStatus,
    QualificationStage,
    Result,
)
from batchline.equipment.logbook import describe
from batchline.equipment.models import Equipment
from batchline.equipment.usability import (
    Use,
    calibrated_until,
    calibration_required,
    clean_hold_expires_at,
    dirty_hold_expires_at,
    qualified_until,
    reasons,
)
from batchline.identity.authz import has_permission
from batchline.masterdata.choices import MaterialType, RecordStatus
from batchline.masterdata.models import Material, Room, Unit
from batchline.web import signing
from batchline.web.middleware import count_failed_signature
from batchline.web.views._guards import acting_user, requires

VIEW, MANAGE, OPERATE, VERIFY, QUALIFY, RELEASE = (
    "equipment.view", "equipment.manage", "equipment.operate", "equipment.verify", "equipment.qualify",
    "equipment.release")
LOGBOOK_LIMIT = 200
S = EquipmentStatus
PRODUCT_TYPES = (MaterialType.INTERMEDIATE, MaterialType.BULK, MaterialType.FINISHED)


def _item(code: str) -> Equipment:
    item = selectors.by_code(code)
    if item is None:
        raise Http404
    return item


def _detail_url(item: Equipment) -> str:
    return reverse("web:equipment_detail", args=[item.code])


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the workspace -----------------------------------------------------------------------------------

@requires(VIEW)
def workspace(request: HttpRequest) -> HttpResponse:
    room, kind = request.GET.get("room", ""), request.GET.get("kind", "")
    state, search = request.GET.get("status", ""), request.GET.get("q", "").strip()
    everything = list(selectors.equipment())
    shown = list(selectors.equipment(room=room, kind=kind, status=state if state in S.values else "",
                                     search=search))
    glance = selectors.usable_at_a_glance(shown)
    rows = [{"item": item, "reasons": [_capitalized(str(r)) for r in glance[item.pk]],
             "use": Use(selectors.default_use(item)).label, "qualified_until": qualified_until(item),
             "calibrated_until": calibrated_until(item) if calibration_required(item) else None,
             "needs_calibration": calibration_required(item)} for item in shown]
    counts = selectors.status_counts(everything)
    user = acting_user(request)
    return render(request, "web/equipment/workspace.html", {
        "rows": rows, "due": selectors.due_dates(items=everything),
        "awaiting": list(selectors.awaiting_verification()) if has_permission(user, VERIFY) else None,
        "status_counts": [(value, label, counts[value]) for value, label in S.choices],
        "rooms": Room.objects.filter(status=RecordStatus.APPROVED).order_by("code"),
        "kinds": EquipmentKind.choices, "statuses": S.choices,
        "room": room, "kind": kind, "status": state, "q": search, "usable_count": sum(not r["reasons"] for r in rows),
        "can_manage": has_permission(user, MANAGE),
    })


# --- the detail page ----------------------------------------------------------------------------------

def _meaning(record_type: str, code: str) -> str:
    return meaning_for(record_type, code).label(get_language() or "zh-hans")


def _product_check(request: HttpRequest, item: Equipment) -> tuple[str, list[str] | None]:
    """The optional "could it make product X now?" check (?product=CODE)."""
    code = request.GET.get("product", "").strip()
    if not code:
        return "", None
    material = Material.objects.filter(code=code, status=RecordStatus.APPROVED).first()
    if material is None:
        return code, [_("{code} is not an approved material.").format(code=code)]
    return code, [_capitalized(str(r)) for r in reasons(item, for_=Use.PRODUCTION, product=material)]


def _take_out_choices(user: Any, item: Equipment) -> list[tuple[str, str]]:
    return [(target, str(S(target).label)) for target, permission in status.TAKE_OUT_PERMISSION.items()
            if status.transition(item.status, target, "take_out_of_use") is not None
            and has_permission(user, permission)]


def _render_detail(request: HttpRequest, item: Equipment, *, error: DomainError | None = None,
                   failed_action: str = "") -> HttpResponse:
    user = acting_user(request)
    use = selectors.default_use(item)
    open_cleaning = selectors.open_cleaning(item)
    product_code, product_reasons = _product_check(request, item)
    can = {name: has_permission(user, permission) for name, permission in
           (("operate", OPERATE), ("verify", VERIFY), ("qualify", QUALIFY), ("release", RELEASE),
            ("manage", MANAGE), ("audit", "audit.view"))}
    active = item.active
    context = {
        "item": item, "use_label": Use(use).label,
        "reasons": [_capitalized(str(r)) for r in reasons(item, for_=use)],
        "production_reasons": ([_capitalized(str(r)) for r in reasons(item, for_=Use.PRODUCTION)]
                               if use != Use.PRODUCTION else None),
        "product_code": product_code, "product_reasons": product_reasons,
        "qualified_until": qualified_until(item), "calibration_required": calibration_required(item),
        "calibrated_until": calibrated_until(item), "clean_hold_expires_at": clean_hold_expires_at(item),
        "dirty_hold_expires_at": dirty_hold_expires_at(item),
        "register_rows": _register_rows(item),
        "open_cleaning": open_cleaning,
        "i_cleaned_it": open_cleaning is not None and user.pk in (open_cleaning.started_by_id,
                                                                   open_cleaning.finished_by_id),
        "logbook": [{"entry": entry, "text": describe(entry), "before": _status_label(entry.status_before),
                     "after": _status_label(entry.status_after)}
                    for entry in list(selectors.logbook(item).reverse()[:LOGBOOK_LIMIT])[::-1]],
        "default_clean_type": request.POST.get("clean_type") if error is not None else (
            CleaningType.MAJOR if item.major_clean_required else CleaningType.MINOR),
        "qualifications": selectors.qualifications(item), "calibrations": selectors.calibrations(item),
        "cleanings": selectors.cleanings(item)[:50],
        "products": Material.objects.filter(status=RecordStatus.APPROVED, material_type__in=PRODUCT_TYPES)
                                    .order_by("code"),
        "take_out_choices": _take_out_choices(user, item) if active else [],
        "show": {
            "start_use": active and item.status == S.CLEAN and can["operate"],
            "end_use": active and item.status == S.IN_USE and can["operate"],
            "start_cleaning": active and item.status in (S.DIRTY, S.CLEAN) and can["operate"],
            "finish_cleaning": active and open_cleaning is not None
                               and open_cleaning.state == CleaningState.IN_PROGRESS and can["operate"],
            "verify_cleaning": active and open_cleaning is not None and open_cleaning.state == CleaningState.DONE
                               and can["verify"],
            "release": active and item.status in status.BLOCKED and can["release"],
            "records": active and can["qualify"],
            "retire": active and can["manage"] and item.status not in (S.IN_USE, S.CLEANING),
        },
        "can": can,
        "clean_types": CleaningType.choices, "stages": QualificationStage.choices, "results": Result.choices,
        "meaning_release": _meaning("equipment.equipment", status.RELEASE_MEANING),
        "meaning_verify": _meaning("equipment.cleaningrecord", cleaning.VERIFY_MEANING),
        "meaning_qualification": _meaning("equipment.qualification", qualification.QUALIFICATION_MEANING),
        "meaning_calibration": _meaning("equipment.calibration", qualification.CALIBRATION_MEANING),
        "error": error, "failed_action": failed_action, "posted": request.POST if error is not None else {},
    }
    return render(request, "web/equipment/detail.html", context, status=error.http_status if error else 200)


@requires(VIEW)
def detail(request: HttpRequest, code: str) -> HttpResponse:
    return _render_detail(request, _item(code))


def _act(request: HttpRequest, code: str, action: str, call: Callable[[Equipment], Any], done: str, *,
         signed: bool = False) -> HttpResponse:
    """Run one service for the equipment; a refusal re-renders the page with the message next to the form."""
    item = _item(code)
    try:
        call(item)
    except DomainError as error:
        count_failed_signature(error)  # a wrong signature password counts toward lockout (ES-09)
        return _render_detail(request, _item(code), error=error, failed_action=action)
    if signed:
        signing.mark_signed(request)
    messages.success(request, done)
    return redirect(_detail_url(item))


def _post(request: HttpRequest, name: str) -> str:
    return request.POST.get(name, "")


@requires(OPERATE)
@require_POST
def start_use(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "start_use", lambda item: status.start_use(
        actor=request.user, equipment_id=item.pk, order=_post(request, "order"), product=_post(request, "product")),
        _("{code} is in use.").format(code=code))


@requires(OPERATE)
@require_POST
def end_use(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "end_use", lambda item: status.end_use(
        actor=request.user, equipment_id=item.pk, remarks=_post(request, "remarks")),
        _("Use ended: {code} is dirty and must be cleaned.").format(code=code))


@requires(VIEW)
@require_POST
def take_out_of_use(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "take_out_of_use", lambda item: status.take_out_of_use(
        actor=request.user, equipment_id=item.pk, status=_post(request, "status"), reason=_post(request, "reason")),
        _("{code} is taken out of use.").format(code=code))


@requires(RELEASE)
@require_POST
def release(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "release", lambda item: status.release_equipment(
        actor=request.user, equipment_id=item.pk, reason=_post(request, "reason"),
        signature=signing.signature_request(request, status.RELEASE_MEANING),
        username_required=signing.username_required(request)),
        _("{code} is released; it must get a major clean before use.").format(code=code), signed=True)


@requires(OPERATE)
@require_POST
def cleaning_start(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "start_cleaning", lambda item: cleaning.start_cleaning(
        actor=request.user, equipment_id=item.pk, clean_type=_post(request, "clean_type"),
        procedure_ref=_post(request, "procedure_ref"), next_product=_post(request, "next_product").strip() or None,
        remarks=_post(request, "remarks")), _("Cleaning of {code} started.").format(code=code))


@requires(OPERATE)
@require_POST
def cleaning_finish(request: HttpRequest, code: str, cleaning_id: int) -> HttpResponse:
    return _act(request, code, "finish_cleaning", lambda item: cleaning.finish_cleaning(
        actor=request.user, equipment_id=item.pk, cleaning_id=cleaning_id, remarks=_post(request, "remarks")),
        _("Cleaning finished; a second person must verify it."))


@requires(VERIFY)
@require_POST
def cleaning_verify(request: HttpRequest, code: str, cleaning_id: int) -> HttpResponse:
    return _act(request, code, "verify_cleaning", lambda item: cleaning.verify_cleaning(
        actor=request.user, equipment_id=item.pk, cleaning_id=cleaning_id,
        signature=signing.signature_request(request, cleaning.VERIFY_MEANING),
        username_required=signing.username_required(request)),
        _("Cleaning verified: {code} is clean.").format(code=code), signed=True)


@requires(VERIFY)
@require_POST
def cleaning_reject(request: HttpRequest, code: str, cleaning_id: int) -> HttpResponse:
    return _act(request, code, "reject_cleaning", lambda item: cleaning.reject_cleaning(
        actor=request.user, equipment_id=item.pk, cleaning_id=cleaning_id, reason=_post(request, "reason")),
        _("Cleaning not accepted: {code} is dirty again.").format(code=code))


@requires(QUALIFY)
@require_POST
def record_qualification(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "qualification", lambda item: qualification.record_qualification(
        actor=request.user, equipment_id=item.pk, stage=_post(request, "stage"),
        performed_on=_post(request, "performed_on"), result=_post(request, "result"),
        valid_until=_post(request, "valid_until"), document_ref=_post(request, "document_ref"),
        signature=signing.signature_request(request, qualification.QUALIFICATION_MEANING),
        username_required=signing.username_required(request)),
        _("The qualification is recorded."), signed=True)


def _measurements(request: HttpRequest) -> list[dict[str, str]]:
    """The calibration form's rows of points; a row left empty is not a point."""
    columns = [request.POST.getlist(name) for name in ("nominal", "reading", "tolerance", "point_unit")]
    points = []
    for nominal, reading, tolerance, unit in zip(*columns, strict=False):
        if any(value.strip() for value in (nominal, reading, tolerance)):
            points.append({"nominal": nominal.strip(), "reading": reading.strip(), "tolerance": tolerance.strip(),
                           "unit": unit.strip()})
    return points


@requires(QUALIFY)
@require_POST
def record_calibration(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "calibration", lambda item: qualification.record_calibration(
        actor=request.user, equipment_id=item.pk, performed_on=_post(request, "performed_on"),
        result=_post(request, "result"), due_on=_post(request, "due_on"),
        certificate_ref=_post(request, "certificate_ref"), performed_by=_post(request, "performed_by"),
        measurements=_measurements(request),
        signature=signing.signature_request(request, qualification.CALIBRATION_MEANING),
        username_required=signing.username_required(request)),
        _("The calibration is recorded."), signed=True)


@requires(MANAGE)
@require_POST
def retire(request: HttpRequest, code: str) -> HttpResponse:
    return _act(request, code, "retire", lambda item: register.retire_equipment(
        actor=request.user, equipment_id=item.pk, reason=_post(request, "reason")),
        _("{code} is retired.").format(code=code))


# --- the register form -----------------------------------------------------------------------------

def _label(name: str) -> str:
    return str(capfirst(Equipment._meta.get_field(name).verbose_name))  # type: ignore[union-attr]


ALWAYS_SHOWN = ("code", "name_zh", "name_en", "kind", "room", "clean_hold_hours", "dirty_hold_hours")


def _register_rows(item: Equipment) -> list[dict[str, str]]:
    """The register data as the detail page lists them: empty optional fields are left out."""
    values = register.portable(register.values_of(item))
    rows = []
    for name in register.FIELDS:
        value = values[name]
        if value in (None, "") and name not in ALWAYS_SHOWN:
            continue
        if name == "kind":
            value = EquipmentKind(value).label
        rows.append({"name": name, "label": _label(name), "value": "—" if value in (None, "") else str(value)})
    return rows


def _status_label(value: str) -> str:
    return str(S(value).label) if value in S.values else value


def _inputs(values: dict[str, Any], error: DomainError | None, *, editing: bool) -> list[dict[str, Any]]:
    rooms = [(r.code, f"{r.code} {r.name(get_language() or 'zh-hans')}")
             for r in Room.objects.filter(status=RecordStatus.APPROVED).order_by("code")]
    unit_choices = [(u.code, f"{u.code} {u.name(get_language() or 'zh-hans')}")
                    for u in Unit.objects.filter(status=RecordStatus.APPROVED).order_by("dimension", "code")]
    inputs = []
    for name in register.FIELDS:
        widget = "text"
        choices: list[tuple[str, Any]] | None = None
        if name == "kind":
            widget, choices = "select", EquipmentKind.choices
        elif name == "room":
            widget, choices = "select", rooms
        elif name in register.UNIT_FIELDS:
            widget, choices = "select", unit_choices
        elif name == "product_contact_parts":
            widget = "textarea"
        inputs.append({
            "name": name, "label": _label(name), "widget": widget, "choices": choices,
            "value": "" if values.get(name) is None else str(values[name]),
            "required": name in register.REQUIRED, "readonly": editing and name == "code",
            "inputmode": "decimal" if name in register.DECIMAL_FIELDS else (
                "numeric" if name in register.HOUR_FIELDS else ""),
            "error": error.render() if error is not None and error.field == name else "",
            "group": "balance" if name in register.BALANCE_FIELDS else (
                "opcua" if name in ("opcua_endpoint", "opcua_node", "ideal_rate_per_minute") else "main"),
        })
    return inputs


def _render_form(request: HttpRequest, *, item: Equipment | None, values: dict[str, Any],
                 error: DomainError | None = None, reason: str = "") -> HttpResponse:
    return render(request, "web/equipment/form.html", {
        "item": item, "inputs": _inputs(values, error, editing=item is not None), "reason": reason,
        "error": error, "field_error": error is not None and error.field in register.FIELDS,
        "reason_error": error.render() if error is not None and error.field == "reason" else "",
    }, status=error.http_status if error else 200)


def _submitted(request: HttpRequest, *, editing: bool) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in register.FIELDS if not (editing and name == "code")}


@requires(MANAGE)
def register_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, item=None, values={"kind": EquipmentKind.GRANULATOR})
    values = _submitted(request, editing=False)
    try:
        item = register.register_equipment(actor=request.user, data=values)
    except DomainError as error:
        return _render_form(request, item=None, values=values, error=error)
    messages.success(request, _("{code} is registered. Before first use it needs a major clean, a qualification "
                                "and, for balances and instruments, a calibration.").format(code=item.code))
    return redirect(_detail_url(item))


@requires(MANAGE)
def edit(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(code)
    current = register.portable(register.values_of(item))
    if request.method != "POST":
        return _render_form(request, item=item, values=current)
    values = _submitted(request, editing=True)
    reason = request.POST.get("reason", "")
    # Only what the person changed is sent: an untouched 300 must not become a change from 300.000000.
    changed = {name: value for name, value in values.items() if value.strip() != ("" if current[name] is None
                                                                                    else str(current[name]))}
    try:
        register.change_equipment(actor=request.user, equipment_id=item.pk, data=changed, reason=reason)
    except DomainError as error:
        return _render_form(request, item=item, values={**current, **values}, error=error, reason=reason)
    messages.success(request, _("The register data of {code} are changed.").format(code=item.code))
    return redirect(_detail_url(item))


urlpatterns = [
    path("equipment/", workspace, name="equipment"),
    path("equipment/new/", register_view, name="equipment_register"),
    path("equipment/<str:code>/", detail, name="equipment_detail"),
    path("equipment/<str:code>/edit/", edit, name="equipment_edit"),
    path("equipment/<str:code>/retire/", retire, name="equipment_retire"),
    path("equipment/<str:code>/start-use/", start_use, name="equipment_start_use"),
    path("equipment/<str:code>/end-use/", end_use, name="equipment_end_use"),
    path("equipment/<str:code>/take-out-of-use/", take_out_of_use, name="equipment_take_out_of_use"),
    path("equipment/<str:code>/release/", release, name="equipment_release"),
    path("equipment/<str:code>/cleaning/", cleaning_start, name="equipment_cleaning_start"),
    path("equipment/<str:code>/cleaning/<int:cleaning_id>/finish/", cleaning_finish,
         name="equipment_cleaning_finish"),
    path("equipment/<str:code>/cleaning/<int:cleaning_id>/verify/", cleaning_verify,
         name="equipment_cleaning_verify"),
    path("equipment/<str:code>/cleaning/<int:cleaning_id>/reject/", cleaning_reject,
         name="equipment_cleaning_reject"),
    path("equipment/<str:code>/qualification/", record_qualification, name="equipment_qualification"),
    path("equipment/<str:code>/calibration/", record_calibration, name="equipment_calibration"),
]
