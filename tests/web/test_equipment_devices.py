"""The balance, tag and OEE screens (EQ-04, EQ-05): the live reading with its status and source time, the
daily check procedure with readings taken by the server from the balance, the tag mapping with live
values, and OEE per shift — against the real OPC UA device simulator."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from batchline.equipment.models import BalanceCheck, EquipmentTag
from batchline.equipment.tags import collect_states_and_counts
from equipment.devices import balance_fixture, checked_fixture, press_fixture  # noqa: F401
from equipment.plant import (  # noqa: F401
    at_fixture,
    calibrate_fixture,
    clean_fixture,
    eq_fixture,
    qualify_fixture,
    register_fixture,
    usable_fixture,
)


def client_for(user: Any, language: str = "zh-hans") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def error_code(html: str) -> str | None:
    found = re.search(r'data-testid="error" data-code="([^"]+)"', html)
    return found.group(1) if found else None


def check_form(rows: list[dict[str, str]]) -> dict[str, str]:
    data = {"rows": str(len(rows))}
    for index, row in enumerate(rows):
        data.update({f"{key}_{index}": value for key, value in row.items()})
    return data


@pytest.mark.req("EQ-04")
def test_the_balance_page_shows_the_live_reading_with_status_and_source_time(eq: Any, balance: Any,
                                                                            sim: Any) -> None:
    sim.set_weight("BAL-01", "3.217", stable=False)

    html = client_for(eq.operator).get(reverse("web:equipment_balance", args=["BAL-01"])).content.decode()

    assert 'data-testid="live-weight">3.217<' in html
    assert 'data-stable="no"' in html
    assert 'data-testid="live-status">Good<' in html
    assert re.search(r'data-testid="live-source-time">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CST', html)
    assert 'data-code="weight_not_stable"' in html  # the verdict names why it could not be used
    assert 'data-usable="no"' in html


@pytest.mark.req("EQ-04")
def test_the_live_reading_of_an_unreachable_balance_says_so(eq: Any, balance: Any) -> None:
    from batchline.equipment.register import change_equipment
    from plugins.opcua import free_port

    change_equipment(actor=eq.manager, equipment_id=balance.pk,
                     data={"opcua_endpoint": f"opc.tcp://127.0.0.1:{free_port()}/"}, reason="Gateway moved")

    html = client_for(eq.operator).get(reverse("web:equipment_balance_live", args=["BAL-01"])).content.decode()

    assert 'data-code="device_unreachable"' in html


@pytest.mark.req("EQ-04")
def test_the_daily_check_procedure_reads_each_test_weight_from_the_balance(eq: Any, balance: Any,
                                                                          sim: Any) -> None:
    client = client_for(eq.operator)
    rows = [{"weight_id": "TW-1KG", "nominal": "1", "tolerance": "0.002", "reading": ""},
            {"weight_id": "TW-10KG", "nominal": "10", "tolerance": "0.005", "reading": ""}]
    capture = reverse("web:equipment_balance_capture", args=["BAL-01"])
    sim.set_weight("BAL-01", "1.001")
    first = client.post(capture, {**check_form(rows), "index": "0"}, headers={"hx-request": "true"}).content.decode()
    sim.set_weight("BAL-01", "10.002")
    client.post(capture, {**check_form(rows), "index": "1"}, headers={"hx-request": "true"})
    assert 'data-testid="captured-0">1.001 kg<' in first

    response = client.post(reverse("web:equipment_balance_check", args=["BAL-01"]), check_form(rows))

    assert response.status_code == 302
    check = BalanceCheck.objects.get()
    assert check.result == "pass" and [p["reading"] for p in check.points] == ["1.001", "10.002"]
    assert {p["source"] for p in check.points} == {"balance"}
    page = client.get(response["Location"]).content.decode()
    assert 'data-usable="yes"' in page and f'data-testid="check-{check.pk}" data-result="pass"' in page


def test_a_reading_the_browser_sends_as_captured_is_not_trusted(eq: Any, balance: Any, sim: Any) -> None:
    """Without a server-side capture (and without a typed reading) the row is refused, whatever is posted."""
    rows = [{"weight_id": "TW-1KG", "nominal": "1", "tolerance": "0.002", "reading": "", "captured": "1.000"}]

    response = client_for(eq.operator).post(reverse("web:equipment_balance_check", args=["BAL-01"]), check_form(rows))

    assert response.status_code == 422 and error_code(response.content.decode()) == "invalid_input"
    assert not BalanceCheck.objects.exists()


@pytest.mark.req("EQ-04")
def test_an_unstable_weight_is_not_captured(eq: Any, balance: Any, sim: Any) -> None:
    sim.set_weight("BAL-01", "1.000", stable=False)
    rows = [{"weight_id": "TW-1KG", "nominal": "1", "tolerance": "0.002", "reading": ""}]

    html = client_for(eq.operator).post(reverse("web:equipment_balance_capture", args=["BAL-01"]),
                                        {**check_form(rows), "index": "0"}).content.decode()

    assert 'data-code="weight_not_stable"' in html and 'data-testid="captured-0"' not in html


@pytest.mark.req("EQ-04")
def test_a_failed_check_is_shown_as_blocking_weighing_today(eq: Any, balance: Any, sim: Any) -> None:
    rows = [{"weight_id": "TW-2KG", "nominal": "2", "tolerance": "0.002", "reading": "2.010"}]
    client = client_for(eq.operator)

    response = client.post(reverse("web:equipment_balance_check", args=["BAL-01"]), check_form(rows), follow=True)

    html = response.content.decode()
    assert 'data-usable="no"' in html and 'data-result="fail"' in html
    assert BalanceCheck.objects.get().points[0]["source"] == "manual"


def test_the_daily_check_needs_the_operate_permission(eq: Any, balance: Any) -> None:
    response = client_for(eq.manager).post(reverse("web:equipment_balance_check", args=["BAL-01"]),
                                           check_form([]))

    assert response.status_code == 403


@pytest.mark.req("EQ-04")
def test_the_tag_page_shows_live_values_with_quality_and_limits(eq: Any, press: Any, sim: Any) -> None:
    sim.set_process_value("TP-01", "CompressionForce", "16.5")  # high limit 16
    sim.set_process_value("TP-01", "TurretSpeed", "50", status="BadSensorFailure")

    html = client_for(eq.operator).get(reverse("web:equipment_tags", args=["TP-01"])).content.decode()

    assert 'data-testid="value-compression_force" data-good="yes" data-within="no"' in html
    assert 'data-testid="value-turret_speed" data-good="no"' in html and "BadSensorFailure" in html
    assert 'data-testid="tag-form"' not in html  # an operator does not map tags


def test_a_manager_maps_and_removes_a_tag_with_a_reason(eq: Any, press: Any) -> None:
    client = client_for(eq.manager)
    save = reverse("web:equipment_tag_save", args=["TP-01"])

    created = client.post(save, {"name": "punch_temp", "kind": "process_value", "node_id": "nsu=urn:plc;s=T",
                                 "unit": "", "low_limit": "", "high_limit": "40", "reason": ""})
    refused = client.post(save, {"name": "punch_temp", "kind": "process_value", "node_id": "nsu=urn:plc;s=T2",
                                 "reason": ""})
    removed = client.post(reverse("web:equipment_tag_remove", args=["TP-01", "punch_temp"]), {"reason": "Wrong PLC"})

    assert created.status_code == 302
    assert refused.status_code == 422 and error_code(refused.content.decode()) == "reason_required"
    assert removed.status_code == 302 and not EquipmentTag.objects.filter(name="punch_temp").exists()


@pytest.mark.req("EQ-05")
def test_the_oee_page_shows_each_shift_with_its_chart_data(eq: Any, press: Any, sim: Any, at: Any) -> None:
    sim.set_state("TP-01", "Execute", at=datetime(2026, 3, 1, 22, 0, tzinfo=UTC))  # 06:00 site time
    sim.add_counts("TP-01", at=datetime(2026, 3, 1, 22, 0, tzinfo=UTC))
    collect_states_and_counts("TP-01")
    sim.set_state("TP-01", "Held", at=datetime(2026, 3, 1, 23, 0, tzinfo=UTC))
    sim.add_counts("TP-01", good=171_000, reject=9_000, at=datetime(2026, 3, 1, 23, 0, tzinfo=UTC))
    collect_states_and_counts("TP-01")
    at.set(datetime(2026, 3, 2, 0, 0, tzinfo=UTC))  # 08:00: two hours into the early shift

    html = client_for(eq.operator).get(reverse("web:equipment_oee", args=["TP-01"]),
                                       {"day": "2026-03-02"}).content.decode()

    # run 1 h of 2 h: 50 %; 180 000 / (3000 × 60) = 100 %; 171 000 / 180 000 = 95 %; OEE 47.5 %
    assert 'data-testid="shift-A" data-oee="0.4750"' in html
    assert "echarts.min.js" in html
    data = json.loads(re.search(r'<script id="oee-data" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert data["series"]["oee"][0] == 47.5 and data["series"]["availability"][0] == 50.0
    assert data["series"]["oee"][1] is None  # the late shift has not begun
