"""Electronic signatures (ES-01..ES-08): re-authentication, controlled meaning with authority,
snapshots of name and meaning, binding to the exact content, four eyes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from batchline.compliance import meanings
from batchline.compliance.errors import (
    FourEyesViolation,
    MeaningNotAllowed,
    SignatureInvalid,
    SignerIdRequired,
    SignerMismatch,
)
from batchline.compliance.models import Signature
from batchline.compliance.selectors import signatures_of
from batchline.compliance.signatures import SignatureRequest, ensure_applies, sign, signature_applies
from batchline.core.clock import format_site
from batchline.core.errors import PermissionDenied
from batchline.identity import services as identity
from batchline.identity.errors import AuthenticationFailed
from batchline.masterdata import services
from batchline.masterdata.models import Unit
from batchline.masterdata.registry import kind_of
from conftest import PASSWORD, sig

UNIT = kind_of("unit")
GRAM = {"code": "g", "name_zh": "克", "name_en": "gram", "dimension": "mass", "factor": "0.001"}


def approval_signature(item: Any) -> Signature:
    return signatures_of("masterdata.unit", item.pk).get(meaning="approve")


def signed(actor: Any, record: Any, request: SignatureRequest, **kwargs: Any) -> Signature:
    with transaction.atomic():
        return sign(actor=actor, request=request, record=record, **kwargs)


# --- what a signature shows, snapshotted (ES-01, ES-02) ------------------------------------------

@pytest.mark.req("ES-01")
def test_signature_records_printed_name_meaning_and_time(kg: Any) -> None:
    signature = approval_signature(kg)
    assert (signature.signer_username, signature.signer_name) == ("qareviewer", "李华 Li Hua")
    assert (signature.meaning, signature.meaning_en, signature.meaning_zh) == ("approve", "Approved", "批准")
    assert format_site(signature.signed_at).endswith("CST (UTC+08:00)")


@pytest.mark.req("ES-02")
def test_signature_keeps_the_printed_name_after_the_signers_name_changes(kg: Any, approver: Any,
                                                                         admin_user: Any) -> None:
    identity.update_profile(actor=admin_user, user_id=approver.pk, full_name="李华 Li Hua-Chen", email="",
                            language="zh-hans", reason="name changed after marriage")
    signature = Signature.objects.get(pk=approval_signature(kg).pk)
    assert signature.signer_name == "李华 Li Hua"


@pytest.mark.req("ES-02")
def test_signature_keeps_its_meaning_after_the_meaning_label_changes(kg: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(meanings._registry, "masterdata.unit", {
        "approve": meanings.Meaning("approve", "Released for use", "放行", "masterdata.approve")})
    signature = Signature.objects.get(pk=approval_signature(kg).pk)
    assert (signature.meaning_en, signature.meaning_zh) == ("Approved", "批准")


# --- bound to the exact content (ES-03, ES-04) ---------------------------------------------------

@pytest.mark.req("ES-03")
def test_signature_applies_to_the_unchanged_record(kg: Any) -> None:
    assert signature_applies(approval_signature(kg), Unit.objects.get(pk=kg.pk))


@pytest.mark.req("ES-03")
def test_signature_no_longer_applies_after_the_record_changes(kg: Any, steward: Any,
                                                              make_user: Callable[..., Any]) -> None:
    first = approval_signature(kg)
    change = services.propose_change(actor=steward, kind=UNIT, item_id=kg.pk, data={"name_en": "kilogramme"},
                                     reason="spelling", change_control_ref="CC-1")
    second = make_user("qa_reviewer")
    services.approve_change(actor=second, change_id=change.pk, signature=sig(second))
    changed = Unit.objects.get(pk=kg.pk)
    assert not signature_applies(first, changed)
    with pytest.raises(SignatureInvalid):
        ensure_applies(first, changed)


@pytest.mark.req("ES-03")
def test_signature_of_a_change_still_applies_when_the_record_is_read_back(
        approved: Callable[..., Any], steward: Any, make_user: Callable[..., Any]) -> None:
    # The approver signs the item holding the submitted factor "0.5"; read back from the database the
    # factor is 0.500000000000. The same content must give the same hash.
    gram = approved("unit", **GRAM)
    change = services.propose_change(actor=steward, kind=UNIT, item_id=gram.pk, data={"factor": "0.5"},
                                     reason="correction", change_control_ref="CC-1")
    second = make_user("qa_reviewer")
    services.approve_change(actor=second, change_id=change.pk, signature=sig(second))
    latest = signatures_of("masterdata.unit", gram.pk).order_by("-id").first()
    assert latest is not None
    assert signature_applies(latest, Unit.objects.get(pk=gram.pk))


@pytest.mark.req("ES-04")
def test_signature_of_one_record_does_not_apply_to_another(kg: Any, approved: Callable[..., Any]) -> None:
    gram = approved("unit", **GRAM)
    assert not signature_applies(approval_signature(kg), gram)


@pytest.mark.req("ES-04")
def test_signature_does_not_apply_to_a_record_of_another_type_with_the_same_id(kg: Any) -> None:
    signature = approval_signature(kg)
    assert not signature_applies(signature, Unit.objects.get(pk=kg.pk), record_type="masterdata.material")


# --- re-authentication and the signer (ES-05, ES-06) ---------------------------------------------

@pytest.mark.req("ES-05")
def test_signing_without_user_id_is_refused_when_the_user_id_is_required(kg: Any, approver: Any) -> None:
    with pytest.raises(SignerIdRequired):
        signed(approver, kg, SignatureRequest(password=PASSWORD, meaning="approve"), username_required=True)


@pytest.mark.req("ES-05")
def test_signing_later_in_a_session_needs_only_the_password(kg: Any, approver: Any) -> None:
    signature = signed(approver, kg, SignatureRequest(password=PASSWORD, meaning="approve"),
                       username_required=False)
    assert signature.signer_id == approver.pk


@pytest.mark.req("ES-05")
def test_signing_with_a_wrong_password_is_refused(kg: Any, approver: Any) -> None:
    with pytest.raises(AuthenticationFailed):
        signed(approver, kg, sig(approver, password="Wrong-Password-1"))
    assert signatures_of("masterdata.unit", kg.pk).count() == 1


@pytest.mark.req("ES-06")
def test_signing_with_someone_elses_user_id_is_refused(kg: Any, approver: Any, steward: Any) -> None:
    # Even with that person's correct password: the signer is the signed-in person or nobody.
    with pytest.raises(SignerMismatch):
        signed(approver, kg, SignatureRequest(password=PASSWORD, meaning="approve", username="steward"))


@pytest.mark.req("ES-06")
def test_signer_is_always_the_acting_person(steward: Any, approver: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    services.approve_item(actor=approver, kind=UNIT, item_id=item.pk, signature=sig(approver))
    signature = approval_signature(item)
    assert (signature.signer_id, signature.signer_username) == (approver.pk, "qareviewer")


@pytest.mark.req("ES-06")
def test_integration_account_cannot_sign(kg: Any, make_user: Callable[..., Any]) -> None:
    from batchline.identity.errors import NotAPerson

    erp = make_user("integration", username="erp", kind="integration")
    with pytest.raises(NotAPerson):
        signed(erp, kg, SignatureRequest(password="", meaning="approve", username="erp"))


# --- meanings and authority (ES-07) --------------------------------------------------------------

@pytest.mark.req("ES-07")
def test_meaning_not_registered_for_the_record_type_is_refused(kg: Any, approver: Any) -> None:
    with pytest.raises(MeaningNotAllowed):
        signed(approver, kg, sig(approver, meaning="quality.usage_decision"))


@pytest.mark.req("ES-07")
def test_meaning_without_its_authority_is_refused(kg: Any, make_user: Callable[..., Any]) -> None:
    operator = make_user("operator")
    with pytest.raises(PermissionDenied):
        signed(operator, kg, sig(operator))


@pytest.mark.req("ES-07")
def test_person_holding_the_authority_can_sign_the_meaning(kg: Any, make_user: Callable[..., Any]) -> None:
    other_steward = make_user("data_steward")
    assert signed(other_steward, kg, sig(other_steward)).meaning == "approve"


@pytest.mark.req("ES-07")
def test_approval_by_a_role_without_the_authority_is_refused_and_writes_nothing(
        steward: Any, make_user: Callable[..., Any]) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    operator = make_user("operator")
    with pytest.raises(PermissionDenied):
        services.approve_item(actor=operator, kind=UNIT, item_id=item.pk, signature=sig(operator))
    assert Unit.objects.get(pk=item.pk).status == "draft"
    assert not Signature.objects.exists()


# --- four eyes (ES-08) ---------------------------------------------------------------------------

@pytest.mark.req("ES-08")
def test_author_cannot_approve_their_own_draft(steward: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    with pytest.raises(FourEyesViolation):
        services.approve_item(actor=steward, kind=UNIT, item_id=item.pk, signature=sig(steward))
    assert Unit.objects.get(pk=item.pk).status == "draft"


@pytest.mark.req("ES-08")
def test_anyone_who_edited_the_draft_cannot_approve_it(steward: Any, make_user: Callable[..., Any]) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    editor = make_user("data_steward")
    services.update_draft(actor=editor, kind=UNIT, item_id=item.pk, data={"name_en": "gramme"})
    with pytest.raises(FourEyesViolation):
        services.approve_item(actor=editor, kind=UNIT, item_id=item.pk, signature=sig(editor))


@pytest.mark.req("ES-08")
def test_proposer_cannot_approve_their_own_change(kg: Any, steward: Any) -> None:
    change = services.propose_change(actor=steward, kind=UNIT, item_id=kg.pk, data={"name_en": "kilogramme"},
                                     reason="spelling", change_control_ref="CC-1")
    with pytest.raises(FourEyesViolation):
        services.approve_change(actor=steward, change_id=change.pk, signature=sig(steward))


@pytest.mark.req("ES-08")
def test_a_second_person_can_approve_the_draft(steward: Any, approver: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    services.approve_item(actor=approver, kind=UNIT, item_id=item.pk, signature=sig(approver))
    assert Unit.objects.get(pk=item.pk).status == "approved"
