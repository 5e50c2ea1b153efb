from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from batchline.core.errors import Conflict, InvalidInput


class SupplierNotUsable(InvalidInput):
    code = "supplier_not_usable"
    default_message = _("Supplier {supplier} is {state}; purchase orders need an approved, unblocked supplier.")


class MaterialNotApproved(InvalidInput):
    code = "material_not_approved"
    default_message = _("Material {material} is not approved.")


class PurchaseOrderClosed(Conflict):
    code = "purchase_order_closed"
    default_message = _("Purchase order {po_number} is {status}; it can no longer be changed.")


class PurchaseOrderReceived(Conflict):
    code = "purchase_order_received"
    default_message = _("Purchase order {po_number} already has receipts; its lines can no longer be replaced.")


class LotNotUsable(Conflict):
    """The one refusal of WMS-04: names the lot, what it is today and why that stops the action."""

    code = "lot_not_usable"
    default_message = _("Lot {lot} cannot be used: {reason}")


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_message = _("Container {container} has {available} {unit} available at {location}; {requested} {unit} "
                        "were asked for.")


class NotAtLocation(Conflict):
    code = "not_at_location"
    default_message = _("Container {container} has no stock at location {location}.")


class LocationNotUsable(Conflict):
    code = "location_not_usable"
    default_message = _("Location {location} cannot take this: {reason}")


class WrongContainer(Conflict):
    code = "wrong_container"
    default_message = _("Scanned container {scanned} is not the one to pick: {reason}")
