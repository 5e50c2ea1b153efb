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
