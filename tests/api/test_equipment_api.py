"""The equipment API: register, status, cleaning, qualification, calibration, usability, logbook (EQ-01..03)."""

from __future__ import annotations

import typing
from datetime import timedelta
from typing import Any

import pytest

from api.helpers import new_key
from batchline.api import equipment as api
from batchline.equipment.choices import CleaningType, EquipmentKind, QualificationStage, Result
from batchline.equipment.models import CleaningRecord, Equipment, LogbookEntry
from conftest import PASSWORD
from equipment.plant import (  # noqa: F401
    BALANCE,
    GRANULATOR,
    at_fixture,
    calibrate_fixture,
    clean_fixture,
    eq_fixture,
    fresh,
    qualify_fixture,
    register_fixture,
    usable_fixture,
)


def signature(user: Any, meaning: str, password: str = PASSWORD) -> dict[str, str]:
    return {"username": user.username, "password": password, "meaning": meaning, "comment": ""}


def test_the_literals_are_the_model_choices() -> None:
    assert set(typing.get_args(api.KindValue)) == set(EquipmentKind.values)
    assert set(typing.get_args(api.CleanTypeValue)) == set(CleaningType.values)
    assert set(typing.get_args(api.StageValue)) == set(QualificationStage.values)
    assert set(typing.get_args(api.ResultValue)) == set(Result.values)


@pytest.mark.req("EQ-01")
def test_register_and_read_equipment(eq: Any, session_for: Any) -> None:
    client = session_for(eq.manager)
    response = client.post("/equipment", {**GRANULATOR, "capacity": "300.0"}, key=new_key())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "GR-01" and body["status"] == "dirty" and body["capacity"] == "300"
    assert body["major_clean_required"] and body["room"] == "R102"
    assert {r["code"] for r in body["not_usable_for"]} == {"status", "not_qualified"}
    listed = client.get("/equipment", room="R102").json()
    assert listed["count"] == 1 and listed["items"][0]["code"] == "GR-01"
    assert client.get("/equipment", room="R101").json()["count"] == 0


def test_a_replayed_registration_changes_nothing(eq: Any, token_for: Any) -> None:
    client = token_for(eq.manager, ["equipment.*"])
    key = new_key()
    first = client.post("/equipment", GRANULATOR, key=key)
    again = client.post("/equipment", GRANULATOR, key=key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Equipment.objects.count() == 1


def test_a_token_caller_must_send_an_idempotency_key(eq: Any, token_for: Any) -> None:
    response = token_for(eq.manager, ["equipment.*"]).post("/equipment", GRANULATOR)
    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_required"
    assert not Equipment.objects.exists()


@pytest.mark.parametrize(("changes", "status", "field"), [
    ({"capacity": 300.5}, 422, "capacity"),  # a float, not a decimal string
    ({"room": "R999"}, 422, "room"),
    ({"kind": "rocket"}, 422, "kind"),
    ({"colour": "red"}, 422, "colour"),
])
def test_bad_input_is_refused_with_the_field_and_writes_nothing(eq: Any, session_for: Any, changes: dict[str, Any],
                                                                status: int, field: str) -> None:
    response = session_for(eq.manager).post("/equipment", {**GRANULATOR, **changes}, key=new_key())
    assert response.status_code == status, response.content
    assert field in (response.json()["field"] or "")
    assert not Equipment.objects.exists() and not LogbookEntry.objects.exists()


def test_a_duplicate_id_is_a_conflict(eq: Any, session_for: Any, register: Any) -> None:
    register()
    response = session_for(eq.manager).post("/equipment", GRANULATOR, key=new_key())
    assert response.status_code == 409 and response.json()["code"] == "duplicate_equipment"


def test_an_unknown_equipment_is_404(eq: Any, session_for: Any) -> None:
    response = session_for(eq.operator).get("/equipment/NOPE")
    assert response.status_code == 404 and response.json()["code"] == "equipment_not_found"


@pytest.mark.req("EQ-01")
def test_a_change_needs_a_reason(eq: Any, session_for: Any, register: Any) -> None:
    register()
    client = session_for(eq.manager)
    refused = client.patch("/equipment/GR-01", {"reason": "", "clean_hold_hours": 48}, key=new_key())
    assert refused.status_code == 422 and refused.json()["code"] == "reason_required"
    changed = client.patch("/equipment/GR-01", {"reason": "VR-12", "clean_hold_hours": 48, "room": None},
                           key=new_key())
    assert changed.status_code == 200, changed.content
    assert changed.json()["clean_hold_hours"] == 48 and changed.json()["room"] is None


def test_reading_needs_equipment_view(make_user: Any, session_for: Any, eq: Any) -> None:
    admin = make_user("system_administrator")
    assert session_for(admin).get("/equipment").status_code == 403


@pytest.mark.req("EQ-03")
def test_the_cleaning_cycle_over_the_api(eq: Any, session_for: Any, register: Any, qualify: Any) -> None:
    equipment = register()
    qualify(equipment)
    operator, lead = session_for(eq.operator), session_for(eq.verifier)
    minor = operator.post("/equipment/GR-01/cleanings", {"clean_type": "minor"}, key=new_key())
    assert minor.status_code == 409 and minor.json()["code"] == "major_clean_required"
    started = operator.post("/equipment/GR-01/cleanings", {"clean_type": "major", "procedure_ref": "SOP-CL-001"},
                            key=new_key())
    assert started.status_code == 201, started.content
    cleaning_id = started.json()["id"]
    finished = operator.post(f"/equipment/GR-01/cleanings/{cleaning_id}/finish", {}, key=new_key())
    assert finished.json()["state"] == "done"
    by_cleaner = operator.post(f"/equipment/GR-01/cleanings/{cleaning_id}/verify",
                               {"signature": signature(eq.operator, "verify")}, key=new_key())
    assert by_cleaner.status_code == 403  # operators cannot verify
    wrong = lead.post(f"/equipment/GR-01/cleanings/{cleaning_id}/verify",
                      {"signature": signature(eq.verifier, "verify", password="wrong")}, key=new_key())
    assert wrong.status_code == 401 and wrong.json()["field"] == "signature.password"
    verified = lead.post(f"/equipment/GR-01/cleanings/{cleaning_id}/verify",
                         {"signature": signature(eq.verifier, "verify")}, key=new_key())
    assert verified.status_code == 200, verified.content
    assert verified.json()["state"] == "verified" and verified.json()["verified_by"] == eq.verifier.username
    detail = operator.get("/equipment/GR-01").json()
    assert detail["status"] == "clean" and detail["not_usable_for"] == []
    awaiting = lead.get("/equipment/cleanings/awaiting-verification").json()
    assert awaiting == []


@pytest.mark.req("EQ-02")
def test_usability_lists_every_reason(eq: Any, session_for: Any, usable: Any, qualify: Any, calibrate: Any,
                                      at: Any) -> None:
    balance = usable(BALANCE)
    qualify(balance, stage="RQ", valid_days=3)
    calibrate(balance, due_days=5)
    client = session_for(eq.operator)
    ok = client.get("/equipment/BAL-01/usability", **{"for": "weighing"}).json()
    assert ok["usable"] and ok["reasons"] == [] and ok["use"] == "weighing"
    at.advance(days=6)
    late = client.get("/equipment/BAL-01/usability", **{"for": "weighing"}, headers={"Accept-Language": "en"}).json()
    assert not late["usable"]
    assert [r["code"] for r in late["reasons"]] == ["requalification_due", "calibration_due"]
    assert "calibration was due on" in late["reasons"][1]["message"]


@pytest.mark.req("EQ-03")
def test_start_use_refuses_a_product_change_after_a_minor_clean(eq: Any, session_for: Any, usable: Any,
                                                                 clean: Any) -> None:
    equipment = usable()
    client = session_for(eq.operator)
    assert client.post("/equipment/GR-01/start-use", {"order": "MO-1", "product": "P-PARA"},
                       key=new_key()).status_code == 200
    assert client.post("/equipment/GR-01/end-use", {}, key=new_key()).json()["status"] == "dirty"
    clean(fresh(equipment), "minor")
    usable_for_ibu = client.get("/equipment/GR-01/usability", product="P-IBU").json()
    assert [r["code"] for r in usable_for_ibu["reasons"]] == ["product_change"]
    refused = client.post("/equipment/GR-01/start-use", {"order": "MO-2", "product": "P-IBU"}, key=new_key())
    assert refused.status_code == 409 and refused.json()["code"] == "equipment_not_usable"
    assert fresh(equipment).status == "clean"


@pytest.mark.req("EQ-02")
def test_qualification_and_calibration_over_the_api(eq: Any, session_for: Any, register: Any, at: Any) -> None:
    register(BALANCE)
    qa = session_for(eq.qa)
    today = at.today
    qualified = qa.post("/equipment/BAL-01/qualifications", {
        "stage": "PQ", "performed_on": today.isoformat(), "result": "pass",
        "valid_until": (today + timedelta(days=365)).isoformat(), "document_ref": "PQ-BAL-01",
        "signature": signature(eq.qa, "qualification")}, key=new_key())
    assert qualified.status_code == 201, qualified.content
    calibrated = qa.post("/equipment/BAL-01/calibrations", {
        "performed_on": today.isoformat(), "result": "pass", "due_on": (today + timedelta(days=180)).isoformat(),
        "certificate_ref": "CAL-2026-001", "performed_by": "Suzhou Institute of Metrology",
        "measurements": [{"nominal": "50", "reading": "50.002", "tolerance": "0.005", "unit": "kg"}],
        "signature": signature(eq.qa, "calibration")}, key=new_key())
    assert calibrated.status_code == 201, calibrated.content
    assert calibrated.json()["measurements"][0]["within_tolerance"] == "yes"
    detail = qa.get("/equipment/BAL-01").json()
    assert detail["calibrated_until"] == (today + timedelta(days=180)).isoformat()
    assert len(qa.get("/equipment/BAL-01/calibrations").json()) == 1
    failed = qa.post("/equipment/BAL-01/calibrations", {
        "performed_on": today.isoformat(), "result": "fail", "due_on": (today + timedelta(days=1)).isoformat(),
        "certificate_ref": "CAL-2026-002", "performed_by": "QA", "signature": signature(eq.qa, "calibration")},
        key=new_key())
    assert failed.status_code == 201
    assert qa.get("/equipment/BAL-01").json()["status"] == "out_of_service"


def test_a_qualification_with_a_wrong_meaning_is_refused(eq: Any, session_for: Any, register: Any,
                                                         at: Any) -> None:
    register()
    response = session_for(eq.qa).post("/equipment/GR-01/qualifications", {
        "stage": "IQ", "performed_on": at.today.isoformat(), "result": "pass", "document_ref": "IQ-1",
        "signature": signature(eq.qa, "approve")}, key=new_key())
    assert response.status_code == 422 and response.json()["field"] == "signature.meaning"
    assert not Equipment.objects.get().qualifications.exists()


@pytest.mark.req("EQ-01")
def test_take_out_of_use_and_release(eq: Any, session_for: Any, usable: Any) -> None:
    usable()
    operator, qa = session_for(eq.operator), session_for(eq.qa)
    out = operator.post("/equipment/GR-01/take-out-of-use", {"status": "maintenance", "reason": "PM-03"},
                        key=new_key())
    assert out.status_code == 200 and out.json()["status"] == "maintenance"
    by_operator = operator.post("/equipment/GR-01/release", {"reason": "done",
                                                             "signature": signature(eq.operator, "release")},
                                key=new_key())
    assert by_operator.status_code == 403
    released = qa.post("/equipment/GR-01/release", {"reason": "PM-03 done", "signature": signature(eq.qa, "release")},
                       key=new_key())
    assert released.status_code == 200, released.content
    assert released.json()["status"] == "dirty" and released.json()["major_clean_required"]


@pytest.mark.req("EQ-01")
def test_the_logbook_over_the_api_is_chronological(eq: Any, session_for: Any, usable: Any) -> None:
    usable()
    client = session_for(eq.operator)
    page = client.get("/equipment/GR-01/logbook", headers={"Accept-Language": "en"}).json()
    times = [item["occurred_at"] for item in page["items"]]
    assert times == sorted(times) and page["items"][0]["action"] == "registered"
    assert page["items"][0]["message"].startswith("Registered")
    cleanings = client.get("/equipment/GR-01/logbook", kind="cleaning").json()
    assert {item["kind"] for item in cleanings["items"]} == {"cleaning"} and cleanings["count"] == 3
    assert client.get("/equipment/GR-01/logbook", kind="nonsense").status_code == 422


def test_the_due_list_shows_overdue_first(eq: Any, session_for: Any, usable: Any, register: Any) -> None:
    usable(BALANCE)
    register()  # never qualified: overdue
    due = session_for(eq.operator).get("/equipment/due", within_days=366).json()
    assert due[0] == {"equipment": "GR-01", "what": "qualification", "due": None, "overdue": True}
    assert {(d["equipment"], d["what"]) for d in due} >= {("BAL-01", "qualification"), ("BAL-01", "calibration")}


def test_a_cleaning_of_other_equipment_is_not_found(eq: Any, session_for: Any, usable: Any) -> None:
    usable()
    usable(code="GR-02")
    other = CleaningRecord.objects.filter(equipment__code="GR-02").get()
    response = session_for(eq.operator).post(f"/equipment/GR-01/cleanings/{other.pk}/finish", {}, key=new_key())
    assert response.status_code == 404 and response.json()["code"] == "cleaning_not_found"
