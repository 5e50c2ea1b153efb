"""What every benchmark script here shares: the throwaway database, Django set-up, the server's
version, percentiles and the rotating order of variants. Imported as `benchkit` (the scripts run as
`python bench/<name>.py`, which puts this folder on the import path)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"


def recreate_postgres_database(url: str) -> str | None:
    """Drop and create the throwaway database; a reason to skip PostgreSQL, or None."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("batchline_bench"):
        return f"refusing to drop {name!r}: the benchmark database's name must start with batchline_bench"
    try:
        with psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                             password=parts.password, dbname="postgres", connect_timeout=3,
                             autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        return f"cannot reach PostgreSQL at {parts.hostname}:{parts.port or 5432} ({str(exc).strip()})"
    return None


def setup_django(database_url: str) -> None:
    # Settings are read from the environment once, at django.setup(): set everything first.
    os.environ["BATCHLINE_DATABASE_URL"] = database_url
    os.environ["BATCHLINE_VAR_DIR"] = str(BENCH_DIR)
    os.environ["BATCHLINE_DEBUG"] = "0"  # DEBUG would keep every query in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "batchline.settings"
    import django

    django.setup()


def server_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def rotated(names: list[str], round_number: int) -> list[str]:
    """A different order each round, so that drift on a shared machine spreads over all variants."""
    shift = round_number % len(names)
    return names[shift:] + names[:shift]
