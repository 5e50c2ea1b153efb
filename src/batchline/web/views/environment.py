"""The environment workspace (web:environment): room monitoring (issue 5; EQ-06, AC-06).

* the overview: a tile per approved room coloured by its state (within limits, alert, action, not
  measured), and the alarms not yet closed; both refresh themselves (HTMX polling);
* a room: the latest value of each sensor with its limits and level, a trend chart of the last hours
  (ECharts, vendored; it polls a small JSON endpoint), and the room's alarms — the values and alarms
  refresh without a reload, so an excursion appears while the page is open;
* an alarm: its facts, and the signed acknowledgement (environment.acknowledge);
* limits: per grade (the documented defaults or the site's) and per room; changed with a reason by
  environment.configure;
* sensors: the registered devices (AC-06), registration and changes; refused readings.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.dateparse import parse_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from batchline.compliance.meanings import meaning_for
from batchline.compliance.signatures import SignatureRequest, signature_applies
from batchline.core.errors import DomainError, InvalidInput
from batchline.environment import selectors, services
from batchline.environment.choices import AlarmState, Level, Parameter, Rejection
from batchline.environment.limits import Limits, default_limits
from batchline.environment.models import Alarm, GradeLimit, RoomLimit, Sensor
from batchline.identity.authz import has_permission
from batchline.masterdata.choices import CleanroomGrade
from batchline.masterdata.models import Room
from batchline.web import signing
from batchline.web.middleware import count_failed_signature
from batchline.web.views._guards import acting_user, requires

VIEW, CONFIGURE, ACKNOWLEDGE = "environment.view", "environment.configure", "environment.acknowledge"
NAV = "environment"
PAGE_SIZE = 50
REFRESH_SECONDS = 4  # how often the open pages ask for new values
ACK_MEANING = "acknowledge"
# Colours of the levels, the same on tiles, badges and chart (app.css, environment section).
LEVEL_COLOURS = {"alert": "#b7791f", "action": "#b42318", "ok": "#1d6b40"}


def _room(code: str) -> Room:
    room = selectors.room_by_code(code)
    if room is None:
        raise Http404
    return room


def _signature(request: HttpRequest, meaning: str) -> SignatureRequest:
    """The dialog's fields; after the first signature of the session the password alone (ES-05)."""
    request_ = signing.signature_request(request, meaning)
    if request_.username is None and not signing.username_required(request):
        request_ = dataclasses.replace(request_, username=acting_user(request).username)
    return request_


def _level_label(level: str) -> str:
    return str(Level(level).label) if level else _("Not measured")


# --- overview --------------------------------------------------------------------------------------

def _overview_context(request: HttpRequest) -> dict[str, Any]:
    views = selectors.room_views()
    return {
        "rooms": [view for view in views if view.monitored],
        "unmonitored": [view.room for view in views if not view.monitored],
        "alarms": list(selectors.alarms(unclosed=True)[:100]),
        "counts": {state: sum(1 for v in views if v.monitored and v.state == state) for state in ("ok", "alert",
                                                                                                   "action")},
        "refresh": REFRESH_SECONDS,
    }


@requires(VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    return render(request, "web/environment/overview.html", {
        **_overview_context(request), "nav_current": NAV,
        "can_configure": has_permission(user, CONFIGURE),
    })


@requires(VIEW)
def overview_live(request: HttpRequest) -> HttpResponse:
    """The tiles and open alarms alone: what the overview polls."""
    return render(request, "web/environment/_overview_live.html", _overview_context(request))


# --- a room ------------------------------------------------------------------------------------------

def _room_context(room: Room) -> dict[str, Any]:
    view = selectors.room_view(room)
    return {"view": view, "room": room, "alarms": list(selectors.alarms(room=room)[:20]),
            "refresh": REFRESH_SECONDS, "level_label": _level_label(view.state)}


@requires(VIEW)
def room_status(request: HttpRequest, code: str) -> HttpResponse:
    room = _room(code)
    return render(request, "web/environment/room.html", {
        **_room_context(room), "nav_current": NAV, "hours": selectors.TREND_HOURS,
        "chart_labels": {"alert": _("Alert limit"), "action": _("Action limit"), "empty": _("No readings yet.")},
        "colours": LEVEL_COLOURS,
    })


@requires(VIEW)
def room_live(request: HttpRequest, code: str) -> HttpResponse:
    """The room's values and alarms alone: what the room page polls."""
    return render(request, "web/environment/_room_live.html", _room_context(_room(code)))


@requires(VIEW)
def room_trend(request: HttpRequest, code: str) -> JsonResponse:
    """The chart's data: per sensor, [measured at (ms), value, quality] of the last hours, and limits."""
    try:
        hours = min(48.0, max(0.25, float(request.GET.get("hours", selectors.TREND_HOURS))))
    except ValueError:
        hours = selectors.TREND_HOURS
    data = selectors.trend(_room(code), hours)
    data["since"] = data["since"].isoformat()
    data["state_label"] = _level_label(data["state"])
    return JsonResponse(data)


# --- alarms ------------------------------------------------------------------------------------------

@requires(VIEW)
def alarm_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "unclosed")
    room_code = request.GET.get("room", "").strip()
    room = selectors.room_by_code(room_code) if room_code else None
    if state == "unclosed":
        rows = selectors.alarms(room=room, unclosed=True)
    elif state in AlarmState.values:
        rows = selectors.alarms(room=room, state=state)
    else:
        state, rows = "", selectors.alarms(room=room)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/environment/alarms.html", {
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")), "query": query.urlencode(),
        "state": state, "states": [("unclosed", _("Not closed")), *AlarmState.choices, ("", _("All"))],
        "room_code": room_code, "rooms": selectors.monitored_rooms(), "nav_current": NAV,
    })


def _render_alarm(request: HttpRequest, alarm: Alarm, *, error: DomainError | None = None,
                  comment: str = "") -> HttpResponse:
    user = acting_user(request)
    signatures = [(alarm.signature, signature_applies(alarm.signature, alarm))] if alarm.signature else []
    return render(request, "web/environment/alarm.html", {
        "alarm": alarm, "excursion": getattr(alarm, "excursion", None), "signatures": signatures,
        "can_acknowledge": alarm.state == AlarmState.OPEN and has_permission(user, ACKNOWLEDGE),
        "meaning_label": meaning_for(services.ALARM_RECORD_TYPE, ACK_MEANING).label(get_language() or "zh-hans"),
        "signature_username_required": signing.username_required(request),
        "can_read_audit": has_permission(user, "audit.view"),
        "error": error, "comment": comment, "nav_current": NAV,
    }, status=error.http_status if error else 200)


def _alarm(alarm_id: int) -> Alarm:
    alarm = selectors.alarms().filter(pk=alarm_id).select_related("opened_by", "cleared_by").first()
    if alarm is None:
        raise Http404
    return alarm


@requires(VIEW)
def alarm_detail(request: HttpRequest, alarm_id: int) -> HttpResponse:
    return _render_alarm(request, _alarm(alarm_id))


@requires(ACKNOWLEDGE)
@require_POST
def alarm_acknowledge(request: HttpRequest, alarm_id: int) -> HttpResponse:
    comment = request.POST.get("comment", "")
    try:
        alarm = services.acknowledge_alarm(actor=acting_user(request), alarm_id=alarm_id, comment=comment,
                                           signature=_signature(request, ACK_MEANING),
                                           username_required=signing.username_required(request))
    except DomainError as error:
        count_failed_signature(error)  # a wrong password counts toward lockout (ES-09)
        return _render_alarm(request, _alarm(alarm_id), error=error, comment=comment)
    signing.mark_signed(request)
    messages.success(request, _("Alarm {alarm} is acknowledged.").format(alarm=alarm))
    return redirect(reverse("web:environment_alarm", args=[alarm.pk]))


# --- limits -------------------------------------------------------------------------------------------

@requires(VIEW)
def limits(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    overrides = (RoomLimit.objects.filter(active=True).select_related("room", "changed_by")
                 .order_by("room__code", "parameter"))
    return render(request, "web/environment/limits.html", {
        "grades": _grade_rows(), "overrides": overrides, "can_configure": has_permission(user, CONFIGURE),
        "rooms": selectors.monitored_rooms(), "parameters": Parameter.choices, "nav_current": NAV,
    })


def _grade_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for row in selectors.grade_table():
        if not row["limits"].is_set and row["source"] == "default":
            continue  # nothing is monitored for this parameter of this grade
        rows.append(row)
    return rows


_LIMIT_NAMES = ("action_low", "alert_low", "alert_high", "action_high")


def _limit_target(request: HttpRequest) -> tuple[str, Room | None, str]:
    """(grade, room, parameter) the form edits: ?grade=B&parameter=… or ?room=R101&parameter=…."""
    source = request.POST if request.method == "POST" else request.GET
    parameter = source.get("parameter", "")
    if parameter not in Parameter.values:
        raise Http404
    room_code = source.get("room", "").strip()
    if room_code:
        room = _room(room_code)
        return room.cleanroom_grade, room, parameter
    grade = source.get("grade", "")
    if grade not in CleanroomGrade.values:
        raise Http404
    return grade, None, parameter


def _current_limits(grade: str, room: Room | None, parameter: str) -> tuple[Limits, Any]:
    if room is not None:
        row: Any = RoomLimit.objects.filter(room=room, parameter=parameter, active=True).first()
        source = selectors.limits_in_force([room])[(room.pk, parameter)]
        return source.limits, row
    row = GradeLimit.objects.filter(grade=grade, parameter=parameter, active=True).first()
    return (Limits.of(row) if row else default_limits(grade, parameter)), row


@requires(CONFIGURE)
def limit_edit(request: HttpRequest) -> HttpResponse:
    grade, room, parameter = _limit_target(request)
    current, row = _current_limits(grade, room, parameter)
    error: DomainError | None = None
    values = {name: "" if getattr(current, name) is None else format(getattr(current, name), "f")
              for name in _LIMIT_NAMES}
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        revert = "revert" in request.POST
        values = {name: request.POST.get(name, "").strip() for name in _LIMIT_NAMES}
        try:
            new = None if revert else services.parse_limits(values)
            if room is not None:
                services.set_room_limits(actor=acting_user(request), room_code=room.code, parameter=parameter,
                                         limits=new, reason=reason)
            else:
                services.set_grade_limits(actor=acting_user(request), grade=grade, parameter=parameter, limits=new,
                                          reason=reason)
        except DomainError as failure:
            error = failure
        else:
            messages.success(request, _("The limits are saved."))
            return redirect(reverse("web:environment_limits"))
    return render(request, "web/environment/limit_form.html", {
        "grade": grade, "grade_label": CleanroomGrade(grade).label, "room": room, "parameter": parameter,
        "parameter_label": Parameter(parameter).label, "unit": services.UNITS[parameter], "values": values,
        "default": default_limits(grade, parameter), "own": row, "reason": reason, "error": error,
        "error_field": (error.field or "") if error else "", "nav_current": NAV,
    }, status=error.http_status if error else 200)


# --- sensors ------------------------------------------------------------------------------------------

@requires(VIEW)
def sensors(request: HttpRequest) -> HttpResponse:
    """The registered sensors; a POST registers one (environment.configure)."""
    if request.method == "POST":
        return _register_sensor(request)
    return _render_sensors(request)


def _render_sensors(request: HttpRequest, *, error: DomainError | None = None,
                    posted: dict[str, str] | None = None) -> HttpResponse:
    user = acting_user(request)
    rows = Sensor.objects.select_related("room", "state").order_by("room__code", "parameter", "device_id")
    return render(request, "web/environment/sensors.html", {
        "sensors": rows, "rooms": selectors.monitored_rooms(), "parameters": Parameter.choices,
        "can_configure": has_permission(user, CONFIGURE), "error": error,
        "error_field": (error.field or "") if error else "", "posted": posted or {}, "nav_current": NAV,
        "rejected_count": selectors.rejected().count(),
    }, status=error.http_status if error else 200)


def _date(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    parsed = parse_date(value.strip())
    if parsed is None:
        raise InvalidInput(_("Enter a date as YYYY-MM-DD."), field=field)
    return parsed


def _register_sensor(request: HttpRequest) -> HttpResponse:
    posted = {k: request.POST.get(k, "") for k in ("device_id", "room", "parameter", "description",
                                                  "calibrated_until", "reason")}
    try:
        sensor = services.register_sensor(actor=acting_user(request), reason=posted["reason"],
                                          registration=services.SensorRegistration(
                                              device_id=posted["device_id"], room=posted["room"],
                                              parameter=posted["parameter"], description=posted["description"],
                                              calibrated_until=_date(posted["calibrated_until"], "calibrated_until")))
    except DomainError as error:
        return _render_sensors(request, error=error, posted=posted)
    messages.success(request, _("Sensor {sensor} is registered.").format(sensor=sensor.device_id))
    return redirect(reverse("web:environment_sensors"))


@requires(VIEW)
def sensor_detail(request: HttpRequest, device_id: str) -> HttpResponse:
    sensor = Sensor.objects.select_related("room", "registered_by", "state").filter(device_id=device_id).first()
    if sensor is None:
        raise Http404
    error: DomainError | None = None
    posted: dict[str, str] = {}
    if request.method == "POST":
        if not has_permission(acting_user(request), CONFIGURE):
            return redirect(reverse("web:environment_sensor", args=[device_id]))
        posted = {k: request.POST.get(k, "") for k in ("active", "calibrated_until", "description", "reason")}
        try:
            services.change_sensor(actor=acting_user(request), device_id=device_id, reason=posted["reason"],
                                   active=posted["active"] == "on",
                                   calibrated_until=_date(posted["calibrated_until"], "calibrated_until"),
                                   description=posted["description"])
        except DomainError as failure:
            error = failure
        else:
            messages.success(request, _("Sensor {sensor} is changed.").format(sensor=device_id))
            return redirect(reverse("web:environment_sensor", args=[device_id]))
    return render(request, "web/environment/sensor.html", {
        "sensor": sensor, "state": getattr(sensor, "state", None),
        "readings": selectors.readings(sensor=sensor).order_by("-source_ts")[:50],
        "can_configure": has_permission(acting_user(request), CONFIGURE), "error": error,
        "error_field": (error.field or "") if error else "", "posted": posted, "nav_current": NAV,
    }, status=error.http_status if error else 200)


@requires(VIEW)
def rejected(request: HttpRequest) -> HttpResponse:
    return render(request, "web/environment/rejected.html", {
        "page": Paginator(selectors.rejected(), PAGE_SIZE).get_page(request.GET.get("page")), "query": "",
        "reasons": dict(Rejection.choices), "nav_current": NAV,
    })


urlpatterns = [
    path("environment/", overview, name="environment"),
    path("environment/live/", overview_live, name="environment_live"),
    path("environment/rooms/<str:code>/", room_status, name="environment_room"),
    path("environment/rooms/<str:code>/live/", room_live, name="environment_room_live"),
    path("environment/rooms/<str:code>/trend.json", room_trend, name="environment_room_trend"),
    path("environment/alarms/", alarm_list, name="environment_alarms"),
    path("environment/alarms/<int:alarm_id>/", alarm_detail, name="environment_alarm"),
    path("environment/alarms/<int:alarm_id>/acknowledge/", alarm_acknowledge, name="environment_acknowledge"),
    path("environment/limits/", limits, name="environment_limits"),
    path("environment/limits/edit/", limit_edit, name="environment_limit_edit"),
    path("environment/sensors/", sensors, name="environment_sensors"),
    path("environment/sensors/<str:device_id>/", sensor_detail, name="environment_sensor"),
    path("environment/rejected/", rejected, name="environment_rejected"),
]
