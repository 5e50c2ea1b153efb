"""Master data. Versioned items share one lifecycle: draft → approved → (changes by approved change
requests) → retired. Number rules and code maps are audited configuration."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from batchline.masterdata.choices import (
    ChangeKind,
    ChangeStatus,
    CleanroomGrade,
    CodeMapKind,
    CounterReset,
    Dimension,
    LocationType,
    MaterialType,
    RecordStatus,
    StorageCondition,
    SupplierQualification,
)


class MasterRecord(models.Model):
    """Common lifecycle of a versioned master-data item (MD-01)."""

    code = models.CharField(_("code"), max_length=40)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=RecordStatus.choices, default=RecordStatus.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    objects = models.Manager()

    # The fields a data steward edits, in form order; also the content a version snapshot holds.
    content_fields: ClassVar[tuple[str, ...]] = ("code", "name_zh", "name_en")

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en

    def signature_content(self) -> dict[str, Any]:
        attnames = {field.name: field.attname for field in self._meta.concrete_fields}
        content = {f: getattr(self, attnames[f]) for f in self.content_fields}
        content.update(id=self.pk, status=self.status, version=self.version)
        return content


class Unit(MasterRecord):
    """A unit of measure. Within a dimension, `factor` converts to the dimension's base unit."""

    dimension = models.CharField(_("dimension"), max_length=20, choices=Dimension.choices)
    factor = models.DecimalField(_("factor to base unit"), max_digits=28, decimal_places=12)
    symbol = models.CharField(_("symbol"), max_length=20, blank=True)

    content_fields = ("code", "name_zh", "name_en", "symbol", "dimension", "factor")

    class Meta(MasterRecord.Meta):
        constraints = [
            models.UniqueConstraint(fields=["code"], name="unit_code_unique"),
            models.CheckConstraint(condition=models.Q(factor__gt=0), name="unit_factor_positive"),
        ]


class Material(MasterRecord):
    material_type = models.CharField(_("material type"), max_length=20, choices=MaterialType.choices)
    base_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("base unit"))
    storage_condition = models.CharField(_("storage condition"), max_length=10, choices=StorageCondition.choices,
                                         default=StorageCondition.AMBIENT)
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), null=True, blank=True)
    retest_interval_days = models.PositiveIntegerField(_("retest interval (days)"), null=True, blank=True)
    incoming_inspection_required = models.BooleanField(_("incoming inspection required"), default=True)
    gtin = models.CharField(_("GTIN"), max_length=14, blank=True)
    drug_code = models.CharField(_("drug identification code"), max_length=20, blank=True)
    description = models.TextField(_("description"), blank=True)

    content_fields = ("code", "name_zh", "name_en", "material_type", "base_unit", "storage_condition",
                      "shelf_life_days", "retest_interval_days", "incoming_inspection_required", "gtin",
                      "drug_code", "description")

    class Meta(MasterRecord.Meta):
        constraints = [models.UniqueConstraint(fields=["code"], name="material_code_unique")]


class UnitConversion(MasterRecord):
    """A conversion across dimensions for one material (1 drum of X = 25 kg), or a general one."""

    material = models.ForeignKey(Material, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("material"))
    from_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("from unit"))
    to_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("to unit"))
    factor = models.DecimalField(_("factor"), max_digits=28, decimal_places=12)

    content_fields = ("code", "name_zh", "name_en", "material", "from_unit", "to_unit", "factor")

    class Meta(MasterRecord.Meta):
        constraints = [
            models.UniqueConstraint(fields=["code"], name="conversion_code_unique"),
            models.CheckConstraint(condition=models.Q(factor__gt=0), name="conversion_factor_positive"),
        ]


class Site(MasterRecord):
    time_zone = models.CharField(_("time zone"), max_length=50, default="Asia/Shanghai")
    address = models.TextField(_("address"), blank=True)

    content_fields = ("code", "name_zh", "name_en", "time_zone", "address")

    class Meta(MasterRecord.Meta):
        constraints = [models.UniqueConstraint(fields=["code"], name="site_code_unique")]


class Area(MasterRecord):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="areas", verbose_name=_("site"))

    content_fields = ("code", "name_zh", "name_en", "site")

    class Meta(MasterRecord.Meta):
        constraints = [models.UniqueConstraint(fields=["code"], name="area_code_unique")]


class Room(MasterRecord):
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("area"))
    cleanroom_grade = models.CharField(_("cleanroom grade"), max_length=3, choices=CleanroomGrade.choices)

    content_fields = ("code", "name_zh", "name_en", "area", "cleanroom_grade")

    class Meta(MasterRecord.Meta):
        constraints = [models.UniqueConstraint(fields=["code"], name="room_code_unique")]


class Warehouse(MasterRecord):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="warehouses", verbose_name=_("site"))

    content_fields = ("code", "name_zh", "name_en", "site")

    class Meta(MasterRecord.Meta):
        constraints = [models.UniqueConstraint(fields=["code"], name="warehouse_code_unique")]


class Location(MasterRecord):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="locations",
                                  verbose_name=_("warehouse"))
    location_type = models.CharField(_("location type"), max_length=20, choices=LocationType.choices)
    storage_condition = models.CharField(_("storage condition"), max_length=10, choices=StorageCondition.choices,
                                         default=StorageCondition.AMBIENT)
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("room"))

    content_fields = ("code", "name_zh", "name_en", "warehouse", "location_type", "storage_condition", "room")

    class Meta(MasterRecord.Meta):
        constraints = [models.UniqueConstraint(fields=["code"], name="location_code_unique")]


class Supplier(MasterRecord):
    qualification = models.CharField(_("qualification"), max_length=20, choices=SupplierQualification.choices,
                                     default=SupplierQualification.APPROVED)
    address = models.TextField(_("address"), blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)

    content_fields = ("code", "name_zh", "name_en", "qualification", "address", "contact")

    class Meta(MasterRecord.Meta):
        constraints = [models.UniqueConstraint(fields=["code"], name="supplier_code_unique")]


class Customer(MasterRecord):
    address = models.TextField(_("address"), blank=True)
    country = models.CharField(_("country"), max_length=2, default="CN")
    license_number = models.CharField(_("drug distribution license"), max_length=100, blank=True)
    gln = models.CharField(_("GLN"), max_length=13, blank=True)

    content_fields = ("code", "name_zh", "name_en", "address", "country", "license_number", "gln")

    class Meta(MasterRecord.Meta):
        constraints = [models.UniqueConstraint(fields=["code"], name="customer_code_unique")]


class MasterDataChange(models.Model):
    """A proposed change to an approved item: applies only when a second person approves it (MD-01)."""

    record_type = models.CharField(max_length=100)
    record_id = models.CharField(max_length=64)
    record_code = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=ChangeKind.choices, default=ChangeKind.UPDATE)
    base_version = models.PositiveIntegerField()
    proposed = models.JSONField()  # {field: new value}, values as the form/API gave them (codes for links)
    reason = models.TextField()
    change_control_ref = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["record_type", "record_id", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id"], condition=models.Q(status="pending"),
                                    name="one_pending_change_per_record"),
        ]

    def __str__(self) -> str:
        return f"{self.record_code} v{self.base_version} → {self.kind}"

    def signature_content(self) -> dict[str, Any]:
        return {"id": self.pk, "record_type": self.record_type, "record_id": self.record_id,
                "kind": self.kind, "base_version": self.base_version, "proposed": self.proposed,
                "reason": self.reason, "change_control_ref": self.change_control_ref, "status": self.status}


class MasterDataVersion(models.Model):
    """The full content of every approved version of an item (AT-06)."""

    record_type = models.CharField(max_length=100)
    record_id = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    content = models.JSONField()
    approved_at = models.DateTimeField()
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    change = models.ForeignKey(MasterDataChange, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")

    class Meta:
        ordering = ["record_type", "record_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["record_type", "record_id", "version"],
                                               name="one_row_per_version")]

    def __str__(self) -> str:
        return f"{self.record_type}:{self.record_id} v{self.version}"


class NumberRule(models.Model):
    """How lot, batch, order and inspection numbers are formed (MD-04).

    `pattern` uses {prefix}, {yyyy}, {yy}, {mm}, {dd} and {seq:0N}; the counter resets per period.
    """

    key = models.CharField(_("rule"), max_length=40, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    prefix = models.CharField(_("prefix"), max_length=20, blank=True)
    pattern = models.CharField(_("pattern"), max_length=100)
    reset = models.CharField(_("counter reset"), max_length=10, choices=CounterReset.choices,
                             default=CounterReset.YEARLY)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class NumberCounter(models.Model):
    rule = models.ForeignKey(NumberRule, on_delete=models.PROTECT, related_name="counters")
    period = models.CharField(max_length=10)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "period"], name="one_counter_per_period")]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.period}: {self.value}"


class IssuedNumber(models.Model):
    """Every number ever issued; the unique constraint makes a duplicate impossible even after the
    pattern changes."""

    rule = models.ForeignKey(NumberRule, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=100)
    issued_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="number_never_twice")]

    def __str__(self) -> str:
        return self.number


class CodeMap(models.Model):
    """Translates one external system's code for a material, unit, ... to Batchline's code (MD-03)."""

    system = models.CharField(_("external system"), max_length=40)
    kind = models.CharField(_("kind"), max_length=20, choices=CodeMapKind.choices)
    external_code = models.CharField(_("external code"), max_length=100)
    internal_code = models.CharField(_("Batchline code"), max_length=40)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["system", "kind", "external_code"]
        constraints = [models.UniqueConstraint(fields=["system", "kind", "external_code"],
                                               name="code_map_unique")]

    def __str__(self) -> str:
        return f"{self.system}/{self.kind}: {self.external_code} → {self.internal_code}"


class ImportBatch(models.Model):
    """One uploaded master-data file, its dry-run plan and, once applied, what it did (MD-05).

    The record of what was imported: the rows exactly as read, the file's SHA-256, who uploaded and
    who applied it, with which reason and change-control reference. Written only by
    masterdata.importing; its creation and its application are audited.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PLANNING = "planning", _("Dry run in progress")
        PLANNED = "planned", _("Dry run complete")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20)
    filename = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()
    rows = models.JSONField()  # [{column: text}] as read from the file; data row i is file row i + 2
    plan = models.JSONField(default=list)  # one entry per planned row, see importing.PlanEntry
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    progress = models.PositiveIntegerField(default=0)  # rows planned so far
    totals = models.JSONField(default=dict)  # {action: count} of the complete plan
    outcome = models.JSONField(default=list)  # after apply: [{row, code, action, record_id, change_id}]
    failure = models.TextField(blank=True)  # why the last apply was refused after planning
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    applied_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    change_control_ref = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.filename}"

    @property
    def row_count(self) -> int:
        return len(self.rows)
