"""Access control of the web interface: sign-in everywhere (AC-01), role × screen (AC-02),
system administration kept apart from GMP work (AC-05)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, PathConverter, UUIDConverter
from django.utils.html import escape

from batchline.core.errors import PermissionDenied
from batchline.identity.authz import authorize
from batchline.identity.roles import SYSTEM_ADMINISTRATOR, role_codes, roles_holding

# The only pages an anonymous visitor may use: signing in and choosing the language for it.
OPEN_TO_ANONYMOUS = {"web:login", "web:set_language"}


def _sample(converter: Any) -> Any:
    if isinstance(converter, IntConverter):
        return 1
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    if isinstance(converter, PathConverter):
        return "unit/1"
    return "unit"


def web_urls() -> Iterator[tuple[str, str]]:
    """(url name, a URL that resolves to it) for every pattern in the web namespace."""
    web = next(p for p in get_resolver().url_patterns
               if isinstance(p, URLResolver) and p.namespace == "web")

    def walk(patterns: list[Any]) -> Iterator[URLPattern]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            else:
                yield pattern

    for pattern in walk(web.url_patterns):
        name = f"web:{pattern.name}"
        kwargs = {key: _sample(conv) for key, conv in pattern.pattern.converters.items()}
        yield name, reverse(name, kwargs=kwargs)


WEB_URLS = sorted(web_urls())


def test_the_walk_finds_the_screens() -> None:
    names = {name for name, _ in WEB_URLS}
    assert {"web:home", "web:users", "web:user_detail", "web:password_change", "web:login"} <= names


@pytest.mark.req("AC-01")
@pytest.mark.parametrize(("name", "url"), [u for u in WEB_URLS if u[0] not in OPEN_TO_ANONYMOUS])
@pytest.mark.parametrize("method", ["get", "post"])
def test_every_screen_sends_an_anonymous_visitor_to_sign_in(client: Client, db: None, name: str, url: str,
                                                             method: str) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == 302, f"{name} answered {response.status_code}"
    assert response["Location"].startswith("/login/"), f"{name} sent the visitor to {response['Location']}"


@pytest.mark.req("AC-01")
def test_an_htmx_request_without_a_session_sends_the_whole_page_to_sign_in(client: Client, db: None) -> None:
    response = client.get(reverse("web:user_unlock", args=[1]), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith("/login/")
    assert b"<form" not in response.content


def test_the_sign_in_page_is_open(client: Client, db: None) -> None:
    assert client.get(reverse("web:login")).status_code == 200


# --- role × screen (AC-02) ----------------------------------------------------------------------------

PERSON_ROLES = [r for r in role_codes() if r != "integration"]  # integration accounts cannot sign in

# (url name, permission it needs); None means any signed-in person.
SCREENS = [
    ("web:home", None),
    ("web:password_change", None),
    ("web:users", "identity.manage_users"),
    ("web:user_create", "identity.manage_users"),
    ("web:tokens", "identity.manage_tokens"),
]
ACCOUNT_SCREENS = [
    ("web:user_detail", "identity.manage_users"),
    ("web:user_edit", "identity.manage_users"),
    ("web:user_roles", "identity.manage_users"),
    ("web:user_reset_password", "identity.manage_users"),
    ("web:user_deactivate", "identity.manage_users"),
    ("web:token_create", "identity.manage_tokens"),
]


def may_open(role: str, permission: str | None) -> bool:
    return permission is None or role in roles_holding(permission)


@pytest.mark.req("AC-02")
@pytest.mark.parametrize("role", PERSON_ROLES)
def test_role_screen_matrix(make_user: Any, steward: Any, role: str) -> None:
    client = Client()
    client.force_login(make_user(role))
    urls = [(name, reverse(name), perm) for name, perm in SCREENS]
    urls += [(name, reverse(name, args=[steward.pk]), perm) for name, perm in ACCOUNT_SCREENS]
    for name, url, permission in urls:
        expected = 200 if may_open(role, permission) else 403
        assert client.get(url).status_code == expected, f"{role} on {name}"


@pytest.mark.req("AC-02")
def test_a_refused_screen_names_the_missing_permission(client: Client, steward: Any) -> None:
    client.force_login(steward)
    response = client.get(reverse("web:users"))
    assert response.status_code == 403
    with pytest.raises(PermissionDenied) as refusal:
        authorize(steward, "identity.manage_users")
    assert escape(refusal.value.render()) in response.content.decode()


@pytest.mark.req("AC-02")
def test_a_refused_post_changes_nothing(client: Client, steward: Any, approver: Any) -> None:
    client.force_login(steward)
    response = client.post(reverse("web:user_roles", args=[approver.pk]),
                           {"roles": ["system_administrator"], "reason": "take over"})
    assert response.status_code == 403
    approver.refresh_from_db()
    assert approver.roles == ["qa_reviewer"]


# --- system administration apart from GMP work (AC-05) -----------------------------------------------

GMP_SCREENS = ["web:masterdata_index"]


@pytest.mark.req("AC-05")
@pytest.mark.parametrize("name", GMP_SCREENS)
def test_the_system_administrator_cannot_open_gmp_screens(client: Client, admin_user: Any, name: str) -> None:
    client.force_login(admin_user)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.req("AC-05")
@pytest.mark.parametrize("role", [r for r in PERSON_ROLES if r != SYSTEM_ADMINISTRATOR])
def test_gmp_roles_cannot_open_user_administration(make_user: Any, role: str) -> None:
    client = Client()
    client.force_login(make_user(role))
    assert client.get(reverse("web:users")).status_code == 403
    assert client.get(reverse("web:user_create")).status_code == 403
