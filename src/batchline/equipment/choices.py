"""Equipment vocabularies: kinds, the status machine's states, record types and results."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EquipmentKind(models.TextChoices):
    BALANCE = "balance", _("Balance / scale")
    GRANULATOR = "granulator", _("Granulator")
    DRYER = "dryer", _("Fluid-bed dryer")
    BLENDER = "blender", _("Blender")
    MILL = "mill", _("Mill / sieve")
    TABLET_PRESS = "tablet_press", _("Tablet press")
    COATER = "coater", _("Coater")
    CAPSULE_FILLER = "capsule_filler", _("Capsule filler")
    BLISTER = "blister", _("Blister packaging machine")
    CARTONER = "cartoner", _("Cartoner")
    VESSEL = "vessel", _("Vessel / tank")
    INSTRUMENT = "instrument", _("Instrument")
    OTHER = "other", pgettext_lazy("equipment kind", "Other")


class EquipmentStatus(models.TextChoices):
    """The status machine (EQ-01). Allowed transitions live in equipment.status (one table)."""

    CLEAN = "clean", pgettext_lazy("equipment status", "Clean")
    IN_USE = "in_use", pgettext_lazy("equipment status", "In use")
    DIRTY = "dirty", pgettext_lazy("equipment status", "Dirty")
    CLEANING = "cleaning", pgettext_lazy("equipment status", "Cleaning")
    MAINTENANCE = "maintenance", pgettext_lazy("equipment status", "Maintenance")
    OUT_OF_SERVICE = "out_of_service", pgettext_lazy("equipment status", "Out of service")
    QUARANTINED = "quarantined", pgettext_lazy("equipment status", "Quarantined")


class LogKind(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    CHANGED = "changed", _("Changed")
    STATUS = "status", _("Status change")
    USE = "use", _("Use")
    CLEANING = "cleaning", _("Cleaning")
    CALIBRATION = "calibration", _("Calibration")
    QUALIFICATION = "qualification", _("Qualification")
    MAINTENANCE = "maintenance", _("Maintenance")
    CHECK = "check", _("Daily check")
    NOTE = "note", _("Note")
    HOLD = "hold", _("Hold time expired")


class QualificationStage(models.TextChoices):
    IQ = "IQ", _("Installation qualification (IQ)")
    OQ = "OQ", _("Operational qualification (OQ)")
    PQ = "PQ", _("Performance qualification (PQ)")
    REQUALIFICATION = "RQ", _("Requalification")


class Result(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    ADJUSTED = "adjusted", _("Pass after adjustment")


class CleaningType(models.TextChoices):
    MINOR = "minor", _("Minor clean (same product)")
    MAJOR = "major", _("Major clean (product change)")


class CleaningState(models.TextChoices):
    IN_PROGRESS = "in_progress", pgettext_lazy("cleaning", "In progress")
    DONE = "done", pgettext_lazy("cleaning", "Done, awaiting verification")
    VERIFIED = "verified", pgettext_lazy("cleaning", "Verified")
    REJECTED = "rejected", pgettext_lazy("cleaning", "Not accepted, clean again")


class TagKind(models.TextChoices):
    PROCESS_VALUE = "process_value", _("Process value")
    STATE = "state", _("PackML state")
    GOOD_COUNT = "good_count", _("Good count")
    REJECT_COUNT = "reject_count", _("Reject count")
