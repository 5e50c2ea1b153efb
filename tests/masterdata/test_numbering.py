"""Number rules: configurable, reset per period, never a duplicate (MD-04)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core import clock
from batchline.core.errors import InvalidInput, NotFound, ReasonRequired
from batchline.masterdata.models import IssuedNumber
from batchline.masterdata.numbering import next_number, save_rule
from conftest import requires_postgresql

# 2026-11-22 10:00 in Shanghai; the next day and the next year, as the site sees them.
DAY_1 = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)
DAY_2 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
NEXT_YEAR = dt.datetime(2027, 1, 4, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dt.datetime], None]]:
    """Set the server clock for period tests (which day and year it is decides the counter)."""
    def set_now(moment: dt.datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    yield set_now


@pytest.mark.req("MD-04")
def test_number_follows_the_pattern(steward: Any, at: Callable[[dt.datetime], None]) -> None:
    at(DAY_1)
    save_rule(actor=steward, key="lot", prefix="RM", pattern="{prefix}{yy}{mm}{dd}-{seq:04}", reset="daily")
    assert [next_number("lot"), next_number("lot")] == ["RM261122-0001", "RM261122-0002"]


@pytest.mark.req("MD-04")
def test_site_time_zone_decides_the_date_in_the_number(steward: Any, at: Callable[[dt.datetime], None]) -> None:
    at(dt.datetime(2026, 11, 22, 17, 0, tzinfo=dt.UTC))  # already 23 November in Shanghai
    save_rule(actor=steward, key="lot", pattern="{yyyy}{mm}{dd}{seq:03}", reset="daily")
    assert next_number("lot") == "20261123001"


@pytest.mark.req("MD-04")
def test_daily_counter_resets_the_next_day(steward: Any, at: Callable[[dt.datetime], None]) -> None:
    at(DAY_1)
    save_rule(actor=steward, key="lot", pattern="{yy}{mm}{dd}{seq:03}", reset="daily")
    next_number("lot")
    next_number("lot")
    at(DAY_2)
    assert next_number("lot") == "261123001"


@pytest.mark.req("MD-04")
def test_yearly_counter_keeps_counting_within_the_year(steward: Any, at: Callable[[dt.datetime], None]) -> None:
    at(DAY_1)
    save_rule(actor=steward, key="batch", pattern="B{yyyy}{seq:05}", reset="yearly")
    next_number("batch")
    at(DAY_2)
    assert next_number("batch") == "B202600002"
    at(NEXT_YEAR)
    assert next_number("batch") == "B202700001"


@pytest.mark.req("MD-04")
def test_counter_that_never_resets_keeps_counting(steward: Any, at: Callable[[dt.datetime], None]) -> None:
    at(DAY_1)
    save_rule(actor=steward, key="order", pattern="PO{seq:06}", reset="never")
    next_number("order")
    at(NEXT_YEAR)
    assert next_number("order") == "PO000002"


@pytest.mark.req("MD-04")
def test_pattern_change_that_would_repeat_a_number_skips_past_it(steward: Any,
                                                                 at: Callable[[dt.datetime], None]) -> None:
    at(DAY_1)
    save_rule(actor=steward, key="lot", pattern="L{seq:04}", reset="yearly")
    issued = [next_number("lot"), next_number("lot")]
    # A monthly counter starts again at 1 and would give L0001 and L0002 once more.
    save_rule(actor=steward, key="lot", pattern="L{seq:04}", reset="monthly", reason="monthly counting")
    issued.append(next_number("lot"))
    assert issued == ["L0001", "L0002", "L0003"]
    assert IssuedNumber.objects.filter(number="L0001").count() == 1


@pytest.mark.req("MD-04")
def test_rule_change_needs_a_reason_and_is_audited(steward: Any) -> None:
    rule = save_rule(actor=steward, key="lot", pattern="L{seq:04}")
    with pytest.raises(ReasonRequired):
        save_rule(actor=steward, key="lot", pattern="L{seq:05}")
    save_rule(actor=steward, key="lot", pattern="L{seq:05}", reason="more lots per year")
    entry = AuditEntry.objects.filter(record_type="masterdata.numberrule", record_id=str(rule.pk)).latest("sequence")
    assert (entry.action, entry.reason) == ("update", "more lots per year")
    assert entry.change_items == [("pattern", "L{seq:04}", "L{seq:05}")]


@pytest.mark.req("MD-04")
@pytest.mark.parametrize("pattern", ["L{seq", "L{year}{seq:04}", "L{yyyy}", "L{seq:x5}"])
def test_invalid_pattern_is_refused(steward: Any, pattern: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        save_rule(actor=steward, key="lot", pattern=pattern)
    assert refused.value.field == "pattern"


@pytest.mark.req("MD-04")
@pytest.mark.django_db
def test_unknown_rule_is_refused() -> None:
    with pytest.raises(NotFound):
        next_number("nonexistent")


@pytest.mark.req("MD-04")
@requires_postgresql
def test_concurrent_issuance_never_gives_a_number_twice(committed_db: None) -> None:
    from django.db import connection

    from batchline.identity.services import create_user

    steward = create_user(actor=None, username="steward", full_name="Steward", roles=["data_steward"],
                          initial_password="Batchline-Test-2026!")
    save_rule(actor=steward, key="lot", pattern="L{seq:05}", reset="never")
    threads, per_thread = 8, 10
    start = threading.Barrier(threads)
    issued: list[str] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def issue() -> None:
        try:
            start.wait(timeout=30)
            for _n in range(per_thread):
                number = next_number("lot")
                with guard:
                    issued.append(number)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=issue) for _t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    assert sorted(issued) == [f"L{n:05}" for n in range(1, threads * per_thread + 1)]
