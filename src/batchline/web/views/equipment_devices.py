"""Balances, PLC values and OEE on screen (issue 5; EQ-04, EQ-05).

- The balance page shows what the balance reads now (refreshed by HTMX every few seconds) with its
  stability flag, OPC UA status code and source time, and whether that reading could be used; where
  today's daily check stands; the daily check procedure; and the checks recorded so far.
  The procedure: one row per test weight; the operator puts the weight on the pan and presses "Read
  balance" (the server reads it and keeps the reading in the person's session — the browser never
  supplies a balance reading), or types the reading for a balance without connection; "Record daily
  check" records them all through equipment.balances.perform_daily_check.
- The tag page shows the OPC UA tag mapping with the live values, their quality and limits, and lets
  a manager map, re-map (with a reason) and remove values.
- The OEE page shows availability, performance, quality and OEE per shift of a day, drawn with the
  vendored ECharts, and the OEE trend of the last days per shift.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from batchline.core import clock
from batchline.core.errors import DomainError, InvalidInput
from batchline.equipment import balances, oee, selectors, tags
from batchline.equipment.choices import EquipmentKind, TagKind
from batchline.equipment.errors import EquipmentRetired
from batchline.equipment.models import Equipment, StateEvent
from batchline.equipment.opcua import BalanceReading
from batchline.identity.authz import has_permission
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.models import Unit
from batchline.web.views._guards import acting_user, requires

VIEW, OPERATE, MANAGE = "equipment.view", "equipment.operate", "equipment.manage"
REFRESH_SECONDS = 3
DEFAULT_ROWS = 3
TREND_DAYS = 7
_CAPTURES = "balance-check:{code}"


def _item(code: str, *, balance: bool = False) -> Equipment:
    item = selectors.by_code(code)
    if item is None or (balance and item.kind != EquipmentKind.BALANCE):
        raise Http404
    return item


def _name(item: Equipment) -> str:
    return item.name_zh if (get_language() or "zh-hans").startswith("zh") else item.name_en


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{(value * 100).quantize(Decimal('0.01'))} %"


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value != 0 else "0"
    return str(value)


# --- the balance page ----------------------------------------------------------------------------

def _live(item: Equipment) -> dict[str, Any]:
    """The live reading and whether it would be accepted for weighing now (a verdict, not a result)."""
    if not (item.opcua_endpoint and item.opcua_node):
        return {"reading": None, "error": balances.DeviceNotConnected(equipment=item.code), "verdict": None}
    try:
        reading = balances.live_reading(item)
    except DomainError as error:
        return {"reading": None, "error": error, "verdict": None}
    verdict = None
    try:
        balances.accept(item, reading)
    except DomainError as refusal:
        verdict = refusal
    return {"reading": reading, "error": None, "verdict": verdict, "weight": _text(reading.weight),
            "tare": _text(reading.tare)}


def _captures(request: HttpRequest, item: Equipment) -> dict[str, dict[str, Any]]:
    return dict(request.session.get(_CAPTURES.format(code=item.code), {}))


def _stored(reading: BalanceReading) -> dict[str, Any]:
    values = reading.__dict__.copy()
    for key in ("weight", "gross", "tare"):
        values[key] = _text(values[key]) if values[key] is not None else None
    for key in ("source_timestamp", "server_timestamp"):
        values[key] = values[key].isoformat() if values[key] is not None else None
    return values


def _restored(values: dict[str, Any]) -> BalanceReading:
    data = dict(values)
    for key in ("weight", "gross", "tare"):
        data[key] = Decimal(data[key]) if data[key] is not None else None
    for key in ("source_timestamp", "server_timestamp"):
        data[key] = datetime.fromisoformat(data[key]) if data[key] else None
    return BalanceReading(**data)


def _default_rows(item: Equipment, captures: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The test weights of the last check (the same weights every day), or empty rows; with what the
    person has already read from the balance in this procedure."""
    latest = balances.checks(item).first()
    rows = [{"weight_id": p["weight_id"], "nominal": p["nominal"], "tolerance": p["tolerance"], "reading": ""}
            for p in (latest.points if latest else [])]
    while len(rows) < DEFAULT_ROWS:
        rows.append({"weight_id": "", "nominal": "", "tolerance": "", "reading": ""})
    for index, row in enumerate(rows):
        captured = captures.get(str(index))
        row.update(index=index, captured=captured)
        if captured:
            row.update({k: captured["row"][k] for k in ("weight_id", "nominal", "tolerance")})
    return rows


def _posted_row(post: QueryDict, index: int, captures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {name: post.get(f"{name}_{index}", "").strip()
                           for name in ("weight_id", "nominal", "tolerance", "reading")}
    return {**row, "index": index, "captured": captures.get(str(index))}


def _row_count(post: QueryDict) -> int:
    try:
        return max(0, min(int(post.get("rows", "0")), balances.MAX_CHECK_POINTS))
    except ValueError:
        return 0


def _render_balance(request: HttpRequest, item: Equipment, *, error: DomainError | None = None,
                    rows: list[dict[str, Any]] | None = None, status: int = 200) -> HttpResponse:
    user = acting_user(request)
    captures = _captures(request, item)
    state = balances.check_state(item)
    return render(request, "web/equipment/device_balance.html", {
        "item": item, "state": state, "checks": list(balances.checks(item)[:20]),
        "blocked_at": clock.format_site(state.failed.performed_at) if state.failed else "",
        "can_operate": has_permission(user, OPERATE) and item.active,
        "rows": rows if rows is not None else _default_rows(item, captures), "max_rows": balances.MAX_CHECK_POINTS,
        "live": _live(item), "refresh": REFRESH_SECONDS, "error": error,
        "unit": item.weighing_unit.code if item.weighing_unit else "", "name": _name(item),
        "range": {"readability": _text(item.readability), "minimum_weight": _text(item.minimum_weight),
                  "max_load": _text(item.max_load)},
    }, status=status)


@requires(VIEW)
def balance(request: HttpRequest, code: str) -> HttpResponse:
    return _render_balance(request, _item(code, balance=True))


@requires(VIEW)
def balance_live(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(code, balance=True)
    return render(request, "web/equipment/_balance_live.html", {"item": item, "live": _live(item)})


@requires(OPERATE)
@require_POST
def balance_capture(request: HttpRequest, code: str) -> HttpResponse:
    """Read the balance for one test weight of the procedure (HTMX: the row comes back)."""
    item = _item(code, balance=True)
    try:
        index = int(request.POST.get("index", ""))
    except ValueError:
        raise Http404 from None
    if not 0 <= index < balances.MAX_CHECK_POINTS:
        raise Http404
    captures = _captures(request, item)
    row = _posted_row(request.POST, index, captures)
    try:
        if not item.active:
            raise EquipmentRetired(equipment=item.code)
        reading = balances.accept(item, balances.live_reading(item), check_range=False)
    except DomainError as error:
        row["error"] = error
    else:
        captures[str(index)] = {"reading": _stored(reading), "shown_time": clock.format_site(reading.source_timestamp),
                                "row": {k: row[k] for k in ("weight_id", "nominal", "tolerance")}}
        request.session[_CAPTURES.format(code=item.code)] = captures
        row["captured"] = captures[str(index)]
    return render(request, "web/equipment/_balance_check_row.html", {"row": row, "item": item, "can_operate": True})


@requires(OPERATE)
@require_POST
def balance_check(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(code, balance=True)
    captures = _captures(request, item)
    rows = [_posted_row(request.POST, index, captures) for index in range(_row_count(request.POST))]
    points: list[dict[str, Any]] = []
    readings: list[BalanceReading | None] = []
    try:
        for row in rows:
            if not (row["weight_id"] or row["nominal"] or row["tolerance"] or row["reading"]):
                continue  # an empty row of the form
            if not row["reading"] and not row["captured"]:
                raise InvalidInput(_("Read the balance, or type the reading, for test weight {weight_id}.").format(
                    weight_id=row["weight_id"] or row["index"] + 1), field=f"points.{len(points)}.reading")
            points.append({"weight_id": row["weight_id"], "nominal": row["nominal"], "tolerance": row["tolerance"],
                           "reading": row["reading"] or None})
            readings.append(None if row["reading"] else _restored(row["captured"]["reading"]))
        check = balances.perform_daily_check(actor=acting_user(request), equipment_code=item.code, points=points,
                                             readings=readings)
    except DomainError as error:
        return _render_balance(request, item, error=error, rows=rows, status=error.http_status)
    request.session.pop(_CAPTURES.format(code=item.code), None)
    if check.result == "pass":
        messages.success(request, _("Daily check recorded: passed. The balance may be used for weighing today."))
    else:
        messages.error(request, _("Daily check recorded: FAILED. Weighing on this balance is blocked today."))
    return redirect(reverse("web:equipment_balance", args=[item.code]))


@requires(OPERATE)
@require_POST
def balance_check_reset(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(code, balance=True)
    request.session.pop(_CAPTURES.format(code=item.code), None)
    return redirect(reverse("web:equipment_balance", args=[item.code]))


# --- the tag page --------------------------------------------------------------------------------

def _live_values(item: Equipment) -> dict[str, Any]:
    if not item.tags.exists():
        return {"values": [], "error": None}
    try:
        values = tags.read_process_values(item.code)
    except DomainError as error:
        return {"values": [], "error": error}
    return {"values": [{"v": v, "value": _text(v.value), "low": _text(v.low_limit), "high": _text(v.high_limit)}
                       for v in values], "error": None}


def _render_tags(request: HttpRequest, item: Equipment, *, error: DomainError | None = None,
                 posted: dict[str, str] | None = None, failed: str = "", status: int = 200) -> HttpResponse:
    user = acting_user(request)
    return render(request, "web/equipment/device_tags.html", {
        "item": item, "name": _name(item), "kinds": TagKind.choices, "live": _live_values(item),
        "tags": [{"tag": tag, "low": _text(tag.low_limit), "high": _text(tag.high_limit)}
                 for tag in tags.tags_of(item)],
        "can_manage": has_permission(user, MANAGE) and item.active, "error": error, "posted": posted or {},
        "failed": failed, "refresh": REFRESH_SECONDS * 2,
        "units": Unit.objects.filter(status=RecordStatus.APPROVED).order_by("code").values_list("code", flat=True),
    }, status=status)


@requires(VIEW)
def tag_mapping(request: HttpRequest, code: str) -> HttpResponse:
    return _render_tags(request, _item(code))


@requires(VIEW)
def tags_live(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(code)
    return render(request, "web/equipment/_tags_live.html", {"item": item, "live": _live_values(item)})


@requires(MANAGE)
@require_POST
def tag_save(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(code)
    posted = {name: request.POST.get(name, "").strip() for name in
              ("name", "kind", "node_id", "unit", "low_limit", "high_limit", "reason")}
    try:
        outcome, tag = tags.save_tag(actor=acting_user(request), equipment_code=item.code, name=posted["name"],
                                     kind=posted["kind"], node_id=posted["node_id"], unit=posted["unit"] or None,
                                     low_limit=posted["low_limit"] or None, high_limit=posted["high_limit"] or None,
                                     reason=posted["reason"])
    except DomainError as error:
        return _render_tags(request, item, error=error, posted=posted, failed="save", status=error.http_status)
    if outcome == "created":
        messages.success(request, _("Tag {name} mapped.").format(name=tag.name))
    else:
        messages.success(request, _("Tag {name} changed.").format(name=tag.name))
    return redirect(reverse("web:equipment_tags", args=[item.code]))


@requires(MANAGE)
@require_POST
def tag_remove(request: HttpRequest, code: str, name: str) -> HttpResponse:
    item = _item(code)
    reason = request.POST.get("reason", "")
    try:
        tags.remove_tag(actor=acting_user(request), equipment_code=item.code, name=name, reason=reason)
    except DomainError as error:
        return _render_tags(request, item, error=error, posted={"remove": name, "reason": reason}, failed="remove",
                            status=error.http_status)
    messages.success(request, _("Tag {name} removed.").format(name=name))
    return redirect(reverse("web:equipment_tags", args=[item.code]))


# --- the OEE page --------------------------------------------------------------------------------

def _day(request: HttpRequest, today: date) -> date:
    try:
        day = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return today
    return min(day, today)


def _figure(value: Decimal | None) -> float | None:
    """A ratio as a chart percentage (drawing only; the figures themselves stay Decimal)."""
    return None if value is None else float((value * 100).quantize(Decimal("0.01")))


@requires(VIEW)
def oee_page(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(code)
    now = clock.now()
    today = clock.to_site(now).date()
    day = _day(request, today)
    shifts = oee.shift_oee(item, day, now=now)
    rows = [{"shift": s, "f": s.figures, "availability": _percent(s.figures.availability if s.figures else None),
             "performance": _percent(s.figures.performance if s.figures else None),
             "quality": _percent(s.figures.quality if s.figures else None),
             "oee": _percent(s.figures.oee if s.figures else None),
             "run_hours": _text((s.figures.run_seconds / 3600).quantize(Decimal("0.01"))) if s.figures else "—"}
            for s in shifts]
    days = [day - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    trend: dict[str, list[float | None]] = {s.code: [] for s in oee.shifts()}
    for past in days:
        for item_oee in oee.shift_oee(item, past, now=now):
            trend[item_oee.shift.code].append(_figure(item_oee.figures.oee if item_oee.figures else None))
    chart = {
        "shifts": [s.shift.name for s in shifts],
        "series": {key: [_figure(getattr(s.figures, key)) if s.figures else None for s in shifts]
                   for key in ("availability", "performance", "quality", "oee")},
        "labels": {"availability": pgettext("OEE", "Availability"), "performance": pgettext("OEE", "Performance"),
                   "quality": pgettext("OEE", "Quality"), "oee": _("OEE")},
        "trend": {"days": [d.isoformat() for d in days],
                  "series": [{"name": s.name, "data": trend[s.code]} for s in oee.shifts()]},
    }
    state = StateEvent.objects.filter(equipment=item).order_by("-source_timestamp", "-id").first()
    count = item.count_samples.order_by("-source_timestamp", "-id").first()
    return render(request, "web/equipment/device_oee.html", {
        "item": item, "name": _name(item), "day": day, "today": today, "rows": rows, "chart": chart, "state": state,
        "count": count,
        "previous_day": day - timedelta(days=1), "next_day": day + timedelta(days=1) if day < today else None,
        "ideal_rate": _text(item.ideal_rate_per_minute) if item.ideal_rate_per_minute else None,
    })


urlpatterns = [
    path("equipment/<str:code>/balance/", balance, name="equipment_balance"),
    path("equipment/<str:code>/balance/live/", balance_live, name="equipment_balance_live"),
    path("equipment/<str:code>/balance/capture/", balance_capture, name="equipment_balance_capture"),
    path("equipment/<str:code>/balance/check/", balance_check, name="equipment_balance_check"),
    path("equipment/<str:code>/balance/check/reset/", balance_check_reset, name="equipment_balance_check_reset"),
    path("equipment/<str:code>/tags/", tag_mapping, name="equipment_tags"),
    path("equipment/<str:code>/tags/live/", tags_live, name="equipment_tags_live"),
    path("equipment/<str:code>/tags/save/", tag_save, name="equipment_tag_save"),
    path("equipment/<str:code>/tags/<str:name>/remove/", tag_remove, name="equipment_tag_remove"),
    path("equipment/<str:code>/oee/", oee_page, name="equipment_oee"),
]
