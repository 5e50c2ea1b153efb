"""inventory: the warehouse (issue 4). Expected receipts from the ERP, lots and containers received
into quarantine, the append-only stock ledger with its balances, FEFO allocation and picking, other
movements, cycle counts, stock alerts and labels. Production reaches it through inventory.port."""
