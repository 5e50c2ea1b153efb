"""Shared fixtures. Every test module builds its data through services, as the application does."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import call_command

pytest_plugins = [
    "plugins.traceability",  # requirement matrix (--traceability=PATH)
    "plugins.warehouse",  # wh, receive, release, receive_released
    "plugins.picking",  # stock, request_for, supervisor (material requests and picking)
    "plugins.opcua",  # device_simulator (one OPC UA server with the official NodeSets), sim
    "pytester",
]

PASSWORD = "Batchline-Test-2026!"


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Argon2 is the production hasher (tests/identity asserts it); tests hash thousands of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    """make_user("data_steward") → an active person holding that role, password PASSWORD,
    who has already replaced the initial password."""
    from batchline.identity import services
    from batchline.identity.models import User

    counter = {"n": 0}

    def make(*roles: str, username: str | None = None, full_name: str | None = None, kind: str = "person") -> Any:
        counter["n"] += 1
        name = username or f"{(roles[0] if roles else 'user').replace('_', '')}{counter['n']}"
        user = services.create_user(actor=None, username=name, full_name=full_name or f"Test {name}",
                                    roles=list(roles), initial_password=PASSWORD if kind == "person" else None,
                                    kind=kind)
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        user.refresh_from_db()
        return user

    return make


@pytest.fixture
def steward(make_user: Callable[..., Any]) -> Any:
    return make_user("data_steward", username="steward", full_name="王明 Wang Ming")


@pytest.fixture
def approver(make_user: Callable[..., Any]) -> Any:
    return make_user("qa_reviewer", username="qareviewer", full_name="李华 Li Hua")


@pytest.fixture
def admin_user(make_user: Callable[..., Any]) -> Any:
    return make_user("system_administrator", username="sysadmin", full_name="赵刚 Zhao Gang")


def sig(user: Any, meaning: str = "approve", password: str = PASSWORD) -> Any:
    """What `user` types into the signature dialog."""
    from batchline.compliance.signatures import SignatureRequest

    return SignatureRequest(password=password, meaning=meaning, username=user.username)


@pytest.fixture
def approved(steward: Any, approver: Any) -> Callable[..., Any]:
    """approved("unit", code="kg", ...) → an item created by `steward` and approved by `approver`."""
    from batchline.masterdata import services
    from batchline.masterdata.registry import kind_of

    def make(kind_slug: str, **data: Any) -> Any:
        kind = kind_of(kind_slug)
        item = services.create_item(actor=steward, kind=kind, data=data)
        return services.approve_item(actor=approver, kind=kind, item_id=item.pk, signature=sig(approver))

    return make


@pytest.fixture
def kg(approved: Callable[..., Any]) -> Any:
    return approved("unit", code="kg", name_zh="千克", name_en="kilogram", dimension="mass", factor="1")


@pytest.fixture(scope="session")
def _test_database_for_threads(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """pytest-django creates the test database only when a collected test asks for `db`. A run of
    committed_db tests alone must get one too, and must never write to (and flush) the configured one."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.settings_dict["NAME"] == connection.creation._get_test_db_name():
        yield
        return
    with django_db_blocker.unblock():
        created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        teardown_databases(created, verbosity=0)


@pytest.fixture
def committed_db(_test_database_for_threads: None, django_db_blocker: Any) -> Iterator[None]:
    """Real commits, for tests with threads. Afterwards the tables are emptied as the database owner
    would: the append-only triggers are lifted for the flush and put back at once."""
    from django.db import connection

    from batchline.compliance import guards

    with django_db_blocker.unblock():
        yield
        tables = guards.guarded_tables(connection)
        guards.remove(connection, tables)
        try:
            call_command("flush", interactive=False, verbosity=0)
        finally:
            guards.install(connection, tables)


def on_postgresql() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


requires_postgresql = pytest.mark.skipif(
    "postgres" not in os.environ.get("BATCHLINE_DATABASE_URL", ""),
    reason="needs PostgreSQL: set BATCHLINE_DATABASE_URL=postgres://... (CI does)",
)
