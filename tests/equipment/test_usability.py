"""assert_usable(): the one check (EQ-02, DESIGN.md §3.5). Past calibration or requalification, past the
clean-hold, or not in the right status, equipment is refused with every reason named."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import translation

from batchline.equipment import status
from batchline.equipment.choices import EquipmentStatus
from batchline.equipment.errors import EquipmentNotUsable
from batchline.equipment.models import Equipment
from batchline.equipment.usability import Use, assert_usable, reasons, usability
from equipment.plant import (  # noqa: F401
    BALANCE,
    at_fixture,
    calibrate_fixture,
    clean_fixture,
    eq_fixture,
    fresh,
    qualify_fixture,
    register_fixture,
    usable_fixture,
)

S = EquipmentStatus


def codes(equipment: Any, use: str = Use.PRODUCTION, **kw: Any) -> list[str]:
    return [r.code for r in reasons(fresh(equipment), for_=use, **kw)]


def test_qualified_clean_equipment_is_usable(usable: Any) -> None:
    assert_usable(usable(), for_=Use.PRODUCTION)


@pytest.mark.req("EQ-02")
def test_equipment_never_qualified_is_refused(register: Any, clean: Any) -> None:
    equipment = register()
    clean(equipment)
    assert codes(equipment) == ["not_qualified"]


@pytest.mark.req("EQ-02")
def test_iq_and_oq_alone_do_not_qualify_for_use(register: Any, qualify: Any, clean: Any) -> None:
    equipment = register()
    qualify(equipment, stage="IQ", valid_days=0)
    qualify(equipment, stage="OQ", valid_days=0)
    clean(equipment)
    assert codes(equipment) == ["not_qualified"]
    qualify(equipment, stage="PQ")
    assert codes(equipment) == []


@pytest.mark.req("EQ-02")
def test_equipment_past_its_requalification_date_is_refused(eq: Any, usable: Any, at: Any) -> None:
    equipment = usable()  # PQ valid 365 days
    due = equipment.qualifications.get().valid_until
    at.set(at.now + timedelta(days=364))
    assert codes(equipment) == [] or codes(equipment) == ["clean_hold_expired"]
    at.set(at.now + timedelta(days=1))
    assert "requalification_due" in codes(equipment)
    with pytest.raises(EquipmentNotUsable) as refusal:
        status.start_use(actor=eq.operator, equipment_id=equipment.pk, order="MO-1", product="P-PARA")
    with translation.override("en"):
        assert f"requalification was due on {due}" in refusal.value.render()


@pytest.mark.req("EQ-02")
def test_a_failed_latest_qualification_is_refused_even_with_an_older_valid_one(usable: Any, qualify: Any) -> None:
    equipment = usable()
    qualify(equipment, stage="RQ", result="fail")
    assert "qualification_failed" in codes(equipment)


@pytest.mark.req("EQ-02")
def test_a_failed_pq_is_not_overridden_by_a_later_passed_iq_or_oq(eq: Any, usable: Any, qualify: Any,
                                                                    clean: Any) -> None:
    from batchline.equipment import selectors
    from batchline.equipment.usability import qualified_until
    from conftest import sig

    equipment = usable()  # passed PQ, valid 365 days
    qualify(equipment, stage="PQ", result="fail")  # out of service
    status.release_equipment(actor=eq.qa, equipment_id=equipment.pk, reason="Repaired: WO-17",
                             signature=sig(eq.qa, "release"))
    clean(equipment)
    qualify(equipment, stage="OQ", valid_days=0)  # the repair's OQ passes; the PQ has not been repeated
    assert "qualification_failed" in codes(equipment)
    assert qualified_until(fresh(equipment)) is None
    due = [(d.what, d.due, d.overdue) for d in selectors.due_dates(items=[fresh(equipment)])]
    assert ("qualification", None, True) in due
    qualify(equipment, stage="PQ")
    assert codes(equipment) == []


@pytest.mark.req("EQ-02")
def test_a_balance_past_its_calibration_is_refused_for_weighing(eq: Any, usable: Any, at: Any) -> None:
    balance = usable(BALANCE)  # calibration due in 180 days; no clean-hold on this balance
    assert codes(balance, Use.WEIGHING) == []
    at.set(at.now + timedelta(days=180))
    assert codes(balance, Use.WEIGHING) == ["calibration_due"]
    with pytest.raises(EquipmentNotUsable) as refusal:
        assert_usable(fresh(balance), for_=Use.WEIGHING)
    assert refusal.value.field == "equipment" and refusal.value.code == "equipment_not_usable"


@pytest.mark.req("EQ-02")
def test_a_balance_never_calibrated_is_refused(register: Any, qualify: Any, clean: Any) -> None:
    balance = register(BALANCE)
    qualify(balance)
    clean(balance)
    assert codes(balance, Use.WEIGHING) == ["not_calibrated"]


def test_a_granulator_needs_no_calibration_until_it_has_one(usable: Any, calibrate: Any, at: Any) -> None:
    granulator = usable()
    assert codes(granulator) == []
    calibrate(granulator, due_days=10)  # its temperature probes were calibrated: now it counts
    at.set(at.now + timedelta(days=10))
    assert "calibration_due" in codes(granulator)


@pytest.mark.req("EQ-02")
def test_every_reason_is_listed_at_once(eq: Any, register: Any, at: Any) -> None:
    balance = register(BALANCE)
    assert codes(balance) == ["status", "not_qualified", "not_calibrated"]
    with pytest.raises(EquipmentNotUsable) as refusal:
        assert_usable(fresh(balance), for_=Use.PRODUCTION)
    with translation.override("en"):
        text = refusal.value.render()
    assert "BAL-01" in text and "Dirty" in text and "qualification" in text and "calibration" in text
    assert text.endswith("it has no calibration on record.")


def test_weighing_accepts_a_balance_in_use_but_production_start_needs_it_clean(eq: Any, usable: Any) -> None:
    balance = usable(BALANCE)
    status.start_use(actor=eq.operator, equipment_id=balance.pk, order="MO-1", product="P-PARA")
    assert codes(balance, Use.WEIGHING) == []
    assert codes(balance, Use.PRODUCTION) == ["status"]
    assert codes(balance, Use.CONTINUE) == []


def test_continuing_production_for_another_product_is_refused(eq: Any, usable: Any) -> None:
    equipment = usable()
    status.start_use(actor=eq.operator, equipment_id=equipment.pk, order="MO-1", product="P-PARA")
    assert codes(equipment, Use.CONTINUE, product=eq.products["P-IBU"]) == ["other_product"]


def test_cleaning_does_not_depend_on_qualification(register: Any) -> None:
    equipment = register()
    assert codes(equipment, Use.CLEANING) == []


def test_retired_equipment_is_never_usable(eq: Any, register: Any) -> None:
    from batchline.equipment.register import retire_equipment

    equipment = register()
    retire_equipment(actor=eq.manager, equipment_id=equipment.pk, reason="scrapped")
    assert codes(equipment, Use.CLEANING) == ["retired"]


def test_usability_gives_the_reasons_as_text(register: Any) -> None:
    equipment = register()
    with translation.override("en"):
        texts = usability(Equipment.objects.get(pk=equipment.pk), for_=Use.PRODUCTION)
    assert texts[0].startswith("it is Dirty, but") and len(texts) == 2


def test_the_due_date_is_read_in_the_site_calendar(eq: Any, usable: Any, at: Any) -> None:
    from datetime import UTC, datetime

    balance = usable(BALANCE)
    due = balance.calibrations.get().due_on
    # 23:30 UTC on the day before is already the due day in Suzhou (UTC+8).
    at.set(datetime(due.year, due.month, due.day, tzinfo=UTC) - timedelta(minutes=30))
    assert codes(balance, Use.WEIGHING) == ["calibration_due"]
