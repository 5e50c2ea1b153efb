"""Fixtures for the REST API: a JSON client per caller (API token or signed-in session)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.test import Client

from api.helpers import ApiClient


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient(Client())


@pytest.fixture
def session_for() -> Callable[[Any], ApiClient]:
    """session_for(user) → that person signed in to the web session (CSRF not enforced)."""

    def make(user: Any) -> ApiClient:
        client = Client()
        client.force_login(user)
        return ApiClient(client)

    return make


@pytest.fixture
def issue_token(admin_user: Any) -> Callable[..., str]:
    """issue_token(user, scopes=[...]) → the bearer secret of a new token of that account."""
    from batchline.identity import services

    counter = {"n": 0}

    def issue(
        user: Any, scopes: list[str] | tuple[str, ...] = ("masterdata.*",), expires_at: datetime | None = None
    ) -> str:
        counter["n"] += 1
        _token, secret = services.create_api_token(
            actor=admin_user,
            user_id=user.pk,
            name=f"token {counter['n']}",
            scopes=list(scopes),
            expires_at=expires_at,
        )
        return secret

    return issue


@pytest.fixture
def token_for(issue_token: Callable[..., str]) -> Callable[..., ApiClient]:
    """token_for(user, scopes) → a client calling with that account's new token."""

    def make(user: Any, scopes: list[str] | tuple[str, ...] = ("masterdata.*",)) -> ApiClient:
        return ApiClient(Client(), {"Authorization": f"Bearer {issue_token(user, scopes)}"})

    return make


@pytest.fixture
def erp(make_user: Callable[..., Any]) -> Any:
    """The ERP's integration account: it upserts materials through the data steward's services."""
    return make_user("integration", "data_steward", username="erp", full_name="ERP", kind="integration")
