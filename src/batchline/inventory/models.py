"""Warehouse tables: expected receipts (purchase orders / ASN from the ERP), lots and containers, the
stock ledger and balances, material requests and pick tasks, cycle counts, stock policies and alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from batchline.inventory.choices import (
    AlertKind,
    CountStatus,
    LotOrigin,
    LotStatus,
    MovementType,
    ReasonCode,
    RequestStatus,
    TaskStatus,
)


class PurchaseOrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class PurchaseOrder(models.Model):
    """One purchase order of one source system: its po_number is unique within that system."""

    po_number = models.CharField(_("PO number"), max_length=40)
    source_system = models.CharField(_("source system"), max_length=40)
    supplier = models.ForeignKey("masterdata.Supplier", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("supplier"))
    status = models.CharField(_("status"), max_length=10, choices=PurchaseOrderStatus.choices,
                              default=PurchaseOrderStatus.OPEN)
    received_at = models.DateTimeField(_("received at"))  # when the ERP's latest version arrived
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["source_system", "po_number"],
                                               name="purchase_order_unique_number")]

    def __str__(self) -> str:
        return f"{self.source_system} {self.po_number}"


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(_("line"))
    material = models.ForeignKey("masterdata.Material", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("material"))
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=6)
    unit = models.ForeignKey("masterdata.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    expected_date = models.DateField(_("expected date"))
    received_quantity = models.DecimalField(_("received quantity"), max_digits=18, decimal_places=6,
                                            default=Decimal("0"))

    class Meta:
        ordering = ["purchase_order", "line_no"]
        constraints = [models.UniqueConstraint(fields=["purchase_order", "line_no"],
                                               name="purchase_order_line_unique")]

    def __str__(self) -> str:
        return f"{self.purchase_order} / {self.line_no}"


# --- Lots, containers and stock ---------------------------------------------------------------------
#
# The stock ledger is the append-only Movement table; StockBalance holds the current quantity per
# (container, location) and is only ever changed by inventory.ledger, in the same transaction as the
# movement that explains the change, with the rows locked in primary-key order (DESIGN.md §3.8).
# CHECK constraints make a negative on-hand or a reservation above on-hand impossible even for a bug.



class Lot(models.Model):
    """A quantity of one material with one history: received from a supplier or made in a batch."""

    number = models.CharField(_("lot"), max_length=40, unique=True)
    material = models.ForeignKey("masterdata.Material", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("material"))
    status = models.CharField(_("status"), max_length=12, choices=LotStatus.choices, default=LotStatus.QUARANTINE)
    restriction = models.TextField(_("restriction"), blank=True)  # what a restricted lot may be used for
    origin = models.CharField(_("origin"), max_length=12, choices=LotOrigin.choices, default=LotOrigin.RECEIPT)
    supplier = models.ForeignKey("masterdata.Supplier", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("supplier"))
    supplier_lot = models.CharField(_("supplier lot"), max_length=60, blank=True)
    purchase_order_line = models.ForeignKey(PurchaseOrderLine, null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="lots", verbose_name=_("purchase order line"))
    manufactured_on = models.DateField(_("manufacture date"), null=True, blank=True)
    expires_on = models.DateField(_("expiry date"), null=True, blank=True)
    retest_on = models.DateField(_("retest date"), null=True, blank=True)
    inspection_required = models.BooleanField(_("incoming inspection required"), default=False)
    received_at = models.DateTimeField(_("received at"))
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("received by"))
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["material", "status"])]

    def __str__(self) -> str:
        return self.number

    def signature_content(self) -> dict[str, Any]:
        """What a status signature binds to: identity, status and the dates that decide usability."""
        return {"number": self.number, "material_id": self.material_id, "status": self.status,
                "restriction": self.restriction, "expires_on": self.expires_on, "retest_on": self.retest_on}


class Container(models.Model):
    """One labelled physical unit of a lot (drum, bag, carton). `code` is printed on its label."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="containers", verbose_name=_("lot"))
    serial = models.PositiveIntegerField(_("container number"))
    code = models.CharField(_("container"), max_length=60, unique=True)
    split_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("split from"))
    created_at = models.DateTimeField(_("created at"))
    labels_printed = models.PositiveIntegerField(_("labels printed"), default=0)

    class Meta:
        ordering = ["lot", "serial"]
        constraints = [models.UniqueConstraint(fields=["lot", "serial"], name="container_unique_serial")]

    def __str__(self) -> str:
        return self.code


class StockBalance(models.Model):
    """Quantity of one container at one location, in the material's base unit. `reserved` is what
    open pick tasks hold of it. Changed only by inventory.ledger and inventory.allocation."""

    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="balances")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="balances")
    material = models.ForeignKey("masterdata.Material", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("masterdata.Location", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("masterdata.Unit", on_delete=models.PROTECT, related_name="+")
    on_hand = models.DecimalField(_("on hand"), default=Decimal("0"), max_digits=18, decimal_places=6)
    reserved = models.DecimalField(_("reserved"), default=Decimal("0"), max_digits=18, decimal_places=6)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["container", "location"], name="balance_unique_container_location"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="balance_on_hand_not_negative"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="balance_reserved_not_negative"),
            models.CheckConstraint(condition=models.Q(reserved__lte=models.F("on_hand")),
                                   name="balance_reserved_within_on_hand"),
        ]
        indexes = [models.Index(fields=["material", "location"]), models.Index(fields=["lot"]),
                   models.Index(fields=["location"])]

    def __str__(self) -> str:
        return f"{self.container_id}@{self.location_id}: {self.on_hand}"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class Movement(models.Model):
    """One line of the append-only stock ledger (database triggers refuse UPDATE and DELETE). Takes
    `quantity` out of `from_location` and/or into `to_location`; the quantity is always positive."""

    movement_type = models.CharField(_("movement type"), max_length=12, choices=MovementType.choices)
    material = models.ForeignKey("masterdata.Material", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements")
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="movements")
    from_location = models.ForeignKey("masterdata.Location", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("from"))
    to_location = models.ForeignKey("masterdata.Location", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("to"))
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=6)
    unit = models.ForeignKey("masterdata.Unit", on_delete=models.PROTECT, related_name="+")
    reason_code = models.CharField(_("reason code"), max_length=20, choices=ReasonCode.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    reference = models.CharField(_("reference"), max_length=60, blank=True)  # PO, order, request, count
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(_("time"))
    correlation_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="movement_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(from_location__isnull=False) | models.Q(to_location__isnull=False),
                name="movement_has_a_location"),
        ]
        indexes = [models.Index(fields=["lot", "id"]), models.Index(fields=["container", "id"]),
                   models.Index(fields=["material", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.movement_type} {self.quantity} {self.container_id}"


# --- Material preparation (INTERFACES.md exchange 1): requests, allocations as pick tasks ------------

class MaterialRequest(models.Model):
    """An order's requirement of one material: allocated FEFO from released stock into pick tasks."""

    order_ref = models.CharField(_("order"), max_length=40)
    source_system = models.CharField(_("source system"), max_length=40, default="BATCHLINE")
    material = models.ForeignKey("masterdata.Material", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("material"))
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                            verbose_name=_("requested lot"))
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=6)  # in the material's base unit
    unit = models.ForeignKey("masterdata.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    need_by = models.DateField(_("needed by"))
    to_location = models.ForeignKey("masterdata.Location", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("deliver to"))
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    allocated_quantity = models.DecimalField(_("allocated"), default=Decimal("0"), max_digits=18, decimal_places=6)
    picked_quantity = models.DecimalField(_("picked"), default=Decimal("0"), max_digits=18, decimal_places=6)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["need_by", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="request_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.order_ref} / {self.pk}"


class PickTask(models.Model):
    """Take `quantity` of one container from one location (reserved on its balance row until done)."""

    request = models.ForeignKey(MaterialRequest, on_delete=models.PROTECT, related_name="tasks")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+", verbose_name=_("lot"))
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="+", verbose_name=_("container"))
    from_location = models.ForeignKey("masterdata.Location", on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("from"))
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=6)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    picked_quantity = models.DecimalField(_("picked"), default=Decimal("0"), max_digits=18, decimal_places=6)
    picked_container = models.ForeignKey(Container, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")  # the new container when the pick split one
    created_at = models.DateTimeField(_("created at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")

    class Meta:
        ordering = ["request", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="pick_quantity_positive")]
        indexes = [models.Index(fields=["status", "container"])]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.pk}"


# --- Cycle counts (WMS-07) -------------------------------------------------------------------------

class CycleCount(models.Model):
    number = models.CharField(_("count"), max_length=40, unique=True)
    location = models.ForeignKey("masterdata.Location", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("location"))
    status = models.CharField(_("status"), max_length=10, choices=CountStatus.choices, default=CountStatus.OPEN)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class CycleCountLine(models.Model):
    count = models.ForeignKey(CycleCount, on_delete=models.CASCADE, related_name="lines")
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="+", verbose_name=_("container"))
    # the book quantity when the count was opened
    expected = models.DecimalField(_("expected"), max_digits=18, decimal_places=6)
    counted = models.DecimalField(_("counted"), null=True, blank=True, max_digits=18, decimal_places=6)
    unit = models.ForeignKey("masterdata.Unit", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["count", "id"]
        constraints = [models.UniqueConstraint(fields=["count", "container"], name="count_line_unique_container")]

    def __str__(self) -> str:
        return f"{self.count_id}/{self.container_id}"


# --- Stock policy and alerts (WMS-08) ---------------------------------------------------------------

class StockPolicy(models.Model):
    """Per-material alert thresholds (audited configuration)."""

    material = models.OneToOneField("masterdata.Material", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("material"))
    safety_stock = models.DecimalField(_("safety stock"), null=True, blank=True, max_digits=18,  # base unit
                                       decimal_places=6)
    expiry_warning_days = models.PositiveIntegerField(_("warn days before expiry"), default=90)
    retest_warning_days = models.PositiveIntegerField(_("warn days before retest"), default=30)
    slow_moving_days = models.PositiveIntegerField(_("slow-moving after days without movement"), default=180)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["material"]

    def __str__(self) -> str:
        return f"policy {self.material_id}"


class StockAlert(models.Model):
    """A raised alert; cleared when its condition no longer holds. One open alert per subject."""

    kind = models.CharField(_("alert"), max_length=12, choices=AlertKind.choices)
    material = models.ForeignKey("masterdata.Material", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("material"))
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                            verbose_name=_("lot"))
    details = models.JSONField(default=dict)  # the figures behind the alert (quantity, dates)
    raised_at = models.DateTimeField(_("raised at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "material", "lot"],
                                    condition=models.Q(cleared_at__isnull=True, lot__isnull=False),
                                    name="alert_one_open_per_lot"),
            models.UniqueConstraint(fields=["kind", "material"],
                                    condition=models.Q(cleared_at__isnull=True, lot__isnull=True),
                                    name="alert_one_open_per_material"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.material_id} {self.lot_id or ''}"
