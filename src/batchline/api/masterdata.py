"""Master-data endpoints: every kind of masterdata.registry.KINDS by its slug, change requests, and
the ERP material-master upsert (MD-01).

Writes call masterdata.services, which check permissions, validate through the one content parser
and write the audit trail; reads check `masterdata.view` here.
"""

from __future__ import annotations

from typing import Any

from django.db.models import ForeignKey, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Body, Query, Router

from batchline.api.auth import caller
from batchline.api.idempotency import respond
from batchline.api.schemas import (
    ERRORS,
    ApproveIn,
    ChangeDecisionOut,
    ChangeOut,
    ChangePage,
    ChangeProposalIn,
    CommentIn,
    MasterItemOut,
    MasterItemPage,
    MaterialOut,
    MaterialUpsertIn,
    MaterialUpsertOut,
    PageQuery,
    ReasonIn,
)
from batchline.api.signing import signature_fields, signature_request
from batchline.core.errors import NotFound, ensure
from batchline.identity.authz import authorize
from batchline.masterdata import codemaps, selectors, services
from batchline.masterdata.choices import ChangeStatus, CodeMapKind, RecordStatus
from batchline.masterdata.content import content_of, parse_content, portable
from batchline.masterdata.errors import PendingChangeExists, WrongStatus
from batchline.masterdata.models import MasterDataChange, MasterRecord, Material
from batchline.masterdata.registry import Kind, kind_for_record_type, kind_of

router = Router(tags=["master data"])

ItemData = dict[str, Any]


# --- reading helpers ---------------------------------------------------------------------------------

def _linked_fields(kind: Kind) -> list[str]:
    return [name for name in kind.model.content_fields
            if isinstance(kind.model._meta.get_field(name), ForeignKey)]


def _items(kind: Kind, **filters: str) -> QuerySet[MasterRecord]:
    return selectors.items(kind, **filters).select_related("created_by", "approved_by", *_linked_fields(kind))


def _item(kind: Kind, code: str) -> MasterRecord:
    item = _items(kind).filter(code=code).first()
    if item is None:
        raise NotFound(field="code")
    return item


def _pending_ids(kind: Kind, items: list[MasterRecord]) -> dict[str, int]:
    rows = MasterDataChange.objects.filter(record_type=kind.record_type, status=ChangeStatus.PENDING,
                                           record_id__in=[str(i.pk) for i in items])
    return dict(rows.values_list("record_id", "id"))


def item_out(kind: Kind, item: MasterRecord, pending: dict[str, int] | None = None) -> dict[str, Any]:
    if pending is None:
        pending = _pending_ids(kind, [item])
    return MasterItemOut(
        kind=kind.slug, code=item.code, status=item.status, version=item.version,
        fields=portable(content_of(item)), created_at=item.created_at, created_by=item.created_by.username,
        approved_at=item.approved_at, approved_by=item.approved_by.username if item.approved_by else None,
        pending_change_id=pending.get(str(item.pk)),
    ).model_dump(mode="json")


def change_out(change: MasterDataChange) -> dict[str, Any]:
    return ChangeOut(
        id=change.pk, kind=kind_for_record_type(change.record_type).slug, record_code=change.record_code,
        change_kind=change.kind, base_version=change.base_version, proposed=change.proposed,
        reason=change.reason, change_control_ref=change.change_control_ref, status=change.status,
        proposed_by=change.proposed_by.username, proposed_at=change.proposed_at,
        decided_by=change.decided_by.username if change.decided_by else None, decided_at=change.decided_at,
        decision_comment=change.decision_comment,
    ).model_dump(mode="json")


def _change(change_id: int) -> MasterDataChange:
    change = MasterDataChange.objects.select_related("proposed_by", "decided_by").filter(pk=change_id).first()
    if change is None:
        raise NotFound(field="id")
    return change


def _page(qs: QuerySet[Any], paging: PageQuery) -> tuple[list[Any], dict[str, int]]:
    start = (paging.page - 1) * paging.page_size
    rows = list(qs[start:start + paging.page_size])
    return rows, {"count": qs.count(), "page": paging.page, "page_size": paging.page_size}


# --- change requests (declared before /{kind} so that "changes" is never taken for a kind) ----------

@router.get("/changes", response={200: ChangePage, **ERRORS})
def list_changes(request: HttpRequest, paging: Query[PageQuery], status: str = "pending",
                 kind: str = "") -> dict[str, Any]:
    """Change requests, newest first; `status` is pending (default), approved, rejected, withdrawn or all."""
    authorize(caller(request), "masterdata.view")
    if status == ChangeStatus.PENDING:
        qs = selectors.pending_changes()
    else:
        qs = MasterDataChange.objects.select_related("proposed_by")
        if status != "all":
            qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(record_type=kind_of(kind).record_type)
    rows, meta = _page(qs.select_related("decided_by"), paging)
    return {"items": [change_out(c) for c in rows], **meta}


@router.get("/changes/{int:change_id}", response={200: ChangeOut, **ERRORS})
def get_change(request: HttpRequest, change_id: int) -> dict[str, Any]:
    authorize(caller(request), "masterdata.view")
    return change_out(_change(change_id))


@router.post("/changes/{int:change_id}/approve", response={200: ChangeDecisionOut, **ERRORS})
def approve_change(request: HttpRequest, change_id: int, payload: ApproveIn) -> HttpResponse:
    """A second person approves the change with an e-signature; the item becomes its next version."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        with signature_fields():
            item = services.approve_change(actor=actor, change_id=change_id,
                                           signature=signature_request(actor, payload.signature),
                                           username_required=True)
        change = _change(change_id)
        kind = kind_for_record_type(change.record_type)
        return 200, {"change": change_out(change), "item": item_out(kind, _item(kind, item.code))}

    return respond(request, action)


@router.post("/changes/{int:change_id}/reject", response={200: ChangeOut, **ERRORS})
def reject_change(request: HttpRequest, change_id: int, payload: CommentIn) -> HttpResponse:
    actor = caller(request)

    def action() -> tuple[int, Any]:
        services.reject_change(actor=actor, change_id=change_id, comment=payload.comment)
        return 200, change_out(_change(change_id))

    return respond(request, action)


@router.post("/changes/{int:change_id}/withdraw", response={200: ChangeOut, **ERRORS})
def withdraw_change(request: HttpRequest, change_id: int, payload: CommentIn) -> HttpResponse:
    """The proposer withdraws their own change."""
    actor = caller(request)

    def action() -> tuple[int, Any]:
        services.withdraw_change(actor=actor, change_id=change_id, comment=payload.comment)
        return 200, change_out(_change(change_id))

    return respond(request, action)


# --- ERP material-master upsert (declared before /{kind}/{code}) -----------------------------------------

def material_out(material: Material) -> dict[str, Any]:
    values = portable(content_of(material))
    return MaterialOut(**values, status=material.status, version=material.version,
                       approved_at=material.approved_at).model_dump(mode="json")


def _upsert_data(code: str, payload: MaterialUpsertIn) -> ItemData:
    data = payload.model_dump(mode="json", exclude={"source_system", "reason", "change_control_ref"})
    data["code"] = code
    if payload.source_system:
        # The sender's unit code (KGM, 公斤) → Batchline's; an unmapped unit is refused (MD-02, MD-03).
        data["base_unit"] = codemaps.translate(payload.source_system, CodeMapKind.UNIT, payload.base_unit,
                                               field="base_unit")
    return data


def _differences(kind: Kind, item: MasterRecord, data: ItemData) -> ItemData:
    """What `data` would change on `item` (validated by the one content parser; nothing is written)."""
    current = portable(content_of(item))
    proposed = portable(parse_content(kind.model, data, base=content_of(item)))
    return {name: value for name, value in proposed.items() if current[name] != value}


@router.put("/materials/{code}", response={200: MaterialUpsertOut, 201: MaterialUpsertOut,
                                           202: MaterialUpsertOut, **ERRORS})
def upsert_material(request: HttpRequest, code: str, payload: MaterialUpsertIn) -> HttpResponse:
    """ERP material master (INTERFACES.md): a new code creates a draft (201); a draft is updated (200);
    an approved material gets a change proposal that takes effect on approval (202; needs `reason` and
    `change_control_ref`); identical values answer 200 `unchanged`. Requires `masterdata.import` and
    `masterdata.edit` (the upsert acts through the data steward's services, as the CSV import does).

    ERP 物料主数据：新编码创建草稿（201）；草稿直接更新（200）；
    已批准物料生成待批准的变更（202，须提供变更原因和变更控制编号）；无变化返回 200 unchanged。"""
    actor = caller(request)
    return respond(request, lambda: upsert_material_master(actor, code, payload))


def upsert_material_master(actor: Any, code: str, payload: MaterialUpsertIn) -> tuple[int, Any]:
    """The upsert itself, shared by PUT /materials/{code} and the inbound material-master message."""
    kind = kind_of("material")
    authorize(actor, "masterdata.import")  # the services check masterdata.edit
    data = _upsert_data(code, payload)
    item = selectors.items(kind).filter(code=code).first()
    if item is None:
        created = services.create_item(actor=actor, kind=kind, data=data)
        return 201, _upsert_out("created", created)
    ensure(item.status != RecordStatus.RETIRED,
           WrongStatus(record=item.code, status=RecordStatus(item.status).label,
                       needed=f"{RecordStatus.DRAFT.label} / {RecordStatus.APPROVED.label}"))
    differences = _differences(kind, item, data)
    if not differences:
        return 200, _upsert_out("unchanged", item)
    if item.status == RecordStatus.DRAFT:
        updated = services.update_draft(actor=actor, kind=kind, item_id=item.pk, data=data)
        return 200, _upsert_out("updated", updated)
    pending = selectors.pending_change(kind, item)
    if pending is not None:
        ensure(pending.kind == "update" and pending.proposed == differences,
               PendingChangeExists(record=item.code))
        return 202, _upsert_out("change_pending", item, pending)
    change = services.propose_change(actor=actor, kind=kind, item_id=item.pk, data=data,
                                     reason=payload.reason, change_control_ref=payload.change_control_ref)
    return 202, _upsert_out("change_proposed", item, change)


def _upsert_out(outcome: str, item: MasterRecord, change: MasterDataChange | None = None) -> dict[str, Any]:
    material = Material.objects.select_related("base_unit").get(pk=item.pk)
    return {"outcome": outcome, "material": material_out(material),
            "change": change_out(_change(change.pk)) if change else None}


# --- every kind by slug -----------------------------------------------------------------------------

@router.get("/{kind}", response={200: MasterItemPage, **ERRORS})
def list_items(request: HttpRequest, kind: str, paging: Query[PageQuery], status: str = "",
               search: str = "") -> dict[str, Any]:
    """Items of one kind by code; `status` (draft, approved, retired) and `search` (code or name) filter."""
    authorize(caller(request), "masterdata.view")
    found = kind_of(kind)
    rows, meta = _page(_items(found, status=status, search=search), paging)
    pending = _pending_ids(found, rows)
    return {"items": [item_out(found, item, pending) for item in rows], **meta}


@router.get("/{kind}/{code}", response={200: MasterItemOut, **ERRORS})
def get_item(request: HttpRequest, kind: str, code: str) -> dict[str, Any]:
    authorize(caller(request), "masterdata.view")
    found = kind_of(kind)
    return item_out(found, _item(found, code))


@router.post("/{kind}", response={201: MasterItemOut, **ERRORS})
def create_item(request: HttpRequest, kind: str, payload: Body[ItemData]) -> HttpResponse:
    """Create a draft. The body holds the item's fields: linked items by code, decimals as strings."""
    actor = caller(request)
    found = kind_of(kind)

    def action() -> tuple[int, Any]:
        item = services.create_item(actor=actor, kind=found, data=payload)
        return 201, item_out(found, _item(found, item.code))

    return respond(request, action)


@router.patch("/{kind}/{code}", response={200: MasterItemOut, **ERRORS})
def update_draft(request: HttpRequest, kind: str, code: str,
                 payload: Body[ItemData]) -> HttpResponse:
    """Edit a draft: the fields given change, the others keep their values. Approved items change
    through /changes."""
    actor = caller(request)
    found = kind_of(kind)

    def action() -> tuple[int, Any]:
        item = services.update_draft(actor=actor, kind=found, item_id=_item(found, code).pk, data=payload)
        return 200, item_out(found, _item(found, item.code))

    return respond(request, action)


@router.post("/{kind}/{code}/approve", response={200: MasterItemOut, **ERRORS})
def approve_item(request: HttpRequest, kind: str, code: str, payload: ApproveIn) -> HttpResponse:
    """A second person approves a draft with an e-signature (approver ≠ author)."""
    actor = caller(request)
    found = kind_of(kind)

    def action() -> tuple[int, Any]:
        with signature_fields():
            item = services.approve_item(actor=actor, kind=found, item_id=_item(found, code).pk,
                                         signature=signature_request(actor, payload.signature),
                                         username_required=True)
        return 200, item_out(found, _item(found, item.code))

    return respond(request, action)


@router.post("/{kind}/{code}/void", response={200: MasterItemOut, **ERRORS})
def void_draft(request: HttpRequest, kind: str, code: str, payload: ReasonIn) -> HttpResponse:
    """Void a draft that is not wanted (it is retired, never deleted)."""
    actor = caller(request)
    found = kind_of(kind)

    def action() -> tuple[int, Any]:
        services.void_draft(actor=actor, kind=found, item_id=_item(found, code).pk, reason=payload.reason)
        return 200, item_out(found, _item(found, code))

    return respond(request, action)


@router.post("/{kind}/{code}/changes", response={201: ChangeOut, **ERRORS})
def propose_change(request: HttpRequest, kind: str, code: str, payload: ChangeProposalIn) -> HttpResponse:
    """Propose a change (or, with `retire`, the retirement) of an approved item; a second person
    approves it."""
    actor = caller(request)
    found = kind_of(kind)

    def action() -> tuple[int, Any]:
        change = services.propose_change(actor=actor, kind=found, item_id=_item(found, code).pk,
                                         data=payload.fields, reason=payload.reason,
                                         change_control_ref=payload.change_control_ref, retire=payload.retire)
        return 201, change_out(_change(change.pk))

    return respond(request, action)
