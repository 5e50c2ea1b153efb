"""Database triggers that make the audit trail, signatures and seals append-only (AT-03).

The same statements run in the migration, and in tests that must tamper on purpose (as the
database owner would) to prove that verification catches it.
"""

from __future__ import annotations

from typing import Any

APPEND_ONLY_TABLES = ("compliance_auditentry", "compliance_signature", "compliance_auditseal")


def _sqlite_install(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END;",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END;",
    ]


def _sqlite_remove(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]


_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION batchline_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _pg_install(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION batchline_append_only();",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION batchline_append_only();",
    ]


def _pg_remove(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};"]


def install_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [s for t in APPEND_ONLY_TABLES for s in _sqlite_install(t)]
    if vendor == "postgresql":
        return [_PG_FUNCTION] + [s for t in APPEND_ONLY_TABLES for s in _pg_install(t)]
    raise NotImplementedError(f"append-only guards are not written for {vendor}")


def remove_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [s for t in APPEND_ONLY_TABLES for s in _sqlite_remove(t)]
    return [s for t in APPEND_ONLY_TABLES for s in _pg_remove(t)]


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in install_statements(connection.vendor):
            cursor.execute(statement)


def remove(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in remove_statements(connection.vendor):
            cursor.execute(statement)
