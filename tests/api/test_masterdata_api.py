"""Master data over the API: drafts, approval with e-signature, change requests, bad input (MD-01, INT-04)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from api.helpers import KG, ApiClient, new_key
from batchline.compliance.models import AuditEntry, Signature
from batchline.core import clock
from batchline.identity.models import User
from batchline.masterdata import services
from batchline.masterdata.models import MasterDataChange, Material, Unit
from batchline.masterdata.registry import kind_of
from conftest import sig

MATERIAL = {
    "code": "RM-001",
    "name_zh": "乳糖",
    "name_en": "Lactose monohydrate",
    "material_type": "raw",
    "base_unit": "kg",
    "shelf_life_days": 730,
}


@pytest.fixture
def steward_api(session_for: Callable[..., ApiClient], steward: Any) -> ApiClient:
    return session_for(steward)


@pytest.fixture
def approver_api(session_for: Callable[..., ApiClient], approver: Any) -> ApiClient:
    return session_for(approver)


def counts() -> tuple[int, int, int]:
    return Unit.objects.count(), Material.objects.count(), AuditEntry.objects.count()


@pytest.mark.req("MD-01")
def test_a_steward_creates_a_draft(steward_api: ApiClient, steward: Any) -> None:
    response = steward_api.post("/masterdata/unit", KG)
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["code"], body["status"], body["version"]) == ("unit", "kg", "draft", 1)
    assert body["created_by"] == "steward"
    assert body["fields"]["factor"] == "1.000000000000"


@pytest.mark.req("MD-01", "ES-05", "ES-08")
def test_a_second_person_approves_with_a_signature(steward_api: ApiClient, approver_api: ApiClient) -> None:
    steward_api.post("/masterdata/unit", KG)
    response = approver_api.post("/masterdata/unit/kg/approve", {"signature": signature_of("qareviewer")})
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    signed = Signature.objects.get()
    assert (signed.signer_username, signed.meaning, signed.record_type) == (
        "qareviewer",
        "approve",
        "masterdata.unit",
    )


def signature_of(username: str, **overrides: str) -> dict[str, str]:
    from conftest import PASSWORD

    return {"username": username, "password": PASSWORD, "meaning": "approve", "comment": "", **overrides}


@pytest.mark.req("ES-08")
def test_the_author_cannot_approve_their_own_draft(steward_api: ApiClient) -> None:
    steward_api.post("/masterdata/unit", KG)
    response = steward_api.post("/masterdata/unit/kg/approve", {"signature": signature_of("steward")})
    assert response.status_code == 403
    assert response.json()["code"] == "four_eyes"
    assert Unit.objects.get().status == "draft"


@pytest.mark.req("ES-06")
def test_the_signer_must_be_the_authenticated_person(
    steward_api: ApiClient, approver_api: ApiClient, make_user: Callable[..., Any]
) -> None:
    make_user("qa_reviewer", username="otherqa")
    steward_api.post("/masterdata/unit", KG)
    response = approver_api.post("/masterdata/unit/kg/approve", {"signature": signature_of("otherqa")})
    assert response.status_code == 403
    assert response.json()["code"] == "signer_mismatch"
    assert response.json()["field"] == "signature.username"
    assert Unit.objects.get().status == "draft"
    assert not Signature.objects.exists()


@pytest.mark.req("ES-05", "ES-06")
def test_an_api_signature_always_needs_the_user_id(steward_api: ApiClient, approver_api: ApiClient) -> None:
    steward_api.post("/masterdata/unit", KG)
    response = approver_api.post("/masterdata/unit/kg/approve", {"signature": signature_of("")})
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("signer_id_required", "signature.username")


@pytest.mark.req("ES-06", "INT-06")
def test_an_integration_account_cannot_sign(
    steward_api: ApiClient, token_for: Callable[..., ApiClient], erp: Any
) -> None:
    steward_api.post("/masterdata/unit", KG)
    response = token_for(erp).post(
        "/masterdata/unit/kg/approve", {"signature": signature_of("erp")}, key=new_key()
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_a_person"
    assert Unit.objects.get().status == "draft"


@pytest.mark.req("ES-09")
def test_a_wrong_signature_password_counts_toward_lockout(
    steward_api: ApiClient, approver_api: ApiClient, approver: Any
) -> None:
    steward_api.post("/masterdata/unit", KG)
    response = approver_api.post(
        "/masterdata/unit/kg/approve",
        {"signature": signature_of("qareviewer", password="Not-The-Password-1")},
    )
    assert response.status_code == 401
    assert (response.json()["code"], response.json()["field"]) == (
        "authentication_failed",
        "signature.password",
    )
    assert User.objects.get(pk=approver.pk).failed_login_count == 1
    assert Unit.objects.get().status == "draft"


@pytest.mark.req("ES-09", "AC-03")
def test_repeated_wrong_signature_passwords_lock_the_account(
    steward_api: ApiClient, token_for: Callable[..., Any], approver: Any
) -> None:
    steward_api.post("/masterdata/unit", KG)
    caller = token_for(approver, ["masterdata.*"])
    for _attempt in range(settings.BATCHLINE_LOCKOUT_THRESHOLD):
        caller.post(
            "/masterdata/unit/kg/approve",
            {"signature": signature_of("qareviewer", password="Wrong-1x")},
            key=new_key(),
        )
    assert User.objects.get(pk=approver.pk).is_locked


# --- bad input: a specific 4xx with code and field, and nothing written (INT-04) -----------------------

BAD_UNITS = [
    ("missing field", {k: v for k, v in KG.items() if k != "name_en"}, "name_en", "invalid_field"),
    ("wrong type", {**KG, "dimension": ["mass"]}, "dimension", "invalid_field"),
    ("float quantity", {**KG, "factor": 1.0}, "factor", "invalid_field"),
    ("oversized string", {**KG, "code": "k" * 41}, "code", "invalid_field"),
    ("unknown field", {**KG, "colour": "red"}, "colour", "invalid_field"),
    ("unknown choice", {**KG, "dimension": "weight"}, "dimension", "invalid_field"),
]


@pytest.mark.req("INT-04")
@pytest.mark.parametrize(
    ("body", "field", "code"), [case[1:] for case in BAD_UNITS], ids=[case[0] for case in BAD_UNITS]
)
def test_a_bad_master_data_payload_is_refused_and_writes_nothing(
    steward_api: ApiClient, body: dict[str, Any], field: str, code: str
) -> None:
    before = counts()
    response = steward_api.post("/masterdata/unit", body, key=new_key())
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert response.json()["message"]
    assert counts() == before


@pytest.mark.req("INT-04", "MD-02")
def test_an_unknown_unit_code_is_refused(steward_api: ApiClient) -> None:
    before = counts()
    response = steward_api.post("/masterdata/material", {**MATERIAL, "base_unit": "KGM"})
    assert response.status_code == 422
    assert response.json()["field"] == "base_unit"
    assert "KGM" in response.json()["message"]
    assert counts() == before


@pytest.mark.req("INT-04")
def test_a_float_quantity_is_refused_with_a_clear_message(steward_api: ApiClient) -> None:
    response = steward_api.post("/masterdata/unit", {**KG, "factor": 0.1})
    with translation.override("zh-hans"):
        assert response.json()["message"] == gettext(
            "Quantities must be given as decimal strings, not floating point."
        )
    assert response.json()["errors"] == [{"field": "factor", "message": response.json()["message"]}]


@pytest.mark.req("INT-04")
def test_every_problem_of_a_payload_is_listed(steward_api: ApiClient) -> None:
    response = steward_api.post("/masterdata/unit", {"code": "kg", "factor": 1.5, "colour": "red"})
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"colour", "factor"} <= fields


@pytest.mark.req("INT-04")
def test_a_body_that_is_not_json_is_refused(steward_api: ApiClient) -> None:
    response = steward_api.client.post(
        "/api/v1/masterdata/unit", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


@pytest.mark.req("AT-05")
def test_client_supplied_times_and_users_are_refused(steward_api: ApiClient) -> None:
    for name, value in (
        ("created_at", "2020-01-01T00:00:00Z"),
        ("created_by", "someone"),
        ("approved_by", "qareviewer"),
        ("status", "approved"),
    ):
        response = steward_api.post("/masterdata/unit", {**KG, name: value})
        assert response.status_code == 422
        assert response.json()["field"] == name
    assert not Unit.objects.exists()


@pytest.mark.req("AT-05")
def test_the_server_assigns_the_time_and_the_user(steward_api: ApiClient, steward: Any) -> None:
    before = clock.now()
    steward_api.post("/masterdata/unit", KG, headers={"Date": "Tue, 01 Jan 2019 00:00:00 GMT"})
    unit = Unit.objects.get()
    assert before <= unit.created_at <= clock.now()
    assert unit.created_by_id == steward.pk
    entry = AuditEntry.objects.get(record_type="masterdata.unit")
    assert (entry.actor_username, before <= entry.occurred_at) == ("steward", True)


def test_an_unknown_kind_is_not_found(steward_api: ApiClient) -> None:
    response = steward_api.get("/masterdata/spaceship")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unknown_code_is_not_found(steward_api: ApiClient) -> None:
    response = steward_api.get("/masterdata/unit/nope")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_an_unknown_change_is_not_found(approver_api: ApiClient) -> None:
    response = approver_api.post("/masterdata/changes/999/approve", {"signature": signature_of("qareviewer")})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# --- idempotency (INT-04) ------------------------------------------------------------------------------


@pytest.mark.req("INT-04")
def test_a_replay_returns_the_first_response_and_creates_one_record(steward_api: ApiClient) -> None:
    first = steward_api.post("/masterdata/unit", KG, key="create-kg")
    again = steward_api.post("/masterdata/unit", KG, key="create-kg")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert Unit.objects.count() == 1
    assert AuditEntry.objects.filter(record_type="masterdata.unit").count() == 1


@pytest.mark.req("INT-04")
def test_the_same_key_with_a_different_body_is_refused(steward_api: ApiClient) -> None:
    steward_api.post("/masterdata/unit", KG, key="create-kg")
    response = steward_api.post("/masterdata/unit", {**KG, "name_en": "kilo"}, key="create-kg")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Unit.objects.get().name_en == "kilogram"


@pytest.mark.req("INT-04")
def test_the_same_key_on_another_endpoint_is_refused(steward_api: ApiClient) -> None:
    steward_api.post("/masterdata/unit", KG, key="one-key")
    response = steward_api.post(
        "/masterdata/site", {"code": "S1", "name_zh": "一厂", "name_en": "Plant 1"}, key="one-key"
    )
    assert response.status_code == 409


@pytest.mark.req("INT-04")
def test_a_refused_request_can_be_corrected_and_sent_again_with_the_same_key(steward_api: ApiClient) -> None:
    assert steward_api.post("/masterdata/unit", {**KG, "factor": 1.5}, key="k1").status_code == 422
    assert steward_api.post("/masterdata/unit", KG, key="k1").status_code == 201


@pytest.mark.req("INT-04")
def test_token_callers_must_send_an_idempotency_key(
    token_for: Callable[..., ApiClient], steward: Any
) -> None:
    response = token_for(steward).post("/masterdata/unit", KG)
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (
        "idempotency_key_required",
        "Idempotency-Key",
    )
    assert not Unit.objects.exists()


def test_keys_of_different_accounts_do_not_collide(
    token_for: Callable[..., ApiClient], steward: Any, make_user: Callable[..., Any]
) -> None:
    other = make_user("data_steward", username="steward2")
    assert token_for(steward).post("/masterdata/unit", KG, key="nightly-1").status_code == 201
    response = token_for(other).post(
        "/masterdata/unit", {**KG, "code": "g", "factor": "0.001"}, key="nightly-1"
    )
    assert response.status_code == 201


# --- reading -----------------------------------------------------------------------------------------------


def test_items_are_listed_with_filters_and_pages(
    approved: Callable[..., Any], steward_api: ApiClient, kg: Any
) -> None:
    for code in ("g", "mg"):
        steward_api.post(
            "/masterdata/unit", {**KG, "code": code, "name_en": f"unit {code}", "factor": "0.001"}
        )
    assert [i["code"] for i in steward_api.get("/masterdata/unit", status="draft").json()["items"]] == [
        "g",
        "mg",
    ]
    assert [i["code"] for i in steward_api.get("/masterdata/unit", search="unit m").json()["items"]] == ["mg"]
    page = steward_api.get("/masterdata/unit", page=2, page_size=2).json()
    assert (page["count"], [i["code"] for i in page["items"]]) == (3, ["mg"])


def test_linked_items_are_given_and_shown_by_code(steward_api: ApiClient, kg: Any) -> None:
    response = steward_api.post("/masterdata/material", MATERIAL)
    assert response.json()["fields"]["base_unit"] == "kg"
    assert steward_api.get("/masterdata/material/RM-001").json()["fields"]["shelf_life_days"] == 730


# --- changes to approved items (MD-01) ---------------------------------------------------------------------


@pytest.mark.req("MD-01", "AT-02")
def test_a_change_to_an_approved_item_needs_a_reason_and_change_control(
    steward_api: ApiClient, kg: Any
) -> None:
    response = steward_api.post(
        "/masterdata/unit/kg/changes",
        {"fields": {"name_en": "Kilogram"}, "reason": "", "change_control_ref": "CC-1"},
    )
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        422,
        "reason_required",
        "reason",
    )
    response = steward_api.post(
        "/masterdata/unit/kg/changes",
        {"fields": {"name_en": "Kilogram"}, "reason": "typo", "change_control_ref": " "},
    )
    assert (response.json()["code"], response.json()["field"]) == (
        "change_control_required",
        "change_control_ref",
    )
    assert not MasterDataChange.objects.exists()


@pytest.mark.req("MD-01", "ES-03")
def test_an_approved_change_makes_the_next_version(
    steward_api: ApiClient, approver_api: ApiClient, kg: Any
) -> None:
    proposed = steward_api.post(
        "/masterdata/unit/kg/changes",
        {"fields": {"name_en": "Kilogram"}, "reason": "capitalised", "change_control_ref": "CC-2026-001"},
    )
    assert proposed.status_code == 201
    change_id = proposed.json()["id"]
    assert steward_api.get("/masterdata/unit/kg").json()["pending_change_id"] == change_id
    assert [c["id"] for c in approver_api.get("/masterdata/changes").json()["items"]] == [change_id]
    decided = approver_api.post(
        f"/masterdata/changes/{change_id}/approve", {"signature": signature_of("qareviewer")}
    )
    assert decided.status_code == 200
    assert decided.json()["change"]["status"] == "approved"
    assert (decided.json()["item"]["version"], decided.json()["item"]["fields"]["name_en"]) == (2, "Kilogram")
    assert approver_api.get("/masterdata/changes").json()["count"] == 0
    assert approver_api.get("/masterdata/changes", status="approved").json()["count"] == 1


@pytest.mark.req("MD-01")
def test_a_change_can_be_rejected_with_a_comment(
    steward_api: ApiClient, approver_api: ApiClient, kg: Any
) -> None:
    change_id = steward_api.post(
        "/masterdata/unit/kg/changes",
        {"fields": {"symbol": "KG"}, "reason": "symbol", "change_control_ref": "CC-1"},
    ).json()["id"]
    response = approver_api.post(
        f"/masterdata/changes/{change_id}/reject", {"comment": "lower case is the SI symbol"}
    )
    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    assert Unit.objects.get().symbol == ""


@pytest.mark.req("MD-01")
def test_the_proposer_withdraws_a_change(steward_api: ApiClient, kg: Any) -> None:
    change_id = steward_api.post(
        "/masterdata/unit/kg/changes",
        {"fields": {}, "retire": True, "reason": "unused", "change_control_ref": "CC-1"},
    ).json()["id"]
    response = steward_api.post(
        f"/masterdata/changes/{change_id}/withdraw", {"comment": "still used after all"}
    )
    assert (response.status_code, response.json()["status"]) == (200, "withdrawn")


@pytest.mark.req("AT-07")
def test_a_draft_is_voided_not_deleted(steward_api: ApiClient) -> None:
    steward_api.post("/masterdata/unit", KG)
    response = steward_api.post("/masterdata/unit/kg/void", {"reason": "created by mistake"})
    assert (response.status_code, response.json()["status"]) == (200, "retired")
    assert Unit.objects.filter(code="kg").exists()


@pytest.mark.req("MD-01")
def test_an_approved_item_cannot_be_patched(steward_api: ApiClient, kg: Any) -> None:
    response = steward_api.patch("/masterdata/unit/kg", {"name_en": "Kilogram"})
    assert (response.status_code, response.json()["code"]) == (409, "wrong_status")


def test_a_draft_is_patched_field_by_field(steward_api: ApiClient) -> None:
    steward_api.post("/masterdata/unit", KG)
    response = steward_api.patch("/masterdata/unit/kg", {"symbol": "kg"})
    assert response.status_code == 200
    assert response.json()["fields"]["symbol"] == "kg"
    assert response.json()["fields"]["name_en"] == "kilogram"


# --- the ERP material-master upsert (MD-01, INT-01) --------------------------------------------------------

ERP_MATERIAL = {
    "name_zh": "乳糖",
    "name_en": "Lactose monohydrate",
    "material_type": "raw",
    "base_unit": "kg",
    "storage_condition": "ambient",
    "shelf_life_days": 730,
    "retest_interval_days": 365,
    "incoming_inspection_required": True,
    "gtin": "",
    "drug_code": "",
    "description": "",
}


@pytest.fixture
def erp_api(token_for: Callable[..., ApiClient], erp: Any) -> ApiClient:
    return token_for(erp, ["masterdata.view", "masterdata.import", "masterdata.edit"])


def upsert(client: ApiClient, body: dict[str, Any], code: str = "RM-001") -> Any:
    return client.put(f"/masterdata/materials/{code}", body, key=new_key())


@pytest.mark.req("MD-01", "INT-01")
def test_erp_upsert_creates_a_draft_for_a_new_code(erp_api: ApiClient, kg: Any) -> None:
    response = upsert(erp_api, ERP_MATERIAL)
    assert response.status_code == 201
    assert response.json()["outcome"] == "created"
    assert response.json()["material"]["status"] == "draft"
    assert Material.objects.get().created_by.username == "erp"


@pytest.mark.req("MD-01")
def test_erp_upsert_updates_a_draft(erp_api: ApiClient, kg: Any) -> None:
    upsert(erp_api, ERP_MATERIAL)
    response = upsert(erp_api, {**ERP_MATERIAL, "shelf_life_days": 1095})
    assert (response.status_code, response.json()["outcome"]) == (200, "updated")
    assert Material.objects.get().shelf_life_days == 1095


@pytest.mark.req("MD-01")
def test_erp_upsert_of_identical_values_changes_nothing(erp_api: ApiClient, kg: Any) -> None:
    upsert(erp_api, ERP_MATERIAL)
    entries = AuditEntry.objects.count()
    response = upsert(erp_api, ERP_MATERIAL)
    assert (response.status_code, response.json()["outcome"]) == (200, "unchanged")
    assert AuditEntry.objects.count() == entries


@pytest.fixture
def approved_material(erp_api: ApiClient, kg: Any, approver: Any) -> Material:
    upsert(erp_api, ERP_MATERIAL)
    return services.approve_item(
        actor=approver, kind=kind_of("material"), item_id=Material.objects.get().pk, signature=sig(approver)
    )


@pytest.mark.req("MD-01", "AT-02")
def test_erp_upsert_of_an_approved_material_needs_reason_and_change_control(
    erp_api: ApiClient, approved_material: Material
) -> None:
    response = upsert(erp_api, {**ERP_MATERIAL, "shelf_life_days": 1095})
    assert (response.status_code, response.json()["code"]) == (422, "reason_required")
    response = upsert(erp_api, {**ERP_MATERIAL, "shelf_life_days": 1095, "reason": "stability data"})
    assert (response.status_code, response.json()["code"]) == (422, "change_control_required")
    assert not MasterDataChange.objects.exists()


@pytest.mark.req("MD-01")
def test_erp_upsert_of_an_approved_material_proposes_a_change(
    erp_api: ApiClient, approved_material: Material
) -> None:
    response = upsert(
        erp_api,
        {
            **ERP_MATERIAL,
            "shelf_life_days": 1095,
            "reason": "stability data",
            "change_control_ref": "CC-2026-014",
        },
    )
    assert response.status_code == 202
    body = response.json()
    assert body["outcome"] == "change_proposed"
    assert body["change"]["proposed"] == {"shelf_life_days": 1095}
    assert body["material"]["shelf_life_days"] == 730  # unchanged until a second person approves
    assert Material.objects.get().shelf_life_days == 730


@pytest.mark.req("MD-01")
def test_erp_resending_a_pending_change_reports_it_pending(
    erp_api: ApiClient, approved_material: Material
) -> None:
    changed = {
        **ERP_MATERIAL,
        "shelf_life_days": 1095,
        "reason": "stability data",
        "change_control_ref": "CC-1",
    }
    upsert(erp_api, changed)
    response = upsert(erp_api, changed)
    assert (response.status_code, response.json()["outcome"]) == (202, "change_pending")
    assert MasterDataChange.objects.count() == 1
    other = upsert(erp_api, {**changed, "shelf_life_days": 365})
    assert (other.status_code, other.json()["code"]) == (409, "pending_change_exists")


@pytest.mark.req("MD-01")
def test_erp_upsert_of_an_unchanged_approved_material_needs_no_reason(
    erp_api: ApiClient, approved_material: Material
) -> None:
    response = upsert(erp_api, ERP_MATERIAL)
    assert (response.status_code, response.json()["outcome"]) == (200, "unchanged")


ERP_BAD = [
    ("missing field", {k: v for k, v in ERP_MATERIAL.items() if k != "name_en"}, "name_en", "invalid_input"),
    (
        "wrong type",
        {**ERP_MATERIAL, "incoming_inspection_required": "yes"},
        "incoming_inspection_required",
        "invalid_input",
    ),
    ("float number", {**ERP_MATERIAL, "shelf_life_days": 730.0}, "shelf_life_days", "invalid_input"),
    ("oversized string", {**ERP_MATERIAL, "name_en": "x" * 201}, "name_en", "invalid_input"),
    ("unknown field", {**ERP_MATERIAL, "created_at": "2020-01-01T00:00:00Z"}, "created_at", "invalid_input"),
    ("unknown choice", {**ERP_MATERIAL, "material_type": "solid"}, "material_type", "invalid_input"),
    ("unknown unit", {**ERP_MATERIAL, "base_unit": "KGM"}, "base_unit", "invalid_field"),
    (
        "unmapped unit",
        {**ERP_MATERIAL, "base_unit": "KGM", "source_system": "SAP"},
        "base_unit",
        "unknown_unit",
    ),
    ("bad GTIN", {**ERP_MATERIAL, "gtin": "12345678"}, "gtin", "invalid_field"),
]


@pytest.mark.req("INT-04", "MD-02")
@pytest.mark.parametrize(
    ("body", "field", "code"), [case[1:] for case in ERP_BAD], ids=[c[0] for c in ERP_BAD]
)
def test_a_bad_erp_material_is_refused_and_writes_nothing(
    erp_api: ApiClient, kg: Any, body: dict[str, Any], field: str, code: str
) -> None:
    before = counts()
    response = upsert(erp_api, body)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert counts() == before


@pytest.mark.req("MD-03")
def test_erp_unit_codes_are_translated_through_the_code_maps(
    erp_api: ApiClient, kg: Any, steward: Any
) -> None:
    from batchline.masterdata.codemaps import save_mapping

    save_mapping(actor=steward, system="SAP", kind="unit", external_code="KGM", internal_code="kg")
    response = upsert(erp_api, {**ERP_MATERIAL, "base_unit": "KGM", "source_system": "SAP"})
    assert response.status_code == 201
    assert response.json()["material"]["base_unit"] == "kg"


@pytest.mark.req("INT-04")
def test_an_erp_replay_returns_the_first_result(erp_api: ApiClient, kg: Any) -> None:
    first = erp_api.put("/masterdata/materials/RM-001", ERP_MATERIAL, key="MAT-RM-001-20261122")
    again = erp_api.put("/masterdata/materials/RM-001", ERP_MATERIAL, key="MAT-RM-001-20261122")
    assert (again.status_code, again.json()) == (first.status_code, first.json()) == (201, first.json())
    assert Material.objects.count() == 1


@pytest.mark.req("AC-02")
def test_erp_upsert_needs_the_import_permission(
    token_for: Callable[..., ApiClient], steward: Any, kg: Any
) -> None:
    response = upsert(token_for(steward, ["masterdata.view", "masterdata.edit"]), ERP_MATERIAL)
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


@pytest.mark.req("MD-01", "AT-07")
def test_erp_upsert_of_a_retired_material_is_refused(erp_api: ApiClient, kg: Any, steward: Any) -> None:
    upsert(erp_api, ERP_MATERIAL)
    services.void_draft(
        actor=steward, kind=kind_of("material"), item_id=Material.objects.get().pk, reason="dup"
    )
    response = upsert(erp_api, {**ERP_MATERIAL, "name_en": "Lactose"})
    assert (response.status_code, response.json()["code"]) == (409, "wrong_status")
    assert Material.objects.get().name_en == "Lactose monohydrate"


@pytest.mark.req("MD-01", "ES-05", "ES-01")
def test_a_material_is_created_and_approved_over_the_api(
    steward_api: ApiClient, approver_api: ApiClient, kg: Any
) -> None:
    assert steward_api.post("/masterdata/material", MATERIAL, key=new_key()).status_code == 201
    response = approver_api.post(
        "/masterdata/material/RM-001/approve", {"signature": signature_of("qareviewer")}, key=new_key()
    )
    assert (response.status_code, response.json()["status"], response.json()["approved_by"]) == (
        200,
        "approved",
        "qareviewer",
    )
    material = Material.objects.get()
    trail = approver_api.get(f"/audit/records/masterdata.material/{material.pk}").json()
    assert [e["action"] for e in trail["entries"]] == ["create", "approve"]
    signed = trail["signatures"][0]
    assert (signed["signer_name"], signed["meaning_en"], signed["applies"]) == (
        "李华 Li Hua",
        "Approved",
        True,
    )
