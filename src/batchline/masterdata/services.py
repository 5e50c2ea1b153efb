"""The only code that changes master data. Each function is one business action in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import diff, plain, record_change, require_reason
from batchline.compliance.models import AuditEntry
from batchline.compliance.signatures import SignatureRequest, ensure_four_eyes, sign
from batchline.core import clock
from batchline.core.errors import Conflict, ensure
from batchline.identity.authz import authorize
from batchline.masterdata.choices import ChangeKind, ChangeStatus, RecordStatus
from batchline.masterdata.content import content_of, parse_content, portable
from batchline.masterdata.errors import (
    ChangeControlRequired,
    LinkedItemNotApproved,
    NothingChanged,
    PendingChangeExists,
    StaleChange,
    WrongStatus,
)
from batchline.masterdata.models import MasterDataChange, MasterDataVersion, MasterRecord
from batchline.masterdata.registry import Kind, kind_for_record_type

AUTHOR_ACTIONS = ("create", "update")


def _locked(kind: Kind, item_id: int) -> MasterRecord:
    return kind.model.objects.select_for_update().get(pk=item_id)


def _ensure_status(item: MasterRecord, *allowed: str) -> None:
    if item.status in allowed:  # checked first: the refusal's translated labels cost time on every write
        return
    ensure(False, WrongStatus(record=item.code, status=item.get_status_display(),
                                               needed=" / ".join(str(RecordStatus(s).label) for s in allowed)))


def _code_taken(code: str) -> Conflict:
    error = Conflict(_("The code '{value}' is already used; codes are never reused."), field="code", value=code)
    error.code = "code_taken"
    return error


def _apply(item: MasterRecord, content: dict[str, Any]) -> None:
    for name, value in content.items():
        setattr(item, name, value)


def _event_payload(kind: Kind, item: MasterRecord) -> dict[str, Any]:
    return {"kind": kind.slug, "code": item.code, "version": item.version, "status": item.status,
            "content": portable(content_of(item))}


def create_item(*, actor: Any, kind: Kind, data: dict[str, Any]) -> MasterRecord:
    """A data steward creates a new item; it is a draft until a second person approves it."""
    authorize(actor, "masterdata.edit")
    content = parse_content(kind.model, data)
    with transaction.atomic():
        if kind.model.objects.filter(code=content["code"]).exists():
            raise _code_taken(content["code"])
        item = kind.model(status=RecordStatus.DRAFT, version=1, created_at=clock.now(), created_by=actor)
        _apply(item, content)
        try:
            with transaction.atomic():
                item.save()
        except IntegrityError:
            raise _code_taken(content["code"]) from None
        record_change(actor, item, action="create", changes={k: [None, plain(v)] for k, v in content.items()})
    return item


def update_draft(*, actor: Any, kind: Kind, item_id: int, data: dict[str, Any]) -> MasterRecord:
    """Edit an item that was never approved. Approved items change only through propose_change()."""
    authorize(actor, "masterdata.edit")
    with transaction.atomic():
        item = _locked(kind, item_id)
        _ensure_status(item, RecordStatus.DRAFT)
        before = content_of(item)
        content = parse_content(kind.model, data, base=before)
        if content["code"] != item.code and kind.model.objects.filter(code=content["code"]).exists():
            raise _code_taken(content["code"])
        changes = diff({k: plain(v) for k, v in before.items()}, {k: plain(v) for k, v in content.items()})
        ensure(changes, NothingChanged())
        _apply(item, content)
        item.save()
        record_change(actor, item, action="update", changes=changes)
    return item


def _authors(kind: Kind, item: MasterRecord) -> set[int]:
    ids = AuditEntry.objects.filter(record_type=kind.record_type, record_id=str(item.pk),
                                    action__in=AUTHOR_ACTIONS).values_list("actor_id", flat=True)
    return {i for i in ids if i is not None} | {item.created_by_id}


def _ensure_links_approved(item: MasterRecord) -> None:
    for name in item.content_fields:
        value = getattr(item, name)
        if isinstance(value, MasterRecord) and value.status != RecordStatus.APPROVED:
            raise LinkedItemNotApproved(record=item.code, linked=value.code, field=name)


def _store_version(kind: Kind, item: MasterRecord, actor: Any, change: MasterDataChange | None) -> None:
    assert item.approved_at is not None  # set by the approving service just before
    MasterDataVersion.objects.create(record_type=kind.record_type, record_id=str(item.pk), version=item.version,
                                     content=portable(content_of(item)), approved_at=item.approved_at,
                                     approved_by=actor, change=change)


def approve_item(*, actor: Any, kind: Kind, item_id: int, signature: SignatureRequest,
                 username_required: bool = True) -> MasterRecord:
    """A second person approves a draft with an e-signature (approver ≠ author, ES-08)."""
    authorize(actor, "masterdata.approve")
    with transaction.atomic():
        item = _locked(kind, item_id)
        _ensure_status(item, RecordStatus.DRAFT)
        for author_id in _authors(kind, item):
            ensure_four_eyes(author_id, actor, rule=str(_("Author and approver")))
        _ensure_links_approved(item)
        item.status = RecordStatus.APPROVED
        item.approved_at = clock.now()
        item.approved_by = actor
        item.save()
        signed = sign(actor=actor, request=signature, record=item, username_required=username_required)
        _store_version(kind, item, actor, None)
        record_change(actor, item, action="approve", changes={"status": [RecordStatus.DRAFT, RecordStatus.APPROVED]},
                      signature=signed, event=f"masterdata.{kind.slug}.approved", payload=_event_payload(kind, item))
    return item


def void_draft(*, actor: Any, kind: Kind, item_id: int, reason: str) -> MasterRecord:
    """A draft that is not wanted is voided (retired), never deleted (AT-07)."""
    authorize(actor, "masterdata.edit")
    reason = require_reason(reason)
    with transaction.atomic():
        item = _locked(kind, item_id)
        _ensure_status(item, RecordStatus.DRAFT)
        item.status = RecordStatus.RETIRED
        item.save()
        record_change(actor, item, action="void", changes={"status": [RecordStatus.DRAFT, RecordStatus.RETIRED]},
                      reason=reason)
    return item


def propose_change(*, actor: Any, kind: Kind, item_id: int, data: dict[str, Any], reason: str,
                   change_control_ref: str, retire: bool = False) -> MasterDataChange:
    """Propose a change (or retirement) of an approved item; it takes effect on approval (MD-01)."""
    authorize(actor, "masterdata.edit")
    reason = require_reason(reason)
    change_control_ref = (change_control_ref or "").strip()
    ensure(change_control_ref, ChangeControlRequired(field="change_control_ref"))
    with transaction.atomic():
        item = _locked(kind, item_id)
        _ensure_status(item, RecordStatus.APPROVED)
        ensure(not MasterDataChange.objects.filter(record_type=kind.record_type, record_id=str(item.pk),
                                                   status=ChangeStatus.PENDING).exists(),
               PendingChangeExists(record=item.code))
        if retire:
            proposed: dict[str, Any] = {}
        else:
            current = content_of(item)
            content = parse_content(kind.model, data, base=current)
            ensure(content["code"] == item.code,
                   Conflict(_("The code of an approved item cannot change."), field="code", code="code_fixed"))
            # Compared as values, not as text: "0.0010" proposes no change to a factor of 0.001.
            new_values = portable(content)
            proposed = {k: new_values[k] for k in content if plain(content[k]) != plain(current[k])}
            ensure(proposed, NothingChanged())
        change = MasterDataChange.objects.create(
            record_type=kind.record_type, record_id=str(item.pk), record_code=item.code,
            kind=ChangeKind.RETIRE if retire else ChangeKind.UPDATE, base_version=item.version,
            proposed=proposed, reason=reason, change_control_ref=change_control_ref,
            proposed_by=actor, proposed_at=clock.now(),
        )
        current_portable = portable(content_of(item))
        record_change(actor, change, action="propose", reason=reason, label=f"{item.code} v{item.version}",
                      changes={"kind": [None, change.kind], "change_control_ref": [None, change_control_ref],
                               **{k: [current_portable.get(k), v] for k, v in proposed.items()}})
    return change


def approve_change(*, actor: Any, change_id: int, signature: SignatureRequest,
                   username_required: bool = True) -> MasterRecord:
    """A second person approves a proposed change with an e-signature; the item becomes the next version."""
    authorize(actor, "masterdata.approve")
    with transaction.atomic():
        change = MasterDataChange.objects.select_for_update().get(pk=change_id)
        ensure(change.status == ChangeStatus.PENDING,
               WrongStatus(record=change.record_code, status=change.get_status_display(), needed=_("pending")))
        ensure_four_eyes(change.proposed_by_id, actor, rule=str(_("Proposer and approver")))
        kind = kind_for_record_type(change.record_type)
        item = _locked(kind, int(change.record_id))
        _ensure_status(item, RecordStatus.APPROVED)
        ensure(item.version == change.base_version,
               StaleChange(base=change.base_version, record=item.code, current=item.version))
        before = {k: plain(v) for k, v in content_of(item).items()}
        if change.kind == ChangeKind.RETIRE:
            item.status = RecordStatus.RETIRED
            changes: dict[str, list[Any]] = {"status": [RecordStatus.APPROVED, RecordStatus.RETIRED]}
            action = "retire"
        else:
            content = parse_content(kind.model, change.proposed, base=content_of(item))
            _apply(item, content)
            _ensure_links_approved(item)
            changes = diff(before, {k: plain(v) for k, v in content.items()})
            action = "change"
        item.version += 1
        item.approved_at = clock.now()
        item.approved_by = actor
        item.save()
        changes["version"] = [item.version - 1, item.version]
        signed = sign(actor=actor, request=signature, record=item, username_required=username_required)
        change.status = ChangeStatus.APPROVED
        change.decided_by, change.decided_at = actor, item.approved_at
        change.save()
        _store_version(kind, item, actor, change)
        record_change(actor, change, action="approve", signature=signed, label=f"{item.code} v{change.base_version}",
                      changes={"status": [ChangeStatus.PENDING, ChangeStatus.APPROVED]})
        record_change(actor, item, action=action, changes=changes, reason=change.reason, signature=signed,
                      event=f"masterdata.{kind.slug}.{'retired' if action == 'retire' else 'changed'}",
                      payload={**_event_payload(kind, item), "change_control_ref": change.change_control_ref})
    return item


def reject_change(*, actor: Any, change_id: int, comment: str) -> MasterDataChange:
    authorize(actor, "masterdata.approve")
    comment = require_reason(comment, field="comment")
    return _close_change(actor, change_id, ChangeStatus.REJECTED, comment, proposer_only=False)


def withdraw_change(*, actor: Any, change_id: int, comment: str) -> MasterDataChange:
    authorize(actor, "masterdata.edit")
    comment = require_reason(comment, field="comment")
    return _close_change(actor, change_id, ChangeStatus.WITHDRAWN, comment, proposer_only=True)


def _close_change(actor: Any, change_id: int, status: str, comment: str, *, proposer_only: bool) -> MasterDataChange:
    with transaction.atomic():
        change = MasterDataChange.objects.select_for_update().get(pk=change_id)
        ensure(change.status == ChangeStatus.PENDING,
               WrongStatus(record=change.record_code, status=change.get_status_display(), needed=_("pending")))
        if proposer_only:
            ensure(change.proposed_by_id == actor.pk,
                   Conflict(_("Only the person who proposed a change can withdraw it."), code="not_proposer"))
        change.status = status
        change.decided_by, change.decided_at, change.decision_comment = actor, clock.now(), comment
        change.save()
        record_change(actor, change, action="reject" if status == ChangeStatus.REJECTED else "withdraw",
                      changes={"status": [ChangeStatus.PENDING, status]}, reason=comment,
                      label=f"{change.record_code} v{change.base_version}")
    return change
