"""Reads of the equipment context for screens and the API: lists, due dates, holds, logbook. No writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from batchline.core import clock
from batchline.equipment.choices import CleaningState, EquipmentStatus
from batchline.equipment.models import Calibration, CleaningRecord, Equipment, LogbookEntry, Qualification
from batchline.equipment.usability import (
    PASSED,
    Use,
    calibrated_until,
    calibration_required,
    clean_hold_expires_at,
    dirty_hold_expires_at,
    latest_qualifying,
    qualified_until,
    reasons,
    today,
)

DUE_SOON_DAYS = 30


def equipment(*, room: str = "", kind: str = "", status: str = "", search: str = "",
              include_retired: bool = False) -> QuerySet[Equipment]:
    """The register, filtered, with what the usability check reads already fetched (one query each)."""
    qs = Equipment.objects.select_related("room", "current_product", "last_product", "capacity_unit",
                                          "weighing_unit")
    qs = qs.prefetch_related(Prefetch("qualifications", queryset=Qualification.objects.all()),
                             Prefetch("calibrations", queryset=Calibration.objects.all()))
    if not include_retired:
        qs = qs.filter(active=True)
    if room:
        qs = qs.filter(room__code=room)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(name_zh__icontains=search) | Q(name_en__icontains=search))
    return qs.order_by("code")


def by_code(code: str) -> Equipment | None:
    return equipment(include_retired=True).filter(code=code).first()


def default_use(item: Equipment) -> str:
    """What the list's "usable?" column asks: weighing for a balance, starting production otherwise."""
    return Use.WEIGHING if item.kind == "balance" else Use.PRODUCTION


@dataclass(frozen=True)
class Due:
    equipment: Equipment
    what: str  # "qualification" | "calibration" | "clean_hold" | "dirty_hold"
    due: date | datetime | None  # None: never done
    overdue: bool


def due_dates(*, within_days: int = DUE_SOON_DAYS, at: datetime | None = None,
              items: list[Equipment] | None = None) -> list[Due]:
    """Requalification and calibration due within `within_days` or overdue, and expired or expiring hold
    times, most urgent first (overdue, then by date)."""
    at = at or clock.now()
    on = today(at)
    horizon = on + timedelta(days=within_days)
    out: list[Due] = []
    for item in items if items is not None else equipment():
        qualified = qualified_until(item)
        latest = latest_qualifying(item)
        has_qualification = latest is not None and latest.result in PASSED
        if not has_qualification:
            out.append(Due(item, "qualification", None, True))
        elif qualified is not None and qualified <= horizon:
            out.append(Due(item, "qualification", qualified, qualified <= on))
        if calibration_required(item):
            calibrated = calibrated_until(item)
            if calibrated is None:
                out.append(Due(item, "calibration", None, True))
            elif calibrated <= horizon:
                out.append(Due(item, "calibration", calibrated, calibrated <= on))
        for what, expires in (("clean_hold", clean_hold_expires_at(item)), ("dirty_hold", dirty_hold_expires_at(item))):
            if expires is not None and expires <= at + timedelta(hours=8):
                out.append(Due(item, what, expires, expires <= at))
    return sorted(out, key=lambda d: (not d.overdue, d.due is not None, _sortable(d.due), d.equipment.code))


def _sortable(value: date | datetime | None) -> datetime:
    if value is None:
        return datetime.min.replace(tzinfo=clock.site_zone())
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=clock.site_zone())


def status_counts(items: list[Equipment]) -> dict[str, int]:
    counts = dict.fromkeys(EquipmentStatus.values, 0)
    for item in items:
        counts[item.status] += 1
    return counts


def usable_at_a_glance(items: list[Equipment], *, at: datetime | None = None) -> dict[int, list[Any]]:
    """Per equipment id: the reasons it is not usable for its default use (empty: usable)."""
    at = at or clock.now()
    return {item.pk: reasons(item, for_=default_use(item), at=at) for item in items}


def logbook(item: Equipment, *, kind: str = "", since: datetime | None = None,
            until: datetime | None = None) -> QuerySet[LogbookEntry]:
    """The equipment's logbook in chronological order (oldest first)."""
    qs = LogbookEntry.objects.filter(equipment=item).select_related("actor")
    if kind:
        qs = qs.filter(kind=kind)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    return qs.order_by("occurred_at", "id")


def cleanings(item: Equipment) -> QuerySet[CleaningRecord]:
    return (CleaningRecord.objects.filter(equipment=item)
            .select_related("started_by", "finished_by", "verified_by", "previous_product")
            .order_by("-started_at", "-id"))


def open_cleaning(item: Equipment) -> CleaningRecord | None:
    return cleanings(item).filter(state__in=(CleaningState.IN_PROGRESS, CleaningState.DONE)).first()


def awaiting_verification() -> QuerySet[CleaningRecord]:
    """Finished cleanings waiting for a second person, oldest first (the verifiers' work list)."""
    return (CleaningRecord.objects.filter(state=CleaningState.DONE, equipment__active=True)
            .select_related("equipment", "started_by", "finished_by").order_by("finished_at", "id"))


def qualifications(item: Equipment) -> QuerySet[Qualification]:
    return Qualification.objects.filter(equipment=item).select_related("recorded_by").order_by("-performed_on", "-id")


def calibrations(item: Equipment) -> QuerySet[Calibration]:
    return Calibration.objects.filter(equipment=item).select_related("recorded_by").order_by("-performed_on", "-id")
