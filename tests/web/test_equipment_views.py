"""The equipment workspace and detail page: register, status actions, cleaning with a second person's
signature, qualification and calibration, the usability panel and the logbook (EQ-01..EQ-03)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from batchline.equipment.choices import CleaningState, EquipmentStatus
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

S = EquipmentStatus


def browser(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    client.post(reverse("web:set_language"), {"language": "en"})
    return client


def url(name: str, *args: Any) -> str:
    return reverse(f"web:{name}", args=args)


def signed(user: Any, first: bool = True, password: str = PASSWORD, **fields: str) -> dict[str, str]:
    return {**fields, "sig_password": password, **({"sig_username": user.username} if first else {})}


def test_the_workspace_lists_status_and_usability(eq: Any, usable: Any, register: Any) -> None:
    usable()
    register(BALANCE)
    page = browser(eq.operator).get(url("equipment"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-code="GR-01" data-usable="yes"' in html
    assert 'data-code="BAL-01" data-usable="no"' in html
    assert 'data-testid="due-panel"' in html and 'data-what="calibration"' in html


def test_the_workspace_filters_by_room_and_status(eq: Any, usable: Any, register: Any) -> None:
    usable()
    register(BALANCE)
    client = browser(eq.operator)
    html = client.get(url("equipment"), {"room": "R101"}).content.decode()
    assert 'data-code="BAL-01"' in html and 'data-code="GR-01"' not in html
    html = client.get(url("equipment"), {"status": "clean"}).content.decode()
    assert 'data-code="GR-01"' in html and 'data-code="BAL-01"' not in html


def test_the_register_form_is_for_equipment_managers(eq: Any) -> None:
    assert browser(eq.operator).get(url("equipment_register")).status_code == 403
    assert browser(eq.manager).get(url("equipment_register")).status_code == 200


@pytest.mark.req("EQ-01")
def test_registering_through_the_form(eq: Any) -> None:
    client = browser(eq.manager)
    data = {name: "" for name in ("equipment_class", "capacity", "capacity_unit", "manufacturer", "opcua_node")}
    response = client.post(url("equipment_register"), {**data, **{k: str(v) for k, v in BALANCE.items()}})
    assert response.status_code == 302, response.content.decode()[:2000]
    balance = Equipment.objects.get(code="BAL-01")
    assert str(balance.minimum_weight.normalize()) == "0.5" and balance.status == S.DIRTY


def test_a_refused_registration_marks_the_field_and_saves_nothing(eq: Any) -> None:
    response = browser(eq.manager).post(url("equipment_register"), {**BALANCE, "minimum_weight": "0.0001"})
    assert response.status_code == 422
    assert 'data-field="minimum_weight"' in response.content.decode()
    assert 'class="field has-error" data-field="minimum_weight"' in response.content.decode()
    assert not Equipment.objects.exists()


@pytest.mark.req("EQ-01")
def test_a_change_through_the_form_needs_a_reason(eq: Any, register: Any) -> None:
    register()
    client = browser(eq.manager)
    form = client.get(url("equipment_edit", "GR-01")).content.decode()
    assert 'name="clean_hold_hours" value="72"' in form
    values = {k: ("" if v is None else str(v)) for k, v in {**GRANULATOR, "capacity": "300"}.items() if k != "code"}
    refused = client.post(url("equipment_edit", "GR-01"), {**values, "clean_hold_hours": "48", "reason": ""})
    assert refused.status_code == 422 and "reason" in refused.content.decode()
    done = client.post(url("equipment_edit", "GR-01"), {**values, "clean_hold_hours": "48", "reason": "VR-12"})
    assert done.status_code == 302
    assert Equipment.objects.get().clean_hold_hours == 48
    entry = LogbookEntry.objects.filter(equipment__code="GR-01").last()
    assert entry is not None and "clean_hold_hours" in entry.text  # only what was changed


@pytest.mark.req("EQ-02")
def test_the_detail_page_says_why_the_equipment_is_not_usable(eq: Any, register: Any) -> None:
    register(BALANCE)
    html = browser(eq.operator).get(url("equipment_detail", "BAL-01")).content.decode()
    assert 'data-testid="usability" data-usable="no"' in html
    assert "no calibration on record" in html and "no passed performance qualification" in html


@pytest.mark.req("EQ-03")
def test_the_product_check_on_the_detail_page(eq: Any, usable: Any, clean: Any) -> None:
    from batchline.equipment import status

    equipment = usable()
    status.start_use(actor=eq.operator, equipment_id=equipment.pk, order="MO-1", product="P-PARA")
    status.end_use(actor=eq.operator, equipment_id=equipment.pk)
    clean(fresh(equipment), "minor")
    html = browser(eq.operator).get(url("equipment_detail", "GR-01"), {"product": "P-IBU"}).content.decode()
    assert "a major clean is required" in html


@pytest.mark.req("EQ-01")
def test_start_and_end_use_from_the_detail_page(eq: Any, usable: Any) -> None:
    usable()
    client = browser(eq.operator)
    assert client.post(url("equipment_start_use", "GR-01"), {"order": "MO-9", "product": "P-PARA"}).status_code == 302
    assert Equipment.objects.get().status == S.IN_USE
    page = client.get(url("equipment_detail", "GR-01")).content.decode()
    assert 'data-testid="end-use-form"' in page and "MO-9" in page
    assert client.post(url("equipment_end_use", "GR-01"), {"remarks": ""}).status_code == 302
    assert Equipment.objects.get().status == S.DIRTY


@pytest.mark.req("EQ-02")
def test_a_refused_start_of_use_shows_the_reasons(eq: Any, usable: Any, at: Any) -> None:
    usable()
    at.advance(hours=100)  # past the 72 h clean-hold
    response = browser(eq.operator).post(url("equipment_start_use", "GR-01"), {"order": "MO-9", "product": "P-PARA"})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-code="equipment_not_usable"' in html and "clean-hold time ended" in html
    assert Equipment.objects.get().status == S.CLEAN


@pytest.mark.req("EQ-03")
def test_cleaning_with_a_second_persons_signature(eq: Any, register: Any, qualify: Any) -> None:
    equipment = register()
    qualify(equipment)
    operator, lead = browser(eq.operator), browser(eq.verifier)
    assert operator.post(url("equipment_cleaning_start", "GR-01"),
                         {"clean_type": "major", "procedure_ref": "SOP-CL-001"}).status_code == 302
    record = CleaningRecord.objects.get()
    assert operator.post(url("equipment_cleaning_finish", "GR-01", record.pk), {}).status_code == 302
    page = lead.get(url("equipment_detail", "GR-01")).content.decode()
    assert 'data-testid="verify-cleaning-form"' in page and 'name="sig_username"' in page
    wrong = lead.post(url("equipment_cleaning_verify", "GR-01", record.pk), signed(eq.verifier, password="nope"))
    assert wrong.status_code == 401
    done = lead.post(url("equipment_cleaning_verify", "GR-01", record.pk), signed(eq.verifier))
    assert done.status_code == 302
    record.refresh_from_db()
    assert record.state == CleaningState.VERIFIED and Equipment.objects.get().status == S.CLEAN


@pytest.mark.req("EQ-03")
def test_a_verifier_who_cleaned_is_refused_on_the_page(eq: Any, make_user: Any, register: Any,
                                                       qualify: Any) -> None:
    from batchline.equipment import cleaning

    lead = make_user("shift_lead", "operator")
    equipment = register()
    record = cleaning.start_cleaning(actor=lead, equipment_id=equipment.pk, clean_type="major")
    cleaning.finish_cleaning(actor=lead, equipment_id=equipment.pk, cleaning_id=record.pk)
    client = browser(lead)
    assert "someone else must verify it" in client.get(url("equipment_detail", "GR-01")).content.decode()
    refused = client.post(url("equipment_cleaning_verify", "GR-01", record.pk), signed(lead))
    assert refused.status_code == 403 and 'data-code="four_eyes"' in refused.content.decode()
    record.refresh_from_db()
    assert record.state == CleaningState.DONE


@pytest.mark.req("EQ-01")
def test_take_out_of_use_and_release_with_a_signature(eq: Any, usable: Any) -> None:
    usable()
    operator_page = browser(eq.operator).get(url("equipment_detail", "GR-01")).content.decode()
    assert '<option value="maintenance"' in operator_page and '<option value="quarantined"' not in operator_page
    qa = browser(eq.qa)
    assert qa.post(url("equipment_take_out_of_use", "GR-01"),
                   {"status": "quarantined", "reason": "Deviation DV-4"}).status_code == 302
    assert 'data-testid="release-form"' in qa.get(url("equipment_detail", "GR-01")).content.decode()
    assert qa.post(url("equipment_release", "GR-01"), signed(eq.qa, reason="DV-4 closed")).status_code == 302
    equipment = Equipment.objects.get()
    assert equipment.status == S.DIRTY and equipment.major_clean_required


@pytest.mark.req("EQ-02")
def test_recording_a_calibration_with_points(eq: Any, register: Any, at: Any) -> None:
    register(BALANCE)
    today = at.today
    response = browser(eq.qa).post(url("equipment_calibration", "BAL-01"), signed(
        eq.qa, performed_on=today.isoformat(), result="pass", due_on=(today + timedelta(days=180)).isoformat(),
        certificate_ref="CAL-1", performed_by="Suzhou Institute of Metrology") | {
        "nominal": ["50", ""], "reading": ["50.001", ""], "tolerance": ["0.005", ""], "point_unit": ["kg", "kg"]})
    assert response.status_code == 302, response.content.decode()[:3000]
    calibration = Equipment.objects.get().calibrations.get()
    assert calibration.measurements == [{"nominal": "50", "reading": "50.001", "tolerance": "0.005", "unit": "kg",
                                         "within_tolerance": "yes"}]


def test_a_refused_qualification_keeps_what_was_typed(eq: Any, register: Any, at: Any) -> None:
    register()
    response = browser(eq.qa).post(url("equipment_qualification", "GR-01"), signed(
        eq.qa, stage="PQ", performed_on=at.today.isoformat(), result="pass", valid_until="",
        document_ref="PQ-GR-01"))
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field="valid_until"' in html and 'value="PQ-GR-01"' in html
    assert not Equipment.objects.get().qualifications.exists()


@pytest.mark.req("EQ-01")
def test_the_logbook_on_the_detail_page_is_in_time_order(eq: Any, usable: Any) -> None:
    usable()
    html = browser(eq.operator).get(url("equipment_detail", "GR-01")).content.decode()
    logbook = html[html.index('data-testid="logbook"'):]
    assert logbook.index("Registered") < logbook.index("Cleaning started") < logbook.index("verified by a second")


def test_an_unknown_equipment_is_404(eq: Any) -> None:
    assert browser(eq.operator).get(url("equipment_detail", "NOPE")).status_code == 404


def test_the_pages_render_in_chinese(eq: Any, usable: Any) -> None:
    usable()
    client = Client()
    client.force_login(eq.operator)
    client.post(reverse("web:set_language"), {"language": "zh-hans"})
    assert client.get(url("equipment")).status_code == 200
    assert client.get(url("equipment_detail", "GR-01")).status_code == 200
