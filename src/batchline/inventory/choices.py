"""Warehouse vocabularies: lot status, movement types, reason codes, task states."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LotStatus(models.TextChoices):
    """The stored QC status of a lot (WMS-03). Expired and retest-due are not stored: they are
    derived from the lot's dates on the day asked (inventory.usability)."""

    QUARANTINE = "quarantine", pgettext_lazy("lot status", "Quarantine")
    RELEASED = "released", pgettext_lazy("lot status", "Released")
    REJECTED = "rejected", pgettext_lazy("lot status", "Rejected")
    RESTRICTED = "restricted", pgettext_lazy("lot status", "Restricted")


class DerivedLotState(models.TextChoices):
    """What a lot is on a given day: its stored status, or expired / retest due from its dates."""

    QUARANTINE = "quarantine", pgettext_lazy("lot status", "Quarantine")
    RELEASED = "released", pgettext_lazy("lot status", "Released")
    REJECTED = "rejected", pgettext_lazy("lot status", "Rejected")
    RESTRICTED = "restricted", pgettext_lazy("lot status", "Restricted")
    EXPIRED = "expired", pgettext_lazy("lot status", "Expired")
    RETEST_DUE = "retest_due", pgettext_lazy("lot status", "Retest due")


class LotOrigin(models.TextChoices):
    RECEIPT = "receipt", _("Goods receipt")
    PRODUCTION = "production", _("Production")
    SPLIT = "split", _("Split")


class MovementType(models.TextChoices):
    """Every change of stock is one of these (WMS-06, WMS-07). A movement takes `quantity` out of
    `from_location` and/or puts it into `to_location` (receipt: to only; scrap: from only)."""

    RECEIPT = "receipt", _("Goods receipt")
    PUTAWAY = "putaway", _("Putaway")
    TRANSFER = "transfer", _("Transfer")
    PICK = "pick", _("Pick")
    SPLIT_OUT = "split_out", _("Split (taken from container)")
    SPLIT_IN = "split_in", _("Split (into new container)")
    ISSUE = "issue", _("Issue to production")
    RETURN = "return", _("Return to stock")
    SCRAP = "scrap", _("Scrap")
    SAMPLE = "sample", _("Sample withdrawal")
    COUNT_GAIN = "count_gain", _("Count adjustment (gain)")
    COUNT_LOSS = "count_loss", _("Count adjustment (loss)")
    SHIPMENT = "shipment", _("Shipment")


class ReasonCode(models.TextChoices):
    """Why stock moved other than by plan (returns, scrap, counts). The reason text explains more."""

    DAMAGED = "damaged", _("Damaged")
    EXPIRED = "expired", pgettext_lazy("reason code", "Expired")
    CONTAMINATED = "contaminated", _("Contaminated")
    REJECTED_BY_QC = "rejected_by_qc", _("Rejected by QC")
    SURPLUS = "surplus", _("Surplus from production")
    ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
    COUNT_DIFFERENCE = "count_difference", _("Count difference")
    QC_SAMPLE = "qc_sample", _("QC sample")
    RETENTION_SAMPLE = "retention_sample", _("Retention sample")
    OTHER = "other", _("Other")


class RequestStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("material request", "Open")
    ALLOCATED = "allocated", _("Allocated")
    PARTIALLY_ALLOCATED = "partial", _("Partially allocated")
    PICKED = "picked", _("Picked")
    CANCELLED = "cancelled", pgettext_lazy("material request", "Cancelled")


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task", "Open")
    DONE = "done", pgettext_lazy("task", "Done")
    CANCELLED = "cancelled", pgettext_lazy("task", "Cancelled")


class CountStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("cycle count", "Open")
    COUNTED = "counted", _("Counted, awaiting approval")
    APPROVED = "approved", pgettext_lazy("cycle count", "Approved")
    REJECTED = "rejected", pgettext_lazy("cycle count", "Rejected")


class AlertKind(models.TextChoices):
    SAFETY_STOCK = "safety_stock", _("Below safety stock")
    EXPIRY = "expiry", _("Approaching expiry")
    EXPIRED = "expired", _("Expired stock")
    RETEST = "retest", _("Retest due")
    SLOW_MOVING = "slow_moving", _("Slow-moving stock")
