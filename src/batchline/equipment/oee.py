"""Overall equipment effectiveness per equipment and shift (EQ-05), from the PackML state events and the
good/reject counters that equipment.tags collects.

For one shift window [start, end) — for the running shift, [start, now):

    planned time  = end − start (the whole shift: Batchline does not model planned stops)
    run time      = the time in the PackML state Execute within the window; the state at the start
                    is the last state entered before it. Time before the first known state counts as
                    not running (unknown is not "running").
    availability  = run time / planned time
    performance   = (total count × ideal cycle time) / run time
                  = total count / (ideal rate per minute × run time in minutes)
    quality       = good count / total count, where total = good + reject
    OEE           = availability × performance × quality

Counts in the window are the increases of the cumulative counters: from the last sample at or before
the start (or, lacking one, the first sample in the window) through the last sample before the end;
a counter that goes down was reset, and counts on from zero. Performance is not capped: above 1 means
the registered ideal rate is too low. A figure is None when it cannot be computed (no state known,
no run time, no ideal rate, nothing counted). Every figure is a Decimal rounded half-up to 4 places
(0.01 %); OEE is computed from the unrounded factors. Times are exact: no floating point anywhere.

Shifts come from settings.BATCHLINE_SHIFTS: [{"code": "A", "start": "06:00", "hours": 8}, ...] in the
site's time zone; the default is three 8-hour shifts from 06:00. A shift belongs to the day it starts
on (the night shift of 2 March runs 22:00 on the 2nd to 06:00 on the 3rd).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from batchline.core import clock
from batchline.equipment.models import CountSample, Equipment, StateEvent

RUNNING = "Execute"
PLACES = Decimal("0.0001")
DEFAULT_SHIFTS: list[dict[str, Any]] = [
    {"code": "A", "start": "06:00", "hours": 8},
    {"code": "B", "start": "14:00", "hours": 8},
    {"code": "C", "start": "22:00", "hours": 8},
]
_NAMES: dict[str, Any] = {"A": _("Early shift"), "B": _("Late shift"), "C": _("Night shift")}


@dataclass(frozen=True)
class Shift:
    code: str
    start: time
    hours: Decimal

    @property
    def name(self) -> str:
        return str(_NAMES.get(self.code, self.code))

    def window(self, day: date) -> tuple[datetime, datetime]:
        """[start, end) of this shift on `day`, as aware datetimes in UTC."""
        begin = datetime.combine(day, self.start, tzinfo=clock.site_zone())
        end = begin + timedelta(seconds=int(self.hours * 3600))
        return begin.astimezone(UTC), end.astimezone(UTC)


def shifts() -> list[Shift]:
    out = []
    for spec in getattr(settings, "BATCHLINE_SHIFTS", DEFAULT_SHIFTS):
        hours, minutes = (int(part) for part in str(spec["start"]).split(":"))
        out.append(Shift(code=str(spec["code"]), start=time(hours, minutes), hours=Decimal(str(spec["hours"]))))
    return out


@dataclass(frozen=True)
class OeeFigures:
    start: datetime
    end: datetime  # the end the figures cover (now, for the running shift)
    planned_seconds: Decimal
    run_seconds: Decimal
    good: int
    reject: int
    availability: Decimal | None
    performance: Decimal | None
    quality: Decimal | None
    oee: Decimal | None

    @property
    def total(self) -> int:
        return self.good + self.reject


def seconds(span: timedelta) -> Decimal:
    """A time span in seconds, exactly (timedelta.total_seconds() is a float)."""
    return Decimal(span.days * 86400 + span.seconds) + Decimal(span.microseconds) / Decimal(1_000_000)


def run_seconds(states: Sequence[tuple[datetime, str]], start: datetime, end: datetime) -> tuple[Decimal, bool]:
    """(seconds in Execute within [start, end), whether any state was known in the window)."""
    ordered = sorted(states)
    current: str | None = None
    since = start
    total = Decimal(0)
    known = False
    for moment, state in ordered:
        if moment <= start:
            current, known = state, True
            continue
        if moment >= end:
            break
        if current == RUNNING:
            total += seconds(moment - since)
        current, since, known = state, moment, True
    if current == RUNNING and end > since:
        total += seconds(end - since)
    return total, known


def counted(samples: Sequence[tuple[datetime, int, int]], start: datetime, end: datetime) -> tuple[int, int]:
    """(good, reject) made within [start, end) from cumulative counter samples (resets count from zero)."""
    ordered = sorted(samples)
    before = [s for s in ordered if s[0] <= start]
    inside = [s for s in ordered if start < s[0] < end]
    if before:
        previous = before[-1]
    elif inside:
        previous, inside = inside[0], inside[1:]
    else:
        return 0, 0
    good = reject = 0
    for sample in inside:
        good += sample[1] - previous[1] if sample[1] >= previous[1] else sample[1]
        reject += sample[2] - previous[2] if sample[2] >= previous[2] else sample[2]
        previous = sample
    return good, reject


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return numerator / denominator if denominator > 0 else None


def _rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(PLACES, rounding=ROUND_HALF_UP)


def compute(*, states: Sequence[tuple[datetime, str]], samples: Sequence[tuple[datetime, int, int]],
            start: datetime, end: datetime, ideal_rate_per_minute: Decimal | None) -> OeeFigures:
    """The OEE figures of one window (the formulas are in the module text)."""
    planned = seconds(end - start) if end > start else Decimal(0)
    run, known = run_seconds(states, start, end)
    good, reject = counted(samples, start, end)
    total = Decimal(good + reject)
    availability = _ratio(run, planned) if known else None
    performance = (_ratio(total * 60, ideal_rate_per_minute * run)
                   if ideal_rate_per_minute and run > 0 and known else None)
    quality = _ratio(Decimal(good), total)
    oee = None
    if availability is not None and performance is not None and quality is not None:
        oee = availability * performance * quality
    return OeeFigures(start=start, end=end, planned_seconds=planned, run_seconds=run, good=good, reject=reject,
                      availability=_rounded(availability), performance=_rounded(performance),
                      quality=_rounded(quality), oee=_rounded(oee))


@dataclass(frozen=True)
class ShiftOee:
    day: date
    shift: Shift
    start: datetime
    end: datetime
    figures: OeeFigures | None  # None: the shift has not begun


def shift_oee(equipment: Equipment, day: date, *, now: datetime | None = None) -> list[ShiftOee]:
    """OEE of each shift that starts on `day` (site calendar); the running shift up to now."""
    now = now or clock.now()
    windows = [(shift, *shift.window(day)) for shift in shifts()]
    if not windows:
        return []
    first, last = min(w[1] for w in windows), max(w[2] for w in windows)
    states = _states(equipment, first, last)
    samples = _samples(equipment, first, last)
    out = []
    for shift, begin, end in windows:
        figures = None
        if begin < now:
            figures = compute(states=states, samples=samples, start=begin, end=min(end, now),
                              ideal_rate_per_minute=equipment.ideal_rate_per_minute)
        out.append(ShiftOee(day=day, shift=shift, start=begin, end=end, figures=figures))
    return out


def _states(equipment: Equipment, first: datetime, last: datetime) -> list[tuple[datetime, str]]:
    carried = StateEvent.objects.filter(equipment=equipment, source_timestamp__lte=first).order_by(
        "-source_timestamp", "-id").first()
    rows = list(StateEvent.objects.filter(equipment=equipment, source_timestamp__gt=first,
                                          source_timestamp__lt=last).values_list("source_timestamp", "state"))
    return ([(carried.source_timestamp, carried.state)] if carried else []) + rows


def _samples(equipment: Equipment, first: datetime, last: datetime) -> list[tuple[datetime, int, int]]:
    carried = CountSample.objects.filter(equipment=equipment, source_timestamp__lte=first).order_by(
        "-source_timestamp", "-id").first()
    rows = list(CountSample.objects.filter(equipment=equipment, source_timestamp__gt=first,
                                           source_timestamp__lt=last)
                .values_list("source_timestamp", "good_count", "reject_count"))
    return ([(carried.source_timestamp, carried.good_count, carried.reject_count)] if carried else []) + rows
