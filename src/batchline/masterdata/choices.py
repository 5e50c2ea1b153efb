from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RecordStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    RETIRED = "retired", _("Retired")


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ChangeKind(models.TextChoices):
    UPDATE = "update", _("Change")
    RETIRE = "retire", _("Retire")


class Dimension(models.TextChoices):
    MASS = "mass", _("Mass")
    VOLUME = "volume", _("Volume")
    COUNT = "count", _("Count")
    # What one box, drum or bag holds depends on the material: package units never convert by
    # factor, only through an explicit (usually material-specific) unit conversion.
    PACKAGE = "package", _("Package")
    LENGTH = "length", _("Length")
    AREA = "area", pgettext_lazy("unit dimension", "Area")  # not the master-data kind "Area" (区域)
    TIME = "time", _("Time")
    ACTIVITY = "activity", _("Activity / potency")


class MaterialType(models.TextChoices):
    RAW = "raw", _("Raw material")
    PACKAGING = "packaging", _("Packaging material")
    INTERMEDIATE = "intermediate", _("Intermediate")
    BULK = "bulk", _("Bulk product")
    FINISHED = "finished", _("Finished product")


class StorageCondition(models.TextChoices):
    AMBIENT = "ambient", _("Ambient (15–25 °C)")
    COOL = "cool", _("Cool (2–8 °C)")
    COLD = "cold", _("Cold (≤ -15 °C)")
    FROZEN = "frozen", _("Frozen (≤ -60 °C)")


class CleanroomGrade(models.TextChoices):
    A = "A", _("Grade A")
    B = "B", _("Grade B")
    C = "C", _("Grade C")
    D = "D", _("Grade D")
    CNC = "CNC", _("Controlled not classified")
    UNCLASSIFIED = "U", _("Unclassified")


class LocationType(models.TextChoices):
    STORAGE = "storage", _("Storage")
    QUARANTINE = "quarantine", _("Quarantine")
    DISPENSARY = "dispensary", _("Dispensary")
    LINE_SIDE = "line_side", _("Line-side")
    STAGING = "staging", _("Staging")
    SHIPPING = "shipping", _("Shipping")
    RECEIVING = "receiving", _("Receiving")
    REJECTED = "rejected", _("Rejected goods")


class SupplierQualification(models.TextChoices):
    APPROVED = "approved", _("Approved")
    CONDITIONAL = "conditional", _("Conditionally approved")
    BLOCKED = "blocked", _("Blocked")


class CounterReset(models.TextChoices):
    NEVER = "never", _("Never")
    YEARLY = "yearly", _("Yearly")
    MONTHLY = "monthly", _("Monthly")
    DAILY = "daily", _("Daily")


class CodeMapKind(models.TextChoices):
    MATERIAL = "material", _("Material")
    UNIT = "unit", _("Unit")
    SUPPLIER = "supplier", _("Supplier")
    CUSTOMER = "customer", _("Customer")
    LOCATION = "location", _("Location")
