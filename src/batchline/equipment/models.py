"""Equipment: the register with its status machine, an automatic append-only logbook, qualification
and calibration records, cleaning records, daily balance checks, OPC UA tag mappings, and the state
and count history that OEE is computed from.

Only equipment services change these rows (DESIGN.md §3.1); every change writes a logbook entry and
an audit entry in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from batchline.equipment.choices import (
    CleaningState,
    CleaningType,
    EquipmentKind,
    EquipmentStatus,
    LogKind,
    QualificationStage,
    Result,
    TagKind,
)


class Equipment(models.Model):
    code = models.CharField(_("equipment id"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=EquipmentKind.choices)
    equipment_class = models.CharField(_("equipment class"), max_length=40, blank=True)  # what recipes ask for
    room = models.ForeignKey("masterdata.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("room"))
    capacity = models.DecimalField(_("capacity"), max_digits=18, decimal_places=6, null=True, blank=True)
    capacity_unit = models.ForeignKey("masterdata.Unit", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("capacity unit"))
    product_contact_parts = models.TextField(_("product-contact parts"), blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True)
    model_number = models.CharField(_("model"), max_length=100, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    # balances (EQ-04): weighing range, readability (d) and minimum weight (USP <41> / Ph. Eur. 2.1.7)
    weighing_unit = models.ForeignKey("masterdata.Unit", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("weighing unit"))
    max_load = models.DecimalField(_("maximum load"), max_digits=18, decimal_places=6, null=True, blank=True)
    readability = models.DecimalField(_("readability (d)"), max_digits=18, decimal_places=6, null=True, blank=True)
    minimum_weight = models.DecimalField(_("minimum weight"), max_digits=18, decimal_places=6, null=True,
                                         blank=True)
    # hold times (EQ-03): how long equipment may stay clean before use, dirty before cleaning
    clean_hold_hours = models.PositiveIntegerField(_("clean-hold time (hours)"), null=True, blank=True)
    dirty_hold_hours = models.PositiveIntegerField(_("dirty-hold time (hours)"), null=True, blank=True)
    # OPC UA (EQ-04): the server and the node of the device (a Scales companion-model object for a balance)
    opcua_endpoint = models.CharField(_("OPC UA endpoint"), max_length=200, blank=True)
    opcua_node = models.CharField(_("OPC UA node"), max_length=200, blank=True)
    # OEE (EQ-05): the ideal rate at which the equipment makes good units
    ideal_rate_per_minute = models.DecimalField(_("ideal rate (units per minute)"), max_digits=12, decimal_places=3,
                                                null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=EquipmentStatus.choices,
                              default=EquipmentStatus.DIRTY)  # new equipment is cleaned before first use
    status_changed_at = models.DateTimeField(_("status since"))
    current_product = models.ForeignKey("masterdata.Material", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+", verbose_name=_("product in use"))
    last_product = models.ForeignKey("masterdata.Material", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("last product"))
    current_order = models.CharField(_("order in use"), max_length=40, blank=True)
    last_cleaned_at = models.DateTimeField(_("last cleaned"), null=True, blank=True)
    last_clean_type = models.CharField(_("last clean type"), max_length=10, choices=CleaningType.choices,
                                       blank=True)
    dirty_since = models.DateTimeField(_("dirty since"), null=True, blank=True)
    # New equipment and equipment back from maintenance, out of service or quarantine get a major clean
    # first (equipment.cleaning); a verified major clean clears it.
    major_clean_required = models.BooleanField(_("major clean required"), default=False)
    active = models.BooleanField(_("active"), default=True)  # retired equipment stays, inactive
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "equipment"

    def __str__(self) -> str:
        return self.code


class LogbookEntry(models.Model):
    """The equipment logbook (EQ-01): written by the services, never by hand; append-only."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="logbook")
    occurred_at = models.DateTimeField(_("time"))
    kind = models.CharField(_("entry"), max_length=20, choices=LogKind.choices)
    text = models.TextField(_("text"))  # English summary; the UI renders `details` translated
    details = models.JSONField(default=dict)
    status_before = models.CharField(max_length=20, blank=True)
    status_after = models.CharField(max_length=20, blank=True)
    reference = models.CharField(_("reference"), max_length=60, blank=True)  # order, cleaning, certificate
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["equipment", "occurred_at", "id"]
        indexes = [models.Index(fields=["equipment", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class Qualification(models.Model):
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="qualifications")
    stage = models.CharField(_("stage"), max_length=2, choices=QualificationStage.choices)
    performed_on = models.DateField(_("performed on"))
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)
    valid_until = models.DateField(_("requalification due"), null=True, blank=True)
    document_ref = models.CharField(_("protocol / report"), max_length=100)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["equipment", "-performed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.stage} {self.performed_on}"


class Calibration(models.Model):
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="calibrations")
    performed_on = models.DateField(_("performed on"))
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)
    due_on = models.DateField(_("next calibration due"))
    certificate_ref = models.CharField(_("certificate"), max_length=100)
    performed_by = models.CharField(_("performed by"), max_length=150)  # often an external service provider
    measurements = models.JSONField(default=list, blank=True)  # [{"nominal", "reading", "unit", "tolerance"}]
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["equipment", "-performed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.equipment_id} calibration {self.performed_on}"


class CleaningRecord(models.Model):
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="cleanings")
    clean_type = models.CharField(_("type"), max_length=10, choices=CleaningType.choices)
    state = models.CharField(_("state"), max_length=12, choices=CleaningState.choices,
                             default=CleaningState.IN_PROGRESS)
    previous_product = models.ForeignKey("masterdata.Material", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+", verbose_name=_("previous product"))
    procedure_ref = models.CharField(_("cleaning procedure"), max_length=100, blank=True)
    started_at = models.DateTimeField(_("started"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    finished_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    clean_hold_until = models.DateTimeField(_("clean until"), null=True, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)

    class Meta:
        ordering = ["equipment", "-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.clean_type} {self.started_at:%Y-%m-%d}"


class BalanceCheck(models.Model):
    """The daily check of a balance with test weights (EQ-04): without a passed one today, no weighing."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="balance_checks")
    performed_at = models.DateTimeField(_("performed at"))
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    valid_on = models.DateField(_("valid on"))  # the site-calendar day the check covers
    # [{"weight_id", "nominal", "reading", "tolerance", "unit", "status_code", "source_timestamp", "pass"}]
    points = models.JSONField(default=list)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)

    class Meta:
        ordering = ["equipment", "-performed_at", "-id"]
        indexes = [models.Index(fields=["equipment", "valid_on"])]

    def __str__(self) -> str:
        return f"{self.equipment_id} check {self.valid_on}"


class EquipmentTag(models.Model):
    """Which OPC UA node holds which value of this equipment (a small mapping table per equipment)."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="tags")
    name = models.CharField(_("name"), max_length=60)  # e.g. inlet_air_temperature, packml_state
    kind = models.CharField(_("kind"), max_length=20, choices=TagKind.choices)
    node_id = models.CharField(_("OPC UA node id"), max_length=200)
    unit = models.ForeignKey("masterdata.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit"))
    low_limit = models.DecimalField(_("low limit"), max_digits=18, decimal_places=6, null=True, blank=True)
    high_limit = models.DecimalField(_("high limit"), max_digits=18, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["equipment", "name"]
        constraints = [models.UniqueConstraint(fields=["equipment", "name"], name="equipment_tag_unique_name")]

    def __str__(self) -> str:
        return f"{self.equipment_id}.{self.name}"


class StateEvent(models.Model):
    """A PackML state the equipment entered (from its PLC), the source of availability in OEE."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="state_events")
    state = models.CharField(_("state"), max_length=20)  # PackML: Execute, Held, Suspended, Stopped, Aborted, ...
    source_timestamp = models.DateTimeField(_("source time"))
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["equipment", "source_timestamp", "id"]
        constraints = [models.UniqueConstraint(fields=["equipment", "source_timestamp"],
                                               name="state_event_unique_time")]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.state} {self.source_timestamp}"


class CountSample(models.Model):
    """Cumulative good and reject counters read from the PLC (performance and quality in OEE)."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="count_samples")
    source_timestamp = models.DateTimeField(_("source time"))
    good_count = models.PositiveBigIntegerField(_("good count"))
    reject_count = models.PositiveBigIntegerField(_("reject count"))
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["equipment", "source_timestamp", "id"]
        constraints = [models.UniqueConstraint(fields=["equipment", "source_timestamp"],
                                               name="count_sample_unique_time")]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.good_count}/{self.reject_count}"
