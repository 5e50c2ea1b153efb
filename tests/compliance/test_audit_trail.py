"""The audit trail of master-data actions: who, when, what, old/new, why (AT-01/02/05/06/07)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.compliance.selectors import record_history
from batchline.core import clock
from batchline.core.context import correlation
from batchline.core.errors import ReasonRequired
from batchline.masterdata import services
from batchline.masterdata.errors import ContentInvalid
from batchline.masterdata.models import MasterDataChange, MasterDataVersion, Unit
from batchline.masterdata.registry import kind_of
from conftest import sig

UNIT = kind_of("unit")
GRAM = {"code": "g", "name_zh": "克", "name_en": "gram", "dimension": "mass", "factor": "0.001"}


def last_entry(record: Any, record_type: str = "masterdata.unit") -> AuditEntry:
    return AuditEntry.objects.filter(record_type=record_type, record_id=str(record.pk)).latest("sequence")


def changes(entry: AuditEntry) -> dict[str, list[Any]]:
    return json.loads(entry.changes)


@pytest.mark.req("AT-01")
def test_create_writes_an_entry_with_user_action_record_and_new_values(steward: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    entry = last_entry(item)
    assert (entry.actor_id, entry.actor_username) == (steward.pk, "steward")
    assert entry.actor_name == "王明 Wang Ming"
    assert (entry.action, entry.record_type, entry.record_id, entry.record_label) == (
        "create", "masterdata.unit", str(item.pk), "g")
    assert changes(entry)["name_en"] == [None, "gram"]
    assert changes(entry)["factor"] == [None, "0.001"]


@pytest.mark.req("AT-01")
def test_draft_edit_writes_old_and_new_value_of_each_changed_field_only(steward: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    services.update_draft(actor=steward, kind=UNIT, item_id=item.pk, data={"name_en": "gramme"})
    assert changes(last_entry(item)) == {"name_en": ["gram", "gramme"]}


@pytest.mark.req("AT-01", "AT-07")
def test_void_writes_an_entry_with_the_reason(steward: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    services.void_draft(actor=steward, kind=UNIT, item_id=item.pk, reason="created by mistake")
    entry = last_entry(item)
    assert (entry.action, entry.reason) == ("void", "created by mistake")
    assert changes(entry) == {"status": ["draft", "retired"]}


@pytest.mark.req("AT-01")
def test_approval_writes_an_entry_bound_to_the_signature(steward: Any, approver: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    services.approve_item(actor=approver, kind=UNIT, item_id=item.pk, signature=sig(approver))
    entry = last_entry(item)
    assert (entry.action, entry.actor_username) == ("approve", "qareviewer")
    assert changes(entry) == {"status": ["draft", "approved"]}
    assert entry.signature is not None and entry.signature.meaning == "approve"


@pytest.mark.req("AT-01")
def test_approved_change_writes_old_and_new_values_with_the_reason(approved: Callable[..., Any], steward: Any,
                                                                   make_user: Callable[..., Any]) -> None:
    gram = approved("unit", **GRAM)
    change = services.propose_change(actor=steward, kind=UNIT, item_id=gram.pk, data={"name_en": "gramme"},
                                     reason="British spelling", change_control_ref="CC-2026-001")
    second = make_user("qa_reviewer")
    services.approve_change(actor=second, change_id=change.pk, signature=sig(second))
    entry = last_entry(gram)
    assert (entry.action, entry.reason) == ("change", "British spelling")
    assert entry.actor_username == second.username
    assert changes(entry) == {"name_en": ["gram", "gramme"], "version": [1, 2]}


@pytest.mark.req("AT-01")
def test_entry_carries_the_request_correlation_id(steward: Any) -> None:
    with correlation("req-0042"):
        item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    assert last_entry(item).correlation_id == "req-0042"


@pytest.mark.req("AT-01")
def test_entry_time_is_utc(steward: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    assert last_entry(item).occurred_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


# --- reason for change (AT-02) -------------------------------------------------------------------

@pytest.mark.req("AT-02", "MD-01")
def test_change_of_an_approved_item_without_reason_is_refused_and_writes_nothing(
        approved: Callable[..., Any], steward: Any) -> None:
    gram = approved("unit", **GRAM)
    entries_before = AuditEntry.objects.count()
    with pytest.raises(ReasonRequired):
        services.propose_change(actor=steward, kind=UNIT, item_id=gram.pk, data={"name_en": "gramme"},
                                reason="   ", change_control_ref="CC-2026-001")
    assert AuditEntry.objects.count() == entries_before
    assert not MasterDataChange.objects.exists()
    assert Unit.objects.get(pk=gram.pk).name_en == "gram"


@pytest.mark.req("AT-02", "AT-07")
def test_void_without_reason_is_refused_and_writes_nothing(steward: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    entries_before = AuditEntry.objects.count()
    with pytest.raises(ReasonRequired):
        services.void_draft(actor=steward, kind=UNIT, item_id=item.pk, reason="")
    assert AuditEntry.objects.count() == entries_before
    assert Unit.objects.get(pk=item.pk).status == "draft"


@pytest.mark.req("AT-02")
def test_rejection_without_a_comment_is_refused(approved: Callable[..., Any], steward: Any,
                                                approver: Any) -> None:
    gram = approved("unit", **GRAM)
    change = services.propose_change(actor=steward, kind=UNIT, item_id=gram.pk, data={"name_en": "gramme"},
                                     reason="British spelling", change_control_ref="CC-2026-001")
    with pytest.raises(ReasonRequired):
        services.reject_change(actor=approver, change_id=change.pk, comment="")
    assert MasterDataChange.objects.get(pk=change.pk).status == "pending"


# --- the server assigns times and users (AT-05) -------------------------------------------------

@pytest.mark.req("AT-05")
def test_entry_time_is_the_servers_time_of_the_action(steward: Any) -> None:
    before = clock.now()
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    after = clock.now()
    entry = last_entry(item)
    assert before <= entry.occurred_at <= after
    assert before <= item.created_at <= after


@pytest.mark.req("AT-05")
@pytest.mark.parametrize("field", ["created_at", "created_by", "approved_at", "approved_by", "status",
                                   "version"])
def test_client_supplied_times_users_and_status_are_refused(steward: Any, field: str) -> None:
    with pytest.raises(ContentInvalid) as refused:
        services.create_item(actor=steward, kind=UNIT, data={**GRAM, field: "2020-01-01"})
    assert refused.value.field == field
    assert not Unit.objects.exists()


@pytest.mark.req("AT-05")
def test_entry_user_is_the_acting_user(steward: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    assert (last_entry(item).actor_id, item.created_by_id) == (steward.pk, steward.pk)


# --- history (AT-06) ---------------------------------------------------------------------------

@pytest.mark.req("AT-06")
def test_record_history_lists_every_entry_oldest_first(steward: Any, approver: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    services.update_draft(actor=steward, kind=UNIT, item_id=item.pk, data={"name_en": "gramme"})
    services.approve_item(actor=approver, kind=UNIT, item_id=item.pk, signature=sig(approver))
    history = list(record_history("masterdata.unit", str(item.pk)))
    assert [(e.sequence, e.action) for e in history] == [(1, "create"), (2, "update"), (3, "approve")]


@pytest.mark.req("AT-06")
def test_approved_change_keeps_the_original_value_visible(approved: Callable[..., Any], steward: Any,
                                                          make_user: Callable[..., Any]) -> None:
    gram = approved("unit", **GRAM)
    change = services.propose_change(actor=steward, kind=UNIT, item_id=gram.pk, data={"name_en": "gramme"},
                                     reason="British spelling", change_control_ref="CC-2026-001")
    second = make_user("qa_reviewer")
    services.approve_change(actor=second, change_id=change.pk, signature=sig(second))
    history = list(record_history("masterdata.unit", gram.pk))
    assert changes(history[-1])["name_en"] == ["gram", "gramme"]
    versions = {v.version: v.content for v in MasterDataVersion.objects.filter(record_id=str(gram.pk),
                                                                                 record_type="masterdata.unit")}
    assert (versions[1]["name_en"], versions[2]["name_en"]) == ("gram", "gramme")


# --- nothing is deleted (AT-07) -----------------------------------------------------------------

@pytest.mark.req("AT-07")
def test_voided_draft_is_kept_as_retired(steward: Any) -> None:
    item = services.create_item(actor=steward, kind=UNIT, data=GRAM)
    services.void_draft(actor=steward, kind=UNIT, item_id=item.pk, reason="created by mistake")
    assert Unit.objects.get(pk=item.pk).status == "retired"


@pytest.mark.req("AT-07")
def test_approved_item_is_retired_by_an_approved_change_not_deleted(
        approved: Callable[..., Any], steward: Any, make_user: Callable[..., Any]) -> None:
    gram = approved("unit", **GRAM)
    change = services.propose_change(actor=steward, kind=UNIT, item_id=gram.pk, data={}, retire=True,
                                     reason="no longer used", change_control_ref="CC-2026-002")
    second = make_user("qa_reviewer")
    services.approve_change(actor=second, change_id=change.pk, signature=sig(second))
    assert Unit.objects.get(pk=gram.pk).status == "retired"
    assert last_entry(gram).action == "retire"


@pytest.mark.req("AT-07")
def test_master_data_services_offer_no_delete() -> None:
    assert not [name for name in dir(services) if "delete" in name.lower()]
