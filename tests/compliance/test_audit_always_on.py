"""The audit trail cannot be switched off (AT-04): every changing service writes an entry, and the
events that identity hangs its audit on refuse to go unhandled."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core import events
from batchline.identity import services as identity_services
from batchline.identity.events import ACCESS_CHANGED
from batchline.identity.models import User
from batchline.masterdata import codemaps, numbering
from batchline.masterdata import services as md
from batchline.masterdata.registry import kind_of
from conftest import sig

UNIT = kind_of("unit")
GRAM = {"code": "g", "name_zh": "克", "name_en": "gram", "dimension": "mass", "factor": "0.001"}


@pytest.mark.req("AT-04")
def test_access_change_without_the_audit_subscriber_is_refused_and_rolled_back(
        make_user: Callable[..., Any], admin_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = make_user("operator", username="alice")
    monkeypatch.setitem(events._handlers, ACCESS_CHANGED, [])
    with pytest.raises(RuntimeError, match="no handler for required domain event"):
        identity_services.change_roles(actor=admin_user, user_id=alice.pk, roles=["shift_lead"],
                                       reason="promotion")
    assert User.objects.get(pk=alice.pk).roles == ["operator"]


# --- every master-data service that changes data writes an entry --------------------------------

class Ctx:
    def __init__(self, steward: Any, approver: Any, approved: Callable[..., Any],
                 make_user: Callable[..., Any]) -> None:
        self.steward, self.approver, self.approved, self.make_user = steward, approver, approved, make_user

    def draft(self) -> Any:
        return md.create_item(actor=self.steward, kind=UNIT, data=GRAM)

    def proposal(self) -> Any:
        gram = self.approved("unit", **GRAM)
        return md.propose_change(actor=self.steward, kind=UNIT, item_id=gram.pk, data={"name_en": "gramme"},
                                 reason="spelling", change_control_ref="CC-1")


Case = Callable[[Ctx], tuple[str, Any, str]]  # → (record_type, record_id, action)


def _create_item(c: Ctx) -> tuple[str, Any, str]:
    return "masterdata.unit", c.draft().pk, "create"


def _update_draft(c: Ctx) -> tuple[str, Any, str]:
    item = c.draft()
    md.update_draft(actor=c.steward, kind=UNIT, item_id=item.pk, data={"name_en": "gramme"})
    return "masterdata.unit", item.pk, "update"


def _approve_item(c: Ctx) -> tuple[str, Any, str]:
    item = c.draft()
    md.approve_item(actor=c.approver, kind=UNIT, item_id=item.pk, signature=sig(c.approver))
    return "masterdata.unit", item.pk, "approve"


def _void_draft(c: Ctx) -> tuple[str, Any, str]:
    item = c.draft()
    md.void_draft(actor=c.steward, kind=UNIT, item_id=item.pk, reason="mistake")
    return "masterdata.unit", item.pk, "void"


def _propose_change(c: Ctx) -> tuple[str, Any, str]:
    return "masterdata.masterdatachange", c.proposal().pk, "propose"


def _approve_change(c: Ctx) -> tuple[str, Any, str]:
    change = c.proposal()
    md.approve_change(actor=c.approver, change_id=change.pk, signature=sig(c.approver))
    return "masterdata.unit", change.record_id, "change"


def _reject_change(c: Ctx) -> tuple[str, Any, str]:
    change = c.proposal()
    md.reject_change(actor=c.approver, change_id=change.pk, comment="not needed")
    return "masterdata.masterdatachange", change.pk, "reject"


def _withdraw_change(c: Ctx) -> tuple[str, Any, str]:
    change = c.proposal()
    md.withdraw_change(actor=c.steward, change_id=change.pk, comment="wrong item")
    return "masterdata.masterdatachange", change.pk, "withdraw"


def _save_rule_create(c: Ctx) -> tuple[str, Any, str]:
    rule = numbering.save_rule(actor=c.steward, key="lot", pattern="L{seq:04}")
    return "masterdata.numberrule", rule.pk, "create"


def _save_rule_change(c: Ctx) -> tuple[str, Any, str]:
    numbering.save_rule(actor=c.steward, key="lot", pattern="L{seq:04}")
    rule = numbering.save_rule(actor=c.steward, key="lot", pattern="L{yy}{seq:05}", reason="more digits")
    return "masterdata.numberrule", rule.pk, "update"


def _save_mapping_create(c: Ctx) -> tuple[str, Any, str]:
    c.approved("unit", **GRAM)
    mapping = codemaps.save_mapping(actor=c.steward, system="SAP", kind="unit", external_code="GRM",
                                    internal_code="g")
    return "masterdata.codemap", mapping.pk, "create"


def _save_mapping_change(c: Ctx) -> tuple[str, Any, str]:
    c.approved("unit", **GRAM)
    codemaps.save_mapping(actor=c.steward, system="SAP", kind="unit", external_code="GRM", internal_code="g")
    mapping = codemaps.save_mapping(actor=c.steward, system="SAP", kind="unit", external_code="GRM",
                                    internal_code="g", active=False, reason="SAP stopped sending it")
    return "masterdata.codemap", mapping.pk, "update"


CASES: dict[str, Case] = {
    "create_item": _create_item, "update_draft": _update_draft, "approve_item": _approve_item,
    "void_draft": _void_draft, "propose_change": _propose_change, "approve_change": _approve_change,
    "reject_change": _reject_change, "withdraw_change": _withdraw_change,
    "save_rule (create)": _save_rule_create, "save_rule (change)": _save_rule_change,
    "save_mapping (create)": _save_mapping_create, "save_mapping (change)": _save_mapping_change,
}
# Functions of these modules that change nothing (reads and pure checks) or are not GMP data.
NOT_CHANGING = {"translate", "preview",
                "next_number"}  # next_number: each issued number is its own row, unique forever


@pytest.mark.req("AT-04", "AT-01")
@pytest.mark.parametrize("case", sorted(CASES))
def test_master_data_service_writes_an_audit_entry(case: str, steward: Any, approver: Any,
                                                   approved: Callable[..., Any],
                                                   make_user: Callable[..., Any]) -> None:
    record_type, record_id, action = CASES[case](Ctx(steward, approver, approved, make_user))
    assert AuditEntry.objects.filter(record_type=record_type, record_id=str(record_id),
                                     action=action).exists()


@pytest.mark.req("AT-04")
@pytest.mark.parametrize("module", [md, numbering, codemaps], ids=lambda m: m.__name__)
def test_every_public_master_data_service_has_an_audit_case(module: Any) -> None:
    public = {name for name, fn in inspect.getmembers(module, inspect.isfunction)
              if fn.__module__ == module.__name__ and not name.startswith("_")}
    covered = {case.split(" ")[0] for case in CASES} | NOT_CHANGING
    assert public - covered == set()
