"""inventory: stock and its movements. Issue 3 brings the expected receipts (purchase orders / ASN
from the ERP) that the warehouse will receive against."""
