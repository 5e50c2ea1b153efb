"""Room monitoring over the API: a gateway posts readings (idempotent, only registered sensors: AC-06),
rooms and alarms are read, an alarm is acknowledged with a signature, limits and sensors are configured
(EQ-06); bad input is refused with a 4xx and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from api.helpers import ApiClient
from batchline.compliance.models import AuditEntry
from batchline.core import clock
from batchline.environment.ingestion import ingest_reading
from batchline.environment.models import Alarm, Reading, RejectedReading, Sensor
from batchline.identity import services as identity
from conftest import PASSWORD
from environment.conftest import Plant, person

pytestmark = pytest.mark.req("EQ-06")


def _token(plant: Plant, user: Any, scopes: list[str]) -> ApiClient:
    admin = person("sysadmin", "赵刚 Zhao Gang", "system_administrator")
    _token, secret = identity.create_api_token(actor=admin, user_id=user.pk, name="gateway", scopes=scopes,
                                               expires_at=None)
    return ApiClient(Client(), {"Authorization": f"Bearer {secret}"})


def _session(user: Any) -> ApiClient:
    client = Client()
    client.force_login(user)
    return ApiClient(client)


@pytest.fixture
def gateway_api(plant: Plant) -> ApiClient:
    return _token(plant, plant.gateway, ["environment.*"])


def _item(plant: Plant, sensor: str = "TT-RB1", value: str | None = "21.4", **extra: Any) -> dict[str, Any]:
    return {"sensor": sensor, "value": value, "unit": "°C", "ts": plant.ts().isoformat(), "quality": "good",
            **extra}


# --- ingest ---------------------------------------------------------------------------------------------

@pytest.mark.req("EQ-06", "AC-06", "INT-04")
def test_a_gateway_posts_readings_and_a_replay_changes_nothing(plant: Plant, gateway_api: ApiClient) -> None:
    body = {"readings": [_item(plant), _item(plant, "PC05-RB1", "400000", unit="/m3")]}
    first = gateway_api.post("/environment/readings", body, key="ems-batch-1")
    assert first.status_code == 200
    result = first.json()
    assert (result["stored"], result["alarms_raised"], result["excursions"]) == (2, 1, 1)
    replay = gateway_api.post("/environment/readings", body, key="ems-batch-1")
    assert replay.json() == result and replay["Idempotent-Replayed"] == "true"
    again = gateway_api.post("/environment/readings", body, key="ems-batch-2")  # a resend under a new key
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, 2)
    assert Reading.objects.count() == 2 and Alarm.objects.count() == 1
    assert set(Reading.objects.values_list("channel", flat=True)) == {"api"}


@pytest.mark.req("AC-06")
def test_a_reading_of_an_unregistered_sensor_is_reported_rejected_and_recorded(plant: Plant,
                                                                              gateway_api: ApiClient) -> None:
    response = gateway_api.post("/environment/readings", {"readings": [_item(plant, "TT-ROGUE"), _item(plant)]},
                                key="k1")
    body = response.json()
    assert response.status_code == 200 and (body["stored"], body["rejected"]) == (1, 1)
    assert body["results"][0] == {"index": 0, "outcome": "rejected", "reason": "unknown_sensor",
                                  "detail": "TT-ROGUE"}
    refused = RejectedReading.objects.get()
    assert (refused.channel, refused.sender, refused.device_id) == ("api", "ems-gateway", "TT-ROGUE")


@pytest.mark.req("AC-06", "INT-04")
@pytest.mark.parametrize(("change", "field"), [
    ({"value": 21.4}, "readings.1.value"),  # a JSON float: decimals are strings
    ({"ts": "2026-01-05T08:00:00"}, "readings.1.ts"),  # no time zone
    ({"quality": "excellent"}, "readings.1.quality"),
    ({"colour": "red"}, "readings.1.colour"),
])
def test_a_malformed_reading_is_refused_with_422_and_nothing_is_stored(plant: Plant, gateway_api: ApiClient,
                                                                       change: dict[str, Any], field: str) -> None:
    response = gateway_api.post("/environment/readings", {"readings": [_item(plant), {**_item(plant), **change}]},
                                key="k1")
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert not Reading.objects.exists()


@pytest.mark.req("AC-06")
def test_a_timestamp_before_the_first_utc_instant_is_rejected_not_a_500(plant: Plant, gateway_api: ApiClient) -> None:
    body = {"readings": [_item(plant, ts="0001-01-01T00:10:00+01:00"), _item(plant)]}
    response = gateway_api.post("/environment/readings", body, key="k1")
    assert response.status_code == 200
    assert [r["reason"] for r in response.json()["results"]] == ["invalid_timestamp", ""]
    assert Reading.objects.count() == 1


def test_an_empty_or_oversized_batch_is_refused(plant: Plant, gateway_api: ApiClient) -> None:
    assert gateway_api.post("/environment/readings", {"readings": []}, key="k1").status_code == 422
    many = {"readings": [_item(plant) for _ in range(1001)]}
    assert gateway_api.post("/environment/readings", many, key="k2").status_code == 422


def test_a_token_caller_must_send_an_idempotency_key(plant: Plant, gateway_api: ApiClient) -> None:
    response = gateway_api.post("/environment/readings", {"readings": [_item(plant)]})
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_required")


@pytest.mark.req("AC-06")
def test_an_account_without_the_ingest_permission_cannot_post_readings(plant: Plant) -> None:
    response = _session(plant.operator).post("/environment/readings", {"readings": [_item(plant)]})
    assert response.status_code == 403
    assert not Reading.objects.exists() and not RejectedReading.objects.exists()


def test_an_anonymous_caller_gets_401(plant: Plant) -> None:
    assert ApiClient(Client()).get("/environment/rooms").status_code == 401


# --- reading rooms, readings, alarms ------------------------------------------------------------------

def test_room_status_shows_the_latest_values_levels_and_limits(plant: Plant) -> None:
    ingest_reading(plant.reading("PC05-RB1", "400000"))
    ingest_reading(plant.reading("TT-RB1", "21.5"))
    rooms = {r["room"]: r for r in _session(plant.operator).get("/environment/rooms").json()}
    assert (rooms["RB1"]["state"], rooms["RB1"]["open_alarms"], rooms["RD1"]["state"]) == ("action", 1, "")
    sensors = {s["sensor"]: s for s in rooms["RB1"]["sensors"]}
    assert sensors["TT-RB1"]["value"] == "21.5000" and sensors["TT-RB1"]["level"] == "ok"
    assert sensors["PC05-RB1"]["limits"]["action_high"] == "352000"
    assert sensors["PC05-RB1"]["limits_source"] == "default"


def test_readings_are_found_by_room_parameter_and_time(plant: Plant) -> None:
    early, late = plant.ts(), plant.ts()
    for device, ts in (("TT-RB1", early), ("TT-RB1", late), ("HT-RB1", late), ("TT-RD1", late)):
        ingest_reading(plant.reading(device, "21", ts=ts))
    api = _session(plant.operator)
    body = api.get("/environment/readings", room="RB1", parameter="temperature").json()
    assert [r["sensor"] for r in body["items"]] == ["TT-RB1", "TT-RB1"] and body["count"] == 2
    since = api.get("/environment/readings", room="RB1", since=late.isoformat()).json()
    assert {r["sensor"] for r in since["items"]} == {"TT-RB1", "HT-RB1"} and since["count"] == 2
    assert api.get("/environment/readings", room="NOPE").status_code == 404


def test_alarms_are_listed_and_acknowledged_with_a_signature(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "25.5"))
    alarm = Alarm.objects.get()
    api = _session(plant.lead)
    listed = api.get("/environment/alarms", state="unclosed").json()
    assert [a["id"] for a in listed["items"]] == [alarm.pk] and listed["items"][0]["state"] == "open"
    sign = {"username": "lead", "password": PASSWORD, "meaning": "acknowledge"}
    response = api.post(f"/environment/alarms/{alarm.pk}/acknowledge", {"signature": sign, "comment": "checked"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["acknowledged_by"]) == ("acknowledged", "lead")
    assert body["signature"]["meaning_zh"] == "报警已确认"
    again = api.post(f"/environment/alarms/{alarm.pk}/acknowledge", {"signature": sign})
    assert (again.status_code, again.json()["code"]) == (409, "alarm_not_open")


def test_a_wrong_signing_password_is_refused_and_acknowledges_nothing(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "25.5"))
    alarm = Alarm.objects.get()
    response = _session(plant.lead).post(f"/environment/alarms/{alarm.pk}/acknowledge", {
        "signature": {"username": "lead", "password": "not-my-password-9", "meaning": "acknowledge"}})
    assert response.status_code == 401
    assert Alarm.objects.get().state == "open"


def test_an_integration_account_cannot_acknowledge(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "25.5"))
    response = _session(plant.gateway).post(f"/environment/alarms/{Alarm.objects.get().pk}/acknowledge", {
        "signature": {"username": "ems-gateway", "password": "x", "meaning": "acknowledge"}})
    assert response.status_code == 403


def test_excursions_are_listed(plant: Plant) -> None:
    ingest_reading(plant.reading("PC05-RB1", "400000"))
    body = _session(plant.operator).get("/environment/excursions").json()
    assert [(e["room"], e["value"], e["limits"]["action_high"]) for e in body] == [("RB1", "400000.0000", "352000")]


# --- configuration --------------------------------------------------------------------------------

def test_room_limits_are_set_read_and_reverted(plant: Plant) -> None:
    api = _session(plant.qa)
    response = api.put("/environment/limits/rooms/RB1/temperature", {
        "alert_high": "23", "action_high": "24", "reason": "CC-7: product stored at ≤ 24 °C"})
    assert response.status_code == 200, response.json()
    rows = {r["parameter"]: r for r in api.get("/environment/limits", room="RB1").json()}
    assert rows["temperature"]["source"] == "room" and rows["temperature"]["limits"]["action_high"] == "24.0000"
    assert rows["humidity"]["source"] == "default"
    reverted = api.post("/environment/limits/rooms/RB1/temperature/revert", {"reason": "product moved"})
    assert reverted.json()["source"] == "default"
    assert AuditEntry.objects.filter(record_type="environment.roomlimit").count() == 2


def test_grade_limits_are_listed_for_every_grade_and_parameter(plant: Plant) -> None:
    rows = _session(plant.operator).get("/environment/limits").json()
    assert len(rows) == 6 * 5
    grade_a = {r["parameter"]: r for r in rows if r["grade"] == "A"}
    assert grade_a["particles_5_0"]["limits"]["action_high"] == "29"


@pytest.mark.parametrize(("body", "status"), [
    ({"alert_high": "23", "action_high": "22", "reason": "x"}, 422),  # out of order
    ({"alert_high": 23, "reason": "x"}, 422),  # not a decimal string
    ({"alert_high": "23"}, 422),  # no reason
    ({"alert_high": "23", "reason": " "}, 422),  # an empty reason
])
def test_bad_limits_are_refused(plant: Plant, body: dict[str, Any], status: int) -> None:
    response = _session(plant.qa).put("/environment/limits/rooms/RB1/temperature", body)
    assert response.status_code == status
    assert not AuditEntry.objects.filter(record_type="environment.roomlimit").exists()


def test_only_the_configure_permission_changes_limits(plant: Plant) -> None:
    response = _session(plant.lead).put("/environment/limits/grades/B/humidity",
                                        {"alert_high": "55", "action_high": "60", "reason": "x"})
    assert response.status_code == 403


@pytest.mark.req("AC-06")
def test_sensors_are_registered_and_switched_off_over_the_api(plant: Plant) -> None:
    api = _session(plant.qa)
    created = api.post("/environment/sensors", {"device_id": "HT-RD1", "room": "RD1", "parameter": "humidity",
                                                "calibrated_until": "2099-12-31"})
    assert created.status_code == 201 and created.json()["unit"] == "%RH"
    changed = api.patch("/environment/sensors/HT-RD1", {"active": False, "reason": "removed for calibration"})
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert not Sensor.objects.get(device_id="HT-RD1").active
    listed = api.get("/environment/sensors", room="RD1").json()
    assert {s["device_id"] for s in listed} == {"TT-RD1", "PT-RD1", "PC05-RD1", "HT-RD1"}


def test_a_duplicate_sensor_id_is_refused_with_409(plant: Plant) -> None:
    response = _session(plant.qa).post("/environment/sensors", {"device_id": "TT-RB1", "room": "RB1",
                                                                 "parameter": "temperature"})
    assert (response.status_code, response.json()["code"]) == (409, "sensor_exists")


def test_readings_are_judged_at_the_times_they_were_measured(plant: Plant) -> None:
    ts = clock.now().replace(microsecond=0)
    ingest_reading(plant.reading("TT-RB1", "21", ts=ts))
    item = _session(plant.operator).get("/environment/readings", sensor="TT-RB1").json()["items"][0]
    assert item["measured_at"] == ts.isoformat().replace("+00:00", "Z")
