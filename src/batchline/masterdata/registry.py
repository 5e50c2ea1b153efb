"""The versioned master-data kinds, each with its URL slug, labels and list columns."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from batchline.core.errors import NotFound
from batchline.masterdata import models as m


@dataclass(frozen=True)
class Kind:
    slug: str
    model: type[m.MasterRecord]
    label: Promise
    label_plural: Promise
    columns: tuple[str, ...]

    @property
    def record_type(self) -> str:
        return f"masterdata.{self.model._meta.model_name}"


KINDS: dict[str, Kind] = {k.slug: k for k in (
    Kind("unit", m.Unit, _("Unit"), _("Units"), ("code", "name_zh", "name_en", "dimension", "factor")),
    Kind("conversion", m.UnitConversion, _("Unit conversion"), _("Unit conversions"),
         ("code", "material", "from_unit", "to_unit", "factor")),
    Kind("material", m.Material, _("Material"), _("Materials"),
         ("code", "name_zh", "name_en", "material_type", "base_unit", "storage_condition")),
    Kind("site", m.Site, _("Site"), _("Sites"), ("code", "name_zh", "name_en", "time_zone")),
    Kind("area", m.Area, _("Area"), _("Areas"), ("code", "name_zh", "name_en", "site")),
    Kind("room", m.Room, _("Room"), _("Rooms"), ("code", "name_zh", "name_en", "area", "cleanroom_grade")),
    Kind("warehouse", m.Warehouse, _("Warehouse"), _("Warehouses"), ("code", "name_zh", "name_en", "site")),
    Kind("location", m.Location, _("Location"), _("Locations"),
         ("code", "name_zh", "name_en", "warehouse", "location_type", "storage_condition")),
    Kind("supplier", m.Supplier, _("Supplier"), _("Suppliers"), ("code", "name_zh", "name_en", "qualification")),
    Kind("customer", m.Customer, _("Customer"), _("Customers"), ("code", "name_zh", "name_en", "country")),
)}

_BY_RECORD_TYPE = {k.record_type: k for k in KINDS.values()}


def kind_of(slug: str) -> Kind:
    try:
        return KINDS[slug]
    except KeyError:
        raise NotFound(_("There is no master-data kind '{kind}'."), kind=slug) from None


def kind_for_record_type(record_type: str) -> Kind:
    return _BY_RECORD_TYPE[record_type]
