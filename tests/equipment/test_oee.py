"""OEE = availability × performance × quality per shift (EQ-05), exactly, from PackML state events and
cumulative counters: hand-computed windows, counter resets, unknown states, shifts from the settings, and
the figures of collected data through the whole chain (simulator → collection → shift OEE)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from batchline.equipment import oee
from batchline.equipment.oee import compute, counted, run_seconds, shift_oee, shifts
from batchline.equipment.tags import collect_states_and_counts
from equipment.devices import press_fixture  # noqa: F401
from equipment.plant import at_fixture, eq_fixture, qualify_fixture, register_fixture  # noqa: F401

SITE = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 2)


def site(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SITE)


START, END = site(6), site(14)  # the early shift

# Idle before the shift; Execute 06:30–10:30 and 11:00–13:00: 6 h of run time in 8 h.
STATES = [(site(5), "Idle"), (site(6, 30), "Execute"), (site(10, 30), "Held"), (site(11), "Execute"),
          (site(13), "Stopped"), (site(15), "Execute")]
# 972 000 tablets made in the shift, 9 720 of them rejected.
SAMPLES = [(site(5, 50), 1_000, 10), (site(10, 30), 501_000, 5_010), (site(13), 963_280, 9_730),
           (site(14, 30), 999_999, 9_999)]


@pytest.mark.req("EQ-05")
def test_oee_of_a_shift_is_availability_times_performance_times_quality_exactly() -> None:
    figures = compute(states=STATES, samples=SAMPLES, start=START, end=END, ideal_rate_per_minute=Decimal("3000"))

    assert (figures.planned_seconds, figures.run_seconds) == (Decimal(28800), Decimal(21600))
    assert (figures.good, figures.reject, figures.total) == (962_280, 9_720, 972_000)
    assert figures.availability == Decimal("0.7500")  # 6 h / 8 h
    assert figures.performance == Decimal("0.9000")  # 972 000 / (3000 /min × 360 min)
    assert figures.quality == Decimal("0.9900")  # 962 280 / 972 000
    assert figures.oee == Decimal("0.6683")  # 0.75 × 0.9 × 0.99 = 0.66825, half up


@pytest.mark.req("EQ-05")
def test_the_state_at_the_shift_start_is_carried_over_from_before() -> None:
    states = [(site(4), "Execute"), (site(7), "Suspended"), (site(7, 30), "Execute")]

    assert run_seconds(states, START, END) == (Decimal(7 * 3600 + 30 * 60), True)


def test_time_before_the_first_known_state_is_not_run_time() -> None:
    assert run_seconds([(site(8), "Execute")], START, END) == (Decimal(6 * 3600), True)


def test_without_any_state_availability_and_oee_are_unknown() -> None:
    figures = compute(states=[], samples=SAMPLES, start=START, end=END, ideal_rate_per_minute=Decimal("3000"))

    assert (figures.availability, figures.performance, figures.oee) == (None, None, None)
    assert figures.quality == Decimal("0.9900")


def test_without_an_ideal_rate_performance_is_unknown() -> None:
    figures = compute(states=STATES, samples=SAMPLES, start=START, end=END, ideal_rate_per_minute=None)

    assert figures.availability == Decimal("0.7500") and figures.performance is None and figures.oee is None


@pytest.mark.req("EQ-05")
def test_a_counter_reset_counts_on_from_zero() -> None:
    samples = [(site(5), 500, 5), (site(9), 800, 8), (site(10), 100, 1), (site(12), 400, 4)]

    assert counted(samples, START, END) == (300 + 100 + 300, 3 + 1 + 3)


def test_without_a_sample_before_the_shift_counting_starts_at_the_first_one() -> None:
    assert counted([(site(7), 100, 1), (site(9), 250, 3)], START, END) == (150, 2)


def test_times_are_exact_to_the_microsecond() -> None:
    assert oee.seconds(timedelta(hours=1, microseconds=250)) == Decimal("3600.000250")


@pytest.mark.req("EQ-05")
def test_three_eight_hour_shifts_from_six_in_the_site_time_zone_by_default() -> None:
    windows = [(shift.code, *shift.window(DAY)) for shift in shifts()]

    assert windows == [("A", site(6), site(14)), ("B", site(14), site(22)), ("C", site(22), site(6, day=3))]


def test_shifts_come_from_the_settings(settings: Any) -> None:
    settings.BATCHLINE_SHIFTS = [{"code": "D", "start": "07:30", "hours": 12}, {"code": "N", "start": "19:30",
                                                                                "hours": 12}]

    assert [(s.code, s.window(DAY)) for s in shifts()] == [("D", (site(7, 30), site(19, 30))),
                                                          ("N", (site(19, 30), site(7, 30, day=3)))]


@pytest.mark.req("EQ-05", "EQ-04")
def test_shift_oee_from_states_and_counts_collected_from_the_press(eq: Any, press: Any, sim: Any) -> None:
    """Simulator → OPC UA → collection → StateEvent/CountSample → OEE of the early shift, up to 10:00."""
    for moment, state, good, reject in ((site(5, 50), "Idle", 0, 0), (site(6), "Execute", 0, 0),
                                        (site(8), "Held", 300_000, 3_000), (site(8, 30), "Execute", 0, 0),
                                        (site(10, 30), "Execute", 270_000, 3_000)):
        sim.set_state("TP-01", state, at=moment)
        if good or reject or moment == site(5, 50):
            sim.add_counts("TP-01", good=good, reject=reject, at=moment)
        collect_states_and_counts("TP-01")

    early, late, night = shift_oee(press, DAY, now=site(10))

    figures = early.figures
    assert figures is not None and figures.end == site(10)
    assert (figures.planned_seconds, figures.run_seconds) == (Decimal(4 * 3600), Decimal(3 * 3600 + 30 * 60))
    assert (figures.good, figures.reject) == (300_000, 3_000)  # the 10:30 sample lies after "now"
    assert figures.availability == Decimal("0.8750")  # 3.5 h / 4 h
    assert figures.performance == Decimal("0.4810")  # 303 000 / (3000 × 210 min) = 0.480952…
    assert figures.quality == Decimal("0.9901")  # 300 000 / 303 000
    assert figures.oee == Decimal("0.4167")  # 0.875 × 303 000/630 000 × 300 000/303 000 = 0.416666…
    assert late.figures is None and night.figures is None  # not begun at 10:00
