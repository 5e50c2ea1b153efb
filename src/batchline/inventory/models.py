"""Expected receipts: purchase orders / advance shipping notices from the ERP (INTERFACES.md)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


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
