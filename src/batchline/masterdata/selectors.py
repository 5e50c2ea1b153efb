"""Reads of master data for screens, the API and exports."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from batchline.masterdata.choices import ChangeStatus
from batchline.masterdata.models import MasterDataChange, MasterDataVersion, MasterRecord
from batchline.masterdata.registry import Kind


def items(kind: Kind, *, search: str = "", status: str = "") -> QuerySet[MasterRecord]:
    qs = kind.model.objects.all().order_by("code")
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(name_zh__icontains=search) | Q(name_en__icontains=search))
    if status:
        qs = qs.filter(status=status)
    return qs


def pending_change(kind: Kind, item: MasterRecord) -> MasterDataChange | None:
    return MasterDataChange.objects.filter(record_type=kind.record_type, record_id=str(item.pk),
                                           status=ChangeStatus.PENDING).first()


def changes_of(kind: Kind, item: MasterRecord) -> QuerySet[MasterDataChange]:
    return MasterDataChange.objects.filter(record_type=kind.record_type, record_id=str(item.pk))


def versions_of(kind: Kind, item: MasterRecord) -> QuerySet[MasterDataVersion]:
    return MasterDataVersion.objects.filter(record_type=kind.record_type, record_id=str(item.pk))


def pending_changes() -> QuerySet[MasterDataChange]:
    return MasterDataChange.objects.filter(status=ChangeStatus.PENDING).select_related("proposed_by")
