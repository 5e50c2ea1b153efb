"""Time: stored in UTC, shown in the site's time zone (DESIGN.md §3.7)."""

from __future__ import annotations

import datetime as dt

import pytest

from batchline.core import clock


@pytest.mark.req("ES-01")
def test_format_site_shows_shanghai_time_with_zone_and_offset() -> None:
    moment = dt.datetime(2026, 11, 22, 6, 3, 7, tzinfo=dt.UTC)
    assert clock.format_site(moment) == "2026-11-22 14:03:07 CST (UTC+08:00)"


def test_format_site_of_nothing_is_empty() -> None:
    assert clock.format_site(None) == ""


@pytest.mark.req("AT-05")
def test_server_clock_is_timezone_aware_utc() -> None:
    current = clock.now()
    assert current.utcoffset() == dt.timedelta(0)
