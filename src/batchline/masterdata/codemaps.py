"""Code maps per external system (MD-03): translate, never guess; an unmapped code is refused."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from batchline.compliance.audit import record_change, require_reason
from batchline.core.errors import InvalidInput, ensure
from batchline.identity.authz import authorize
from batchline.masterdata.choices import CodeMapKind, RecordStatus
from batchline.masterdata.errors import UnknownUnit, UnmappedCode
from batchline.masterdata.models import CodeMap, Customer, Location, Material, Supplier, Unit

_TARGETS = {CodeMapKind.MATERIAL: Material, CodeMapKind.UNIT: Unit, CodeMapKind.SUPPLIER: Supplier,
            CodeMapKind.CUSTOMER: Customer, CodeMapKind.LOCATION: Location}


def save_mapping(*, actor: Any, system: str, kind: str, external_code: str, internal_code: str,
                 active: bool = True, reason: str = "") -> CodeMap:
    authorize(actor, "masterdata.configure")
    system, external_code, internal_code = system.strip().upper(), external_code.strip(), internal_code.strip()
    ensure(system and external_code, InvalidInput(_("System and external code are required."), field="system"))
    ensure(kind in CodeMapKind.values, InvalidInput(_("Unknown code map kind."), field="kind"))
    target = _TARGETS[CodeMapKind(kind)]
    ensure(target.objects.filter(code=internal_code).exclude(status=RecordStatus.RETIRED).exists(),
           _unknown_target(kind, internal_code))
    with transaction.atomic():
        mapping = CodeMap.objects.select_for_update().filter(system=system, kind=kind,
                                                             external_code=external_code).first()
        if mapping is None:
            mapping = CodeMap.objects.create(system=system, kind=kind, external_code=external_code,
                                             internal_code=internal_code, active=active)
            record_change(actor, mapping, action="create",
                          changes={"internal_code": [None, internal_code], "active": [None, active]})
            return mapping
        reason = require_reason(reason)
        changes = {k: [getattr(mapping, k), v] for k, v in (("internal_code", internal_code), ("active", active))
                   if getattr(mapping, k) != v}
        mapping.internal_code, mapping.active = internal_code, active
        mapping.save()
        record_change(actor, mapping, action="update", changes=changes, reason=reason)
    return mapping


def _unknown_target(kind: str, internal_code: str) -> InvalidInput:
    return InvalidInput(_("No {kind} with Batchline code '{value}'."), field="internal_code", code="unknown_code",
                        kind=CodeMapKind(kind).label, value=internal_code)


def translate(system: str, kind: str, external_code: str, *, field: str) -> str:
    """The Batchline code for an external code; the exact Batchline code itself is accepted too."""
    mapping = CodeMap.objects.filter(system=system.upper(), kind=kind, external_code=external_code,
                                     active=True).first()
    if mapping is not None:
        return mapping.internal_code
    if _TARGETS[CodeMapKind(kind)].objects.filter(code=external_code, status=RecordStatus.APPROVED).exists():
        return external_code
    if kind == CodeMapKind.UNIT:
        raise UnknownUnit(_("Unknown unit '{unit}' from {system}: map it in the code maps."), field=field,
                          unit=external_code, system=system)
    raise UnmappedCode(field=field, system=system, kind=CodeMapKind(kind).label, external_code=external_code)
