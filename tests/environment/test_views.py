"""The environment workspace's screens: room tiles by state, a room's values, trend and alarms, the signed
acknowledgement, limits and sensors (EQ-06, AC-06)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from batchline.compliance.models import AuditEntry
from batchline.environment.ingestion import ingest_reading
from batchline.environment.models import Alarm, RoomLimit, Sensor
from conftest import PASSWORD
from environment.conftest import Plant

pytestmark = pytest.mark.req("EQ-06")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_workspace_is_reached_at_its_url_name(plant: Plant) -> None:
    from django.urls import reverse

    assert reverse("web:environment") == "/environment/"
    response = _client(plant.operator).get("/environment/")
    assert response.status_code == 200
    assert 'data-testid="nav-environment" aria-current="page"' in response.content.decode()


def test_room_tiles_are_coloured_by_the_worst_level(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "21"))
    ingest_reading(plant.reading("PC05-RB1", "400000"))
    ingest_reading(plant.reading("TT-RD1", "25.5"))
    page = _client(plant.operator).get("/environment/live/").content.decode()
    assert 'data-testid="room-RB1" data-state="action"' in page
    assert 'data-testid="room-RD1" data-state="alert"' in page
    assert 'data-testid="count-action" class="env-text-action">1<' in page
    assert "400000" in page and "4E+5" not in page


def test_the_room_page_shows_values_limits_alarms_and_the_chart(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "25.5"))
    page = _client(plant.operator).get("/environment/rooms/RB1/").content.decode()
    assert 'data-testid="room-state" data-state="alert"' in page
    assert 'data-testid="value-TT-RB1" data-level="alert"' in page
    assert "19 … 25" in page and "18 … 26" in page  # grade B alert and action limits
    assert f'data-testid="alarm-{Alarm.objects.get().pk}"' in page
    assert "echarts.min.js" in page and 'data-testid="room-trend"' in page


def test_the_live_part_of_the_room_page_shows_a_new_excursion(plant: Plant) -> None:
    client = _client(plant.operator)
    assert 'data-state=""' in client.get("/environment/rooms/RB1/live/").content.decode()
    ingest_reading(plant.reading("PC05-RB1", "400000"))
    live = client.get("/environment/rooms/RB1/live/").content.decode()
    assert 'data-testid="room-state" data-state="action"' in live
    assert 'data-level="action" data-state="open"' in live


def test_the_trend_gives_each_sensors_points_and_limits(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "21.4"))
    ingest_reading(plant.reading("TT-RB1", "21.6", quality="uncertain"))
    data = _client(plant.operator).get("/environment/rooms/RB1/trend.json").json()
    series = {s["sensor"]: s for s in data["series"]}
    assert [p[1:] for p in series["TT-RB1"]["points"]] == [["21.4000", "good"], ["21.6000", "uncertain"]]
    assert series["TT-RB1"]["limits"]["action_high"] == "26"
    assert series["HT-RB1"]["points"] == []


def test_an_unknown_room_is_404(plant: Plant) -> None:
    assert _client(plant.operator).get("/environment/rooms/NOPE/").status_code == 404


def test_a_person_without_environment_view_is_refused(plant: Plant, make_user: Any) -> None:
    clerk = make_user("warehouse")
    assert _client(clerk).get("/environment/").status_code == 403


def test_an_alarm_is_acknowledged_on_its_page_with_a_signature(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "26.5"))
    alarm = Alarm.objects.get()
    client = _client(plant.lead)
    page = client.get(f"/environment/alarms/{alarm.pk}/").content.decode()
    assert 'data-testid="acknowledge-form"' in page and 'data-testid="excursion"' in page
    response = client.post(f"/environment/alarms/{alarm.pk}/acknowledge/", {
        "sig_username": "lead", "sig_password": PASSWORD, "comment": "HVAC reset"})
    assert response.status_code == 302
    alarm.refresh_from_db()
    assert alarm.state == "acknowledged" and alarm.acknowledgement_comment == "HVAC reset"
    after = client.get(f"/environment/alarms/{alarm.pk}/").content.decode()
    assert 'data-testid="signature-manifest"' in after and 'data-testid="acknowledge-form"' not in after


def test_a_wrong_password_on_the_acknowledgement_is_shown_and_changes_nothing(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "26.5"))
    alarm = Alarm.objects.get()
    response = _client(plant.lead).post(f"/environment/alarms/{alarm.pk}/acknowledge/", {
        "sig_username": "lead", "sig_password": "wrong-password-1"})
    assert response.status_code == 401
    assert 'data-testid="error"' in response.content.decode()
    assert Alarm.objects.get().state == "open"


def test_an_operator_sees_no_acknowledgement_form(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "26.5"))
    page = _client(plant.operator).get(f"/environment/alarms/{Alarm.objects.get().pk}/").content.decode()
    assert 'data-testid="acknowledge-form"' not in page


def test_the_alarm_list_filters_by_state(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "25.5"))
    ingest_reading(plant.reading("TT-RB1", "21"))
    client = _client(plant.operator)
    alarm = Alarm.objects.get()
    assert f'data-testid="alarm-{alarm.pk}"' in client.get("/environment/alarms/").content.decode()
    assert f'data-testid="alarm-{alarm.pk}"' not in client.get("/environment/alarms/?state=closed").content.decode()


def test_limits_are_shown_by_grade_and_a_room_override_is_saved_with_a_reason(plant: Plant) -> None:
    client = _client(plant.qa)
    page = client.get("/environment/limits/").content.decode()
    assert 'data-testid="grade-A-particles_5_0"' in page and "3520" in page
    form = client.get("/environment/limits/edit/?room=RB1&parameter=temperature").content.decode()
    assert 'value="26"' in form
    refused = client.post("/environment/limits/edit/", {"room": "RB1", "parameter": "temperature",
                                                        "alert_high": "23", "action_high": "24", "reason": ""})
    assert refused.status_code == 422 and not RoomLimit.objects.exists()
    saved = client.post("/environment/limits/edit/", {"room": "RB1", "parameter": "temperature",
                                                      "alert_high": "23", "action_high": "24", "reason": "CC-3"})
    assert saved.status_code == 302
    assert RoomLimit.objects.get().action_high == 24
    assert 'data-testid="room-limit-RB1-temperature"' in client.get("/environment/limits/").content.decode()


def test_only_the_configure_permission_edits_limits(plant: Plant) -> None:
    assert _client(plant.lead).get("/environment/limits/edit/?grade=B&parameter=humidity").status_code == 403


@pytest.mark.req("AC-06")
def test_a_sensor_is_registered_and_switched_off_on_the_sensor_pages(plant: Plant) -> None:
    client = _client(plant.qa)
    response = client.post("/environment/sensors/", {"device_id": "HT-RD1", "room": "RD1", "parameter": "humidity",
                                                     "calibrated_until": "2099-01-31"})
    assert response.status_code == 302
    sensor = Sensor.objects.get(device_id="HT-RD1")
    assert str(sensor.calibrated_until) == "2099-01-31"
    changed = client.post("/environment/sensors/HT-RD1/", {"calibrated_until": "2099-01-31", "description": "",
                                                           "reason": "probe removed"})
    assert changed.status_code == 302
    sensor.refresh_from_db()
    assert not sensor.active
    assert AuditEntry.objects.filter(record_type="environment.sensor", record_id=str(sensor.pk)).count() == 2


@pytest.mark.req("AC-06")
def test_a_wrong_sensor_registration_is_shown_and_stores_nothing(plant: Plant) -> None:
    response = _client(plant.qa).post("/environment/sensors/", {"device_id": "TT-RB1", "room": "RB1",
                                                                "parameter": "temperature"})
    assert response.status_code == 409
    assert 'data-code="sensor_exists"' in response.content.decode()


@pytest.mark.req("AC-06")
def test_refused_readings_are_listed(plant: Plant) -> None:
    from batchline.environment.ingestion import decode

    ingest_reading(decode("batchline/env/RB1/TT-ROGUE", b'{"sensor": "TT-ROGUE", "value": 1}'))
    page = _client(plant.operator).get("/environment/rejected/").content.decode()
    assert "TT-ROGUE" in page


def test_the_trend_times_are_the_sites_wall_clock(plant: Plant) -> None:
    from datetime import UTC, datetime, timedelta

    from batchline.core import clock

    ts = clock.now().replace(microsecond=0) - timedelta(minutes=5)
    ingest_reading(plant.reading("TT-RB1", "21", ts=ts))
    point = _client(plant.operator).get("/environment/rooms/RB1/trend.json").json()["series"][0]["points"][0]
    shown = datetime.fromtimestamp(point[0] / 1000, tz=UTC).replace(tzinfo=None)
    assert shown == clock.to_site(ts).replace(tzinfo=None)  # Asia/Shanghai: 8 hours ahead of UTC
