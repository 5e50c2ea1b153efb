"""compliance: audit trail, electronic signatures, reason for change, integrity verification."""
