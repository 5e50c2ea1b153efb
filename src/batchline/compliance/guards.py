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


def install_statements(vendor: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    if vendor == "sqlite":
        return [s for t in tables for s in _sqlite_install(t)]
    if vendor == "postgresql":
        return [_PG_FUNCTION] + [s for t in tables for s in _pg_install(t)]
    raise NotImplementedError(f"append-only guards are not written for {vendor}")


def remove_statements(vendor: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    if vendor == "sqlite":
        return [s for t in tables for s in _sqlite_remove(t)]
    return [s for t in tables for s in _pg_remove(t)]


def install(connection: Any, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> None:
    """Make `tables` append-only (other contexts' ledgers use this too: the stock movements)."""
    with connection.cursor() as cursor:
        for statement in install_statements(connection.vendor, tables):
            cursor.execute(statement)


def remove(connection: Any, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        for statement in remove_statements(connection.vendor, tables):
            cursor.execute(statement)


def guarded_tables(connection: Any) -> tuple[str, ...]:
    """Every table that carries the append-only triggers now (the audit trail's and other contexts'
    ledgers and logbooks): for a database owner's maintenance, e.g. emptying a test database."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_no_update'")
        else:
            cursor.execute("SELECT DISTINCT event_object_table FROM information_schema.triggers "
                           "WHERE trigger_name LIKE '%_append_only'")
        return tuple(sorted(row[0] for row in cursor.fetchall()))

