"""Master-data screens: create, approve with e-signature, change with reason, versions and manifest."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from batchline.compliance.errors import FourEyesViolation
from batchline.compliance.models import AuditEntry, Signature
from batchline.core.clock import format_site
from batchline.identity.models import User
from batchline.masterdata import services
from batchline.masterdata.models import MasterDataChange, Material
from batchline.masterdata.registry import kind_of
from conftest import PASSWORD

MATERIAL = kind_of("material")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def material_form(**overrides: str) -> dict[str, str]:
    data = {"code": "RM-001", "name_zh": "乳糖", "name_en": "Lactose monohydrate", "material_type": "raw",
            "base_unit": "kg", "storage_condition": "ambient", "shelf_life_days": "730",
            "retest_interval_days": "365", "incoming_inspection_required": "yes", "gtin": "", "drug_code": "",
            "description": ""}
    data.update(overrides)
    return data


def detail_url(item: Any) -> str:
    return reverse("web:masterdata_detail", args=["material", item.pk])


def signature_fields(password: str = PASSWORD, username: str | None = None) -> dict[str, str]:
    fields = {"sig_password": password}
    if username is not None:
        fields["sig_username"] = username
    return fields


def error_code(html: str) -> str | None:
    found = re.search(r'data-testid="error" data-code="([^"]+)"', html)
    return found.group(1) if found else None


def manifest_of(html: str) -> str:
    found = re.search(r'<table class="manifest".*?</table>', html, re.S)
    assert found, "no signature manifest on the page"
    return found.group(0)


@pytest.fixture
def draft(steward: Any, kg: Any) -> Material:
    return services.create_item(actor=steward, kind=MATERIAL, data=material_form())  # type: ignore[return-value]


@pytest.fixture
def approved_material(approved: Callable[..., Any], kg: Any) -> Material:
    return approved("material", **material_form())  # type: ignore[no-any-return]


# --- create -----------------------------------------------------------------------------------------

@pytest.mark.req("AT-01", "MD-01")
def test_creating_a_material_through_the_form_saves_a_draft_and_an_audit_entry(steward: Any, kg: Any) -> None:
    response = client_for(steward).post(reverse("web:masterdata_create", args=["material"]), material_form())

    item = Material.objects.get(code="RM-001")
    assert response.status_code == 302
    assert response["Location"] == detail_url(item)
    assert item.status == "draft"
    assert item.base_unit == kg
    assert item.incoming_inspection_required is True
    entry = AuditEntry.objects.get(record_type="masterdata.material", record_id=str(item.pk))
    assert (entry.action, entry.actor_username) == ("create", "steward")
    assert ("name_en", None, "Lactose monohydrate") in entry.change_items


def test_an_unticked_checkbox_is_saved_as_no(steward: Any, kg: Any) -> None:
    form = material_form()
    del form["incoming_inspection_required"]

    client_for(steward).post(reverse("web:masterdata_create", args=["material"]), form)

    assert Material.objects.get(code="RM-001").incoming_inspection_required is False


@pytest.mark.req("MD-01")
def test_invalid_field_values_show_each_field_error_and_write_nothing(steward: Any, kg: Any) -> None:
    entries_before = AuditEntry.objects.count()

    response = client_for(steward).post(reverse("web:masterdata_create", args=["material"]),
                                        material_form(shelf_life_days="two years", material_type="powder",
                                                      base_unit="lb"))

    html = response.content.decode()
    assert response.status_code == 422
    for field in ("shelf_life_days", "material_type", "base_unit"):
        block = re.search(rf'<div class="field has-error" data-field="{field}">(.*?)</div>', html, re.S)
        assert block and 'data-testid="field-error"' in block.group(1), field
    assert 'value="two years"' in html  # what the person typed stays in the form
    assert not Material.objects.exists()
    assert AuditEntry.objects.count() == entries_before


@pytest.mark.req("MD-01")
def test_a_rule_error_is_shown_next_to_its_field(steward: Any, kg: Any) -> None:
    response = client_for(steward).post(reverse("web:masterdata_create", args=["material"]),
                                        material_form(gtin="12345"))

    assert response.status_code == 422
    assert re.search(r'<div class="field has-error" data-field="gtin">.*?data-testid="field-error"',
                     response.content.decode(), re.S)
    assert not Material.objects.exists()


def test_a_code_that_is_taken_is_shown_next_to_the_code(steward: Any, draft: Material) -> None:
    response = client_for(steward).post(reverse("web:masterdata_create", args=["material"]), material_form())

    assert response.status_code == 409
    assert re.search(r'data-field="code">.*?data-testid="field-error"', response.content.decode(), re.S)
    assert Material.objects.count() == 1


@pytest.mark.req("AC-02")
def test_a_user_without_masterdata_edit_cannot_create(make_user: Callable[..., Any], kg: Any) -> None:
    operator = client_for(make_user("operator"))
    url = reverse("web:masterdata_create", args=["material"])

    assert operator.get(url).status_code == 403
    assert operator.post(url, material_form()).status_code == 403
    assert not Material.objects.exists()


@pytest.mark.req("AC-02")
def test_the_list_offers_create_only_to_those_who_may_edit(make_user: Callable[..., Any], steward: Any,
                                                           kg: Any) -> None:
    url = reverse("web:masterdata_list", args=["material"])

    assert 'data-testid="create"' not in client_for(make_user("operator")).get(url).content.decode()
    assert 'data-testid="create"' in client_for(steward).get(url).content.decode()


@pytest.mark.req("AC-02")
def test_reading_master_data_needs_masterdata_view(admin_user: Any) -> None:
    assert client_for(admin_user).get(reverse("web:masterdata_index")).status_code == 403


# --- index and list ---------------------------------------------------------------------------------

def test_the_index_counts_items_by_status_and_pending_changes(steward: Any,
                                                              approved_material: Material) -> None:
    services.propose_change(actor=steward, kind=MATERIAL, item_id=approved_material.pk,
                            data={"name_en": "Lactose"}, reason="Spelling", change_control_ref="CC-1")

    html = client_for(steward).get(reverse("web:masterdata_index")).content.decode()

    row = re.search(r'<tr data-kind="material">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">(.*?)</td>', row.group(1), re.S)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in cells] == ["0", "1", "0", "1"]


def test_the_list_searches_by_code_or_name_and_filters_by_status(steward: Any, approved: Callable[..., Any],
                                                                 kg: Any) -> None:
    approved("material", **material_form(code="RM-001", name_zh="乳糖", name_en="Lactose"))
    services.create_item(actor=steward, kind=MATERIAL, data=material_form(code="RM-002", name_zh="淀粉",
                                                                          name_en="Starch"))
    url = reverse("web:masterdata_list", args=["material"])
    client = client_for(steward)

    by_name = client.get(url, {"q": "淀粉"}).content.decode()
    by_status = client.get(url, {"status": "approved"}).content.decode()

    assert "RM-002" in by_name and "RM-001" not in by_name
    assert "RM-001" in by_status and "RM-002" not in by_status


# --- approval with e-signature ------------------------------------------------------------------------

@pytest.mark.req("ES-08")
def test_the_author_cannot_approve_their_own_draft(steward: Any, draft: Material) -> None:
    response = client_for(steward).post(reverse("web:masterdata_approve", args=["material", draft.pk]),
                                        signature_fields(username="steward"))

    with translation.override(steward.language):
        expected = FourEyesViolation(rule=gettext("Author and approver")).render()
    assert response.status_code == 403
    assert error_code(response.content.decode()) == "four_eyes"
    assert escape(expected) in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert not Signature.objects.filter(record_type="masterdata.material", record_id=str(draft.pk)).exists()


@pytest.mark.req("ES-05")
def test_the_first_signature_of_a_session_needs_the_user_id(approver: Any, draft: Material) -> None:
    client = client_for(approver)
    url = reverse("web:masterdata_approve", args=["material", draft.pk])
    assert 'data-testid="sig-username"' in client.get(detail_url(draft)).content.decode()

    without_id = client.post(url, signature_fields())
    with_id = client.post(url, signature_fields(username="qareviewer"))

    assert error_code(without_id.content.decode()) == "signer_id_required"
    assert with_id.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.approved_by) == ("approved", approver)


@pytest.mark.req("ES-06")
def test_signing_with_another_persons_user_id_is_refused(approver: Any, steward: Any,
                                                         draft: Material) -> None:
    response = client_for(approver).post(reverse("web:masterdata_approve", args=["material", draft.pk]),
                                         signature_fields(username="steward"))

    assert error_code(response.content.decode()) == "signer_mismatch"
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert not Signature.objects.filter(record_type="masterdata.material", record_id=str(draft.pk)).exists()


@pytest.mark.req("ES-05")
def test_later_signatures_in_the_session_need_only_the_password(approver: Any, steward: Any,
                                                                draft: Material) -> None:
    second = services.create_item(actor=steward, kind=MATERIAL, data=material_form(code="RM-002"))
    client = client_for(approver)
    client.post(reverse("web:masterdata_approve", args=["material", draft.pk]),
                signature_fields(username="qareviewer"))

    page = client.get(detail_url(second)).content.decode()
    response = client.post(reverse("web:masterdata_approve", args=["material", second.pk]),
                           signature_fields())

    assert 'data-testid="sig-username"' not in page
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == "approved"


@pytest.mark.req("ES-09")
def test_a_wrong_signature_password_counts_toward_lockout(approver: Any, draft: Material) -> None:
    response = client_for(approver).post(reverse("web:masterdata_approve", args=["material", draft.pk]),
                                         signature_fields(password="Not-My-Password-1",
                                                          username="qareviewer"))

    assert error_code(response.content.decode()) == "authentication_failed"
    assert User.objects.get(pk=approver.pk).failed_login_count == 1
    draft.refresh_from_db()
    assert draft.status == "draft"


@pytest.mark.req("ES-01")
def test_the_manifest_shows_printed_name_time_with_zone_and_meaning(approver: Any, draft: Material) -> None:
    client = client_for(approver)
    client.post(reverse("web:masterdata_approve", args=["material", draft.pk]),
                signature_fields(username="qareviewer"))

    manifest = manifest_of(client.get(detail_url(draft)).content.decode())

    signature = Signature.objects.get(record_type="masterdata.material", record_id=str(draft.pk))
    assert escape("李华 Li Hua (qareviewer)") in manifest
    assert format_site(signature.signed_at) in manifest
    assert "(UTC+08:00)" in manifest
    meaning = signature.meaning_zh if approver.language.startswith("zh") else signature.meaning_en
    assert f"<td>{meaning}</td>" in manifest


# --- void and edit of drafts ----------------------------------------------------------------------------

@pytest.mark.req("AT-07")
def test_voiding_a_draft_needs_a_reason_and_keeps_the_item(steward: Any, draft: Material) -> None:
    client = client_for(steward)
    url = reverse("web:masterdata_void", args=["material", draft.pk])

    refused = client.post(url, {"reason": "  "})
    draft.refresh_from_db()
    assert (refused.status_code, error_code(refused.content.decode())) == (422, "reason_required")
    assert draft.status == "draft"

    client.post(url, {"reason": "Entered twice"})
    draft.refresh_from_db()
    assert draft.status == "retired"
    entry = AuditEntry.objects.get(record_id=str(draft.pk), record_type="masterdata.material", action="void")
    assert entry.reason == "Entered twice"


def test_editing_a_draft_saves_the_new_values(steward: Any, draft: Material) -> None:
    client_for(steward).post(reverse("web:masterdata_edit", args=["material", draft.pk]),
                             material_form(name_en="Lactose (anhydrous)"))

    draft.refresh_from_db()
    assert draft.name_en == "Lactose (anhydrous)"
    assert draft.status == "draft"


# --- changes to approved items ------------------------------------------------------------------------------

@pytest.mark.req("AT-02", "MD-01")
@pytest.mark.parametrize(("reason", "reference", "field"), [("", "CC-2026-001", "reason"),
                                                           ("New supplier grade", "", "change_control_ref")])
def test_proposing_a_change_without_reason_or_change_control_is_refused_and_writes_nothing(
        steward: Any, approved_material: Material, reason: str, reference: str, field: str) -> None:
    entries_before = AuditEntry.objects.count()
    form = material_form(name_en="Lactose monohydrate, milled", reason=reason, change_control_ref=reference)

    url = reverse("web:masterdata_propose_change", args=["material", approved_material.pk])

    response = client_for(steward).post(url, form)

    assert response.status_code == 422
    assert re.search(rf'data-field="{field}">.*?data-testid="field-error"', response.content.decode(), re.S)
    assert not MasterDataChange.objects.exists()
    assert AuditEntry.objects.count() == entries_before
    approved_material.refresh_from_db()
    assert approved_material.name_en == "Lactose monohydrate"


@pytest.mark.req("MD-01")
def test_a_proposed_change_holds_only_the_fields_the_person_changed(steward: Any,
                                                                      approved: Callable[..., Any]) -> None:
    litre = approved("unit", code="L", name_zh="升", name_en="litre", dimension="volume", factor="0.001")
    form = {"code": "L", "name_zh": "升", "name_en": "liter", "symbol": "", "dimension": "volume",
            "factor": "0.001", "reason": "US spelling", "change_control_ref": "CC-7"}

    client_for(steward).post(reverse("web:masterdata_propose_change", args=["unit", litre.pk]), form)

    assert MasterDataChange.objects.get().proposed == {"name_en": "liter"}


@pytest.mark.req("AT-06", "MD-01")
def test_an_approved_change_shows_old_and_new_values_and_keeps_the_old_version(
        steward: Any, approver: Any, approved_material: Material) -> None:
    client_for(steward).post(
        reverse("web:masterdata_propose_change", args=["material", approved_material.pk]),
        material_form(name_en="Lactose, milled", reason="Milled grade from now on",
                      change_control_ref="CC-2026-014"))
    reviewer = client_for(approver)

    pending = reviewer.get(detail_url(approved_material)).content.decode()
    diff = re.search(r'data-testid="pending-diff">(.*?)</table>', pending, re.S)
    assert diff is not None
    assert '<td class="old">Lactose monohydrate</td><td class="new">Lactose, milled</td>' in diff.group(1)
    assert "CC-2026-014" in pending and "Milled grade from now on" in pending

    change = MasterDataChange.objects.get()
    response = reviewer.post(reverse("web:masterdata_approve_change", args=["material", approved_material.pk,
                                                                              change.pk]),
                             signature_fields(username="qareviewer"))
    assert response.status_code == 302

    page = reviewer.get(detail_url(approved_material)).content.decode()
    names = re.findall(r'<td data-version="(\d+)" data-field="name_en"[^>]*>([^<]*)', page)
    assert {version: value.strip() for version, value in names} == {"1": "Lactose monohydrate",
                                                                     "2": "Lactose, milled"}
    approved_material.refresh_from_db()
    assert (approved_material.version, approved_material.name_en) == (2, "Lactose, milled")


@pytest.mark.req("ES-03")
def test_the_manifest_shows_that_an_earlier_signature_no_longer_applies_after_a_change(
        steward: Any, approver: Any, approved_material: Material) -> None:
    change = services.propose_change(actor=steward, kind=MATERIAL, item_id=approved_material.pk,
                                     data={"shelf_life_days": "1095"}, reason="Stability data",
                                     change_control_ref="CC-9")
    reviewer = client_for(approver)
    reviewer.post(reverse("web:masterdata_approve_change", args=["material", approved_material.pk,
                                                                 change.pk]),
                  signature_fields(username="qareviewer"))

    page = reviewer.get(detail_url(approved_material)).content.decode()
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", manifest_of(page), re.S)

    assert len(rows) == 2
    assert '<span class="warn">' in rows[0]  # the first approval signed version 1
    assert '<span class="ok">' in rows[1]


@pytest.mark.req("ES-08")
def test_the_proposer_cannot_approve_their_own_change(steward: Any, approved_material: Material) -> None:
    change = services.propose_change(actor=steward, kind=MATERIAL, item_id=approved_material.pk,
                                     data={"name_en": "Lactose"}, reason="Shorter", change_control_ref="CC-3")

    response = client_for(steward).post(
        reverse("web:masterdata_approve_change", args=["material", approved_material.pk, change.pk]),
        signature_fields(username="steward"))

    assert error_code(response.content.decode()) == "four_eyes"
    change.refresh_from_db()
    assert change.status == "pending"


@pytest.mark.req("MD-01")
def test_an_approved_retirement_retires_the_item(steward: Any, approver: Any,
                                                 approved_material: Material) -> None:
    client_for(steward).post(
        reverse("web:masterdata_propose_retirement", args=["material", approved_material.pk]),
        {"reason": "Discontinued", "change_control_ref": "CC-11"})
    change = MasterDataChange.objects.get(kind="retire")

    client_for(approver).post(
        reverse("web:masterdata_approve_change", args=["material", approved_material.pk, change.pk]),
        signature_fields(username="qareviewer"))

    approved_material.refresh_from_db()
    assert approved_material.status == "retired"


def test_rejecting_a_change_needs_a_comment(steward: Any, approver: Any, approved_material: Material) -> None:
    change = services.propose_change(actor=steward, kind=MATERIAL, item_id=approved_material.pk,
                                     data={"name_en": "Lactose"}, reason="Shorter", change_control_ref="CC-3")
    reviewer = client_for(approver)
    url = reverse("web:masterdata_reject_change", args=["material", approved_material.pk, change.pk])

    refused = reviewer.post(url, {"comment": ""})
    change.refresh_from_db()
    assert (error_code(refused.content.decode()), change.status) == ("reason_required", "pending")

    reviewer.post(url, {"comment": "Name is in the registration dossier"})
    change.refresh_from_db()
    assert (change.status, change.decision_comment) == ("rejected", "Name is in the registration dossier")


def test_the_proposer_can_withdraw_their_change(steward: Any, approved_material: Material) -> None:
    change = services.propose_change(actor=steward, kind=MATERIAL, item_id=approved_material.pk,
                                     data={"name_en": "Lactose"}, reason="Shorter", change_control_ref="CC-3")

    client_for(steward).post(
        reverse("web:masterdata_withdraw_change", args=["material", approved_material.pk, change.pk]),
        {"comment": "Proposed by mistake"})

    change.refresh_from_db()
    assert change.status == "withdrawn"
